"""The training stage as a package; its command is :mod:`hf_hybrid.commands.train` (``accelerate launch -m
hf_hybrid.train``).

* :mod:`~hf_hybrid.training.config` — ``TrainConfig``;
* :mod:`~hf_hybrid.training.checks` — ``validate_run``: every check before anything is written;
* :mod:`~hf_hybrid.training.run_folder` — fingerprint, the folder rules, claim, final save;
* :mod:`~hf_hybrid.training.trainer` — ``HybridTrainer`` (per-kind logs, two-phase schedule, optimizer reset);
* :mod:`~hf_hybrid.training.schedule`, :mod:`~hf_hybrid.training.losses`, :mod:`~hf_hybrid.training.checkpoints`,
  :mod:`~hf_hybrid.training.record`;
* :mod:`~hf_hybrid.training.run` — ``train()``, the story of a run;
* :mod:`~hf_hybrid.training.hybrid_batches` — ``HybridBatches``: the same plan, arguments and loss for a plain
  ``SentenceTransformerTrainer`` in your own script (exported as ``hf_hybrid.HybridBatches``).

The names below are imported on first use (PEP 562), not with the package: reading a training record
(:mod:`~hf_hybrid.training.files`, what cards and the demo's model labels need) must not import torch,
sentence-transformers and the trainer, which cost the demo's start 6 CPU seconds before its page could come up.
"""

from importlib import import_module

_LAZY = {"RunInputs": "checks", "validate_run": "checks", "TrainConfig": "config", "RUN_MARKER": "files",
         "TRAINING_RECORD": "files", "train": "run"}

__all__ = ["RUN_MARKER", "TRAINING_RECORD", "RunInputs", "TrainConfig", "train", "validate_run"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"hf_hybrid.training.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'hf_hybrid.training' has no attribute {name!r}")
