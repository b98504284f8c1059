"""The training stage as a package; ``hf_hybrid.train`` is the ``accelerate launch -m`` entry point.

* :mod:`~hf_hybrid.training.config` — ``TrainConfig``;
* :mod:`~hf_hybrid.training.checks` — ``validate_run``: every check before anything is written;
* :mod:`~hf_hybrid.training.run_folder` — fingerprint, the folder rules, claim, final save;
* :mod:`~hf_hybrid.training.trainer` — ``HybridTrainer`` (per-kind logs, two-phase schedule, optimizer reset);
* :mod:`~hf_hybrid.training.schedule`, :mod:`~hf_hybrid.training.losses`, :mod:`~hf_hybrid.training.checkpoints`,
  :mod:`~hf_hybrid.training.record`;
* :mod:`~hf_hybrid.training.run` — ``train()``, the story of a run.
"""

from hf_hybrid.training.checks import RunInputs, validate_run
from hf_hybrid.training.config import TrainConfig
from hf_hybrid.training.files import RUN_MARKER, TRAINING_RECORD
from hf_hybrid.training.run import train

__all__ = ["RUN_MARKER", "TRAINING_RECORD", "RunInputs", "TrainConfig", "train", "validate_run"]
