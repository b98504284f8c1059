"""Write a sentence-transformers model's network as ONNX (fp32 or int8) or OpenVINO, where sentence-transformers
looks for it (``onnx/model.onnx``, ``onnx/model_qint8_quantized.onnx``, ``openvino/openvino_model.xml``).

Why these tools (see :mod:`hf_hybrid.backends` for why not optimum):

* ``torch.onnx.export`` with the TorchScript tracer (``dynamo=False``): BERT-family encoders trace to one static
  graph, batch and sequence axes kept dynamic; the dynamo exporter would add ``onnxscript`` for nothing here.
* ``onnxruntime.quantization.quantize_dynamic``: int8 weights, per output channel (one scale per row of every
  linear layer: 250k-piece multilingual models have rows of very different magnitude, and one scale per tensor lost
  too much), activations quantized on the fly. ``MatMulConstBOnly`` leaves the two attention products
  (activation × activation) in fp32: quantizing them costs accuracy and saves no weight memory. Measured on
  multilingual-e5-small: cosine ≥ 0.99 to fp32 (the parity test) at several times the speed (benchmarks/).
* ``openvino.convert_model`` reads the ONNX file (fp32, or the int8 one) and ``save_model`` writes IR.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from hf_hybrid.atomic import atomic_path
from hf_hybrid.backends import backend_file

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


class _LastHiddenState(torch.nn.Module):
    """The network called by keyword (transformers 5 moved ``use_cache`` before ``token_type_ids``), returning the
    one tensor sentence-transformers pools."""

    def __init__(self, network, names: tuple[str, ...]):
        super().__init__()
        self.network, self.names = network, names

    def forward(self, *tensors):
        return self.network(**dict(zip(self.names, tensors, strict=True)), return_dict=True).last_hidden_state


def export_onnx(model, folder: Path) -> Path:
    """Trace ``model``'s network into ``folder/onnx/model.onnx`` (atomically; returns the path)."""
    network = model[0].auto_model.eval()
    sample = model[0].tokenizer(["a short text", "a somewhat longer text to pad against"], padding=True,
                                return_tensors="pt")
    names = tuple(n for n in INPUT_NAMES if n in sample and n in _accepted_inputs(network))
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*names, "last_hidden_state")}
    dest = folder / backend_file("onnx")
    with atomic_path(dest, suffix=".onnx") as tmp, torch.no_grad():
        torch.onnx.export(_LastHiddenState(network, names), tuple(sample[n] for n in names), str(tmp),
                          input_names=list(names), output_names=["last_hidden_state"], dynamic_axes=dynamic,
                          opset_version=OPSET, dynamo=False)
    return dest


def _accepted_inputs(network) -> set[str]:
    import inspect

    return set(inspect.signature(network.forward).parameters)


def quantize_onnx(folder: Path) -> Path:
    """``onnx/model.onnx`` → ``onnx/model_qint8_quantized.onnx`` (dynamic int8, per channel; see module doc)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dest = folder / backend_file("onnx"), folder / backend_file("onnx", "int8")
    with atomic_path(dest, suffix=".onnx") as tmp:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"MatMulConstBOnly": True})
    return dest


def convert_openvino(folder: Path, quantize: str | None) -> Path:
    """The ONNX file for ``quantize`` → OpenVINO IR (``.xml`` + ``.bin``) under ``openvino/``."""
    import openvino as ov

    src = folder / backend_file("onnx", quantize)
    dest = folder / backend_file("openvino", quantize)
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch = dest.parent / f".{dest.stem}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        # IR is two files (.xml graph, .bin weights): write both beside, move the weights first, so a reader that
        # finds the .xml always finds its .bin complete.
        ov.save_model(ov.convert_model(str(src)), str(scratch / dest.name), compress_to_fp16=False)
        (scratch / dest.with_suffix(".bin").name).replace(dest.with_suffix(".bin"))
        (scratch / dest.name).replace(dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return dest
