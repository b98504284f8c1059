"""Run an exported model inside sentence-transformers: a runtime session where the PyTorch network was.

sentence-transformers' ``Transformer`` module tokenizes, calls its network with ``input_ids``, ``attention_mask``
(and ``token_type_ids``) and reads ``last_hidden_state``; pooling, normalization and prompts follow. Swapping only
the network keeps all of that sentence-transformers' own, so an exported model encodes, prompts and pools exactly
as the PyTorch one does (why this is hand-written: see :mod:`hf_hybrid.backends`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import numpy as np
import torch

from hf_hybrid.backends import BACKEND_FILES, BACKENDS, RUNTIME_EXTRA
from hf_hybrid.errors import UserError


def require_runtime(backend: str) -> None:
    """A one-line error naming the extra to install when ``backend``'s runtime is missing."""
    if backend not in BACKENDS:
        raise UserError("backend", repr(backend), f"use one of {', '.join(BACKENDS)}")
    if backend == "torch":
        return
    module, extra = RUNTIME_EXTRA[backend]
    if importlib.util.find_spec(module) is None:
        raise UserError("backend", f"{backend} needs the {module} package, which is not installed",
                        f"pip install '{extra}'")


class RuntimeNetwork(torch.nn.Module):
    """Stands in for the Hugging Face network: same inputs, ``last_hidden_state`` out, computed by a runtime.

    ``config`` is the original network's (sentence-transformers reads ``output_hidden_states`` from it). The
    exported file's SHA-256 is kept as a buffer: it gives the module a device (``SentenceTransformer.device`` looks
    for one) and puts the file's identity into ``state_dict``, which is what the evaluation's and the demo's
    embedding caches fingerprint — so an int8 model never reads the fp32 model's cached vectors.
    """

    def __init__(self, run, input_names: list[str], config, file_sha256: bytes):
        super().__init__()
        self._run, self.input_names, self.config = run, input_names, config
        self.register_buffer("file_sha256", torch.tensor(list(file_sha256), dtype=torch.uint8))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, **_unused) -> dict:
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        if given["attention_mask"] is None:
            given["attention_mask"] = torch.ones_like(input_ids)
        if given["token_type_ids"] is None:
            given["token_type_ids"] = torch.zeros_like(input_ids)
        feed = {name: given[name].cpu().numpy().astype(np.int64) for name in self.input_names}
        return {"last_hidden_state": torch.from_numpy(np.ascontiguousarray(self._run(feed)))}


def _onnx_runner(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", 0) or 0)  # 0: all cores
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    output = session.get_outputs()[0].name
    return (lambda feed: session.run([output], feed)[0]), [i.name for i in session.get_inputs()]


def _openvino_runner(path: Path):
    import openvino as ov

    compiled = ov.Core().compile_model(str(path), "CPU")
    names = [port.any_name for port in compiled.inputs]
    request = compiled.create_infer_request()

    def run(feed: dict) -> np.ndarray:
        return request.infer(feed)[compiled.outputs[0]].copy()

    return run, names


def _sha256(paths: list[Path]) -> bytes:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.digest()


def load_exported(model_dir: str | Path, backend: str, file_name: str | None = None, quantize: str | None = None):
    """A ``SentenceTransformer`` for the folder whose network runs on ``backend`` from ``file_name``
    (default: the file :func:`~hf_hybrid.backends.backend_file` names for ``quantize``)."""
    from sentence_transformers import SentenceTransformer

    require_runtime(backend)
    folder = Path(model_dir)
    relative = file_name or BACKEND_FILES[(backend, quantize)]
    path = folder / relative
    if not path.is_file():
        raise UserError("backend", f"{str(folder)!r} has no {relative}",
                        f"run `hf-hybrid export {folder} --backend {backend}"
                        f"{' --quantize int8' if 'qint8' in relative else ''}` first")
    model = SentenceTransformer(str(folder), device="cpu", trust_remote_code=False)
    run, names = (_onnx_runner if backend == "onnx" else _openvino_runner)(path)
    transformer = model[0]
    files = [path, path.with_suffix(".bin")] if backend == "openvino" else [path]  # IR: graph + weights
    transformer.model = RuntimeNetwork(run, names, transformer.model.config, _sha256(files))  # torch weights dropped
    model.eval()
    return model
