"""``hf-hybrid export``: a trained model → ONNX or OpenVINO files beside it, optionally quantized (:mod:`hf_hybrid.export`)."""

from __future__ import annotations

import sys

from hf_hybrid.commands.arguments import parse
from hf_hybrid.errors import cli_entry
from hf_hybrid.export import ExportConfig, export


@cli_entry
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-"):
        argv = ["--model", argv[0], *argv[1:]]  # `hf-hybrid export MODEL …`
    (cfg,) = parse(argv, ExportConfig, description=__doc__)
    path = export(cfg)
    file_name = path.relative_to(path.parents[1]).as_posix()
    print(f"wrote {path}")
    print(f"load it: SentenceTransformer({str(path.parents[1])!r}, backend={cfg.backend!r}, "
          f"model_kwargs={{'file_name': {file_name!r}}})  # or --backend {cfg.backend} in hf-hybrid")
    return 0

