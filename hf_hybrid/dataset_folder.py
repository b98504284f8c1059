"""The one writer of a dataset folder, as ``hf-hybrid build`` and ``hf-hybrid mine`` leave it: ``parallel/`` (a
``DatasetDict`` ``save_to_disk`` folder), ``plans/<name>/`` for each materialized plan, ``summary.json`` and the
dataset card (``README.md``, :mod:`hf_hybrid.dataset_card`).

All or nothing: everything is written into a hidden temp folder beside ``output`` and renamed into place
(:func:`hf_hybrid.atomic.atomic_dir`), so a build killed mid-write leaves no ``output``, and ``hf-hybrid push`` or
``load_from_disk`` never read half a dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

from datasets import DatasetDict

from hf_hybrid.atomic import atomic_dir, check_new_folder
from hf_hybrid.dataset_card import render_dataset_card


def save_dataset_folder(output: str, parallel: DatasetDict, summary: dict, *,
                        plans: dict[str, DatasetDict] | None = None, card: dict | None = None) -> Path:
    """Write ``parallel``, each of ``plans`` (name → rows), ``summary`` and the card rendered from ``summary`` plus
    ``card`` (extra card fields, e.g. the plan's settings) into the new folder ``output``; returns its path."""
    check_new_folder(output)
    with atomic_dir(output) as tmp:
        parallel.save_to_disk(str(tmp / "parallel"))
        for name, rows in (plans or {}).items():
            rows.save_to_disk(str(tmp / "plans" / name))
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        (tmp / "README.md").write_text(str(render_dataset_card({**summary, **(card or {})})))
    return Path(output)
