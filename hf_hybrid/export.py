"""``hf-hybrid export MODEL --backend onnx|openvino [--quantize int8]``: fast CPU inference files for a model.

Writes the exported network into the model folder where sentence-transformers looks for it (``onnx/…``,
``openvino/…``; see :mod:`hf_hybrid.backends`), so ``hf-hybrid push`` uploads it with the model, and
``evaluate`` / ``experiment`` / ``demo`` load it with ``--backend``. A model given by Hub id (or an offline name such
as ``intfloat/multilingual-e5-small``) is first saved to ``--output``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hf_hybrid.backends import BACKEND_FILES, BACKENDS, backend_file
from hf_hybrid.config import check_types
from hf_hybrid.errors import UserError
from hf_hybrid.ranges import check_ranges

EXPORTS = tuple(b for b in BACKENDS if b != "torch")
QUANTIZED = tuple(dict.fromkeys(q for _, q in BACKEND_FILES if q))  # int8, q8, q4


@dataclass
class ExportConfig:
    model: str = field(metadata={"help": "a sentence-transformers model folder, Hub id or offline name",
                                 "kind": "model"})
    backend: str = field(default="onnx", metadata={"help": "onnx | openvino", "choices": EXPORTS})
    quantize: str | None = field(default=None, metadata={"help": "int8 (dynamic, fastest) | q8 | q4 (block-wise "
                                                                 "weights, closest to fp32); ONNX only, int8 also "
                                                                 "for OpenVINO",
                                                         "choices": QUANTIZED})
    output: str | None = field(default=None, metadata={"help": "folder to save a Hub / offline model into first "
                                                               "(default: export into MODEL, which must be a folder)",
                                                       "kind": "output"})

    def validate(self) -> None:
        check_types(self)
        check_ranges(self)  # every choice and kind declared above
        backend_file(self.backend, self.quantize)  # one-line error for a combination that does not exist


def target_folder(cfg: ExportConfig) -> Path:
    """The sentence-transformers folder the files go into; refuses one that is not a model."""
    source = Path(cfg.model).expanduser()
    if cfg.output is None and not source.is_dir():
        raise UserError("model", f"{cfg.model!r} is not a local folder",
                        "pass --output DIR to save it there and export into that copy")
    folder = Path(cfg.output).expanduser() if cfg.output else source
    if cfg.output and folder.exists() and any(folder.iterdir()) and not (folder / "modules.json").is_file():
        raise UserError("output", f"{cfg.output!r} exists and is not a sentence-transformers model",
                        "choose a new or empty folder")
    if not cfg.output and not (folder / "modules.json").is_file():
        raise UserError("model", f"{cfg.model!r} is not a sentence-transformers model folder (no modules.json)",
                        "export a folder written by `hf-hybrid train` or SentenceTransformer.save")
    return folder


def export(cfg: ExportConfig) -> Path:
    """Export and return the written file (see the module doc)."""
    from hf_hybrid.backends.export import convert_openvino, export_onnx, quantize_onnx
    from hf_hybrid.backends.runtime import require_runtime
    from hf_hybrid.models import load_model

    cfg.validate()
    require_runtime("onnx")  # every path goes through ONNX first
    require_runtime(cfg.backend)
    folder = target_folder(cfg)
    model = load_model(cfg.model, device="cpu")
    from sentence_transformers.base.modules import Router

    if isinstance(model[0], Router):  # train_side query: two transformers, and the ONNX graph holds one
        raise UserError("model", f"{cfg.model!r} is a query-side model (a query and a document encoder behind a "
                        "Router)", "export its query encoder's folder (query_0_Transformer) or the base instead")
    if cfg.output and not (folder / "modules.json").is_file():
        from hf_hybrid.atomic import atomic_dir

        with atomic_dir(folder) as tmp:
            model.save(str(tmp))
    export_onnx(model, folder)  # always: every other file is made from it, and the weights may have changed
    if cfg.quantize:
        quantize_onnx(folder, cfg.quantize)
    if cfg.backend == "openvino":
        return convert_openvino(folder, cfg.quantize)
    return folder / backend_file("onnx", cfg.quantize)
