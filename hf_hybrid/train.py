"""``accelerate launch -m hf_hybrid.train`` (or ``python -m hf_hybrid.train``): fine-tune a bi-encoder with a
batch plan (hybrid, sequential, …). The run itself is :func:`hf_hybrid.training.train`; this module is its command
line, and keeps ``from hf_hybrid.train import TrainConfig, train`` working.

Device, precision and process count belong to Accelerate (``accelerate launch``), not to our flags. Checkpoints
count only once complete, so a killed run always resumes (``--resume``) from a complete checkpoint and — the plan
being a function of (seed, step) — on exactly the batches it would have had.
"""

from __future__ import annotations

import json
import sys

from hf_hybrid.config import parse
from hf_hybrid.errors import cli_entry
from hf_hybrid.sampling import PlanConfig
from hf_hybrid.training import TrainConfig, train, validate_run
from hf_hybrid.training.files import RUN_MARKER, TRAINING_RECORD
from hf_hybrid.training.run import accelerate_state

RECORD = TRAINING_RECORD  # the name other modules import from here

__all__ = ["RECORD", "RUN_MARKER", "TrainConfig", "main", "train", "validate_run"]


@cli_entry
def main(argv: list[str] | None = None) -> int:
    train_cfg, plan_cfg = parse(argv, TrainConfig, PlanConfig, description=__doc__)
    if train_cfg.dry_run:
        from hf_hybrid.check import check_train

        report = check_train(train_cfg, plan_cfg)
        print(report.render())
        return report.exit_code
    out = train(train_cfg, plan_cfg)
    if accelerate_state().is_main_process:
        record = json.loads((out / RECORD).read_text())
        print(f"model saved to {out} ({record['steps']} steps, {record['samples_per_second']} samples/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
