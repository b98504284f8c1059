"""The files a training run writes into its output folder, spelled once, and the one reader and writer of its
training record (``hf_hybrid_training.json``: what the card generator, ``evaluate``, ``push`` and the grid read).

Every reader goes through :func:`read_training_record`, so a folder that is not a finished hf-hybrid run, or a record
of another schema, gets one error line naming the file instead of a ``KeyError`` three modules later.
"""

from __future__ import annotations

import json
from pathlib import Path

from hf_hybrid.atomic import write_json
from hf_hybrid.errors import UserError

TRAINING_RECORD = "hf_hybrid_training.json"  # what the card generator, evaluate and push read; written last
TRAINING_SCHEMA = "hf-hybrid/training/v1"  # the record's "schema" field
RUN_MARKER = "hf_hybrid_run.json"  # claims the folder for one run (its fingerprint), written before training
CHECKPOINT_COMPLETE = "hf_hybrid_checkpoint.json"  # written into checkpoint-N once every process has saved it


def write_training_record(model_dir: str | Path, record: dict) -> Path:
    """Write ``record`` (with its ``schema`` set) atomically into ``model_dir``: written last, its presence means the
    folder holds a complete model."""
    return write_json(Path(model_dir) / TRAINING_RECORD, {**record, "schema": TRAINING_SCHEMA})


def read_training_record(model_dir: str | Path, *, required: bool = True) -> dict | None:
    """The record saved beside the model. A folder without one is an error when ``required``, else ``None`` (a model
    that hf-hybrid did not train); an unreadable record or one of another schema is always an error."""
    path = Path(model_dir) / TRAINING_RECORD
    if not path.is_file():
        if not required:
            return None
        raise UserError("model folder", f"{str(model_dir)!r} has no {TRAINING_RECORD} (not a finished hf-hybrid run)",
                        "pass a folder written by `hf-hybrid train`")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError("training record", f"cannot read {str(path)!r} ({err.__class__.__name__})",
                        "use a folder written by `hf-hybrid train`") from err
    if not isinstance(record, dict) or record.get("schema") != TRAINING_SCHEMA:
        found = record.get("schema") if isinstance(record, dict) else type(record).__name__
        raise UserError("training record", f"{str(path)!r} has schema {found!r}, expected {TRAINING_SCHEMA!r}",
                        "use a folder written by `hf-hybrid train`")
    return record
