"""Checkpoints that ``--resume`` can trust: a checkpoint counts only once it is known to be complete.

transformers' ``Trainer`` writes ``checkpoint-N`` file by file (model, optimizer, scheduler, one RNG state per
process, trainer state) and offers no public way to write it elsewhere and rename it, so a run killed while saving
leaves a partial folder that ``get_last_checkpoint`` would happily pick. Instead of overriding the private
``_save_checkpoint``, we keep the trainer's own saving and add a *commit marker*, the database way: the public
``on_save`` callback runs after the trainer has written the whole checkpoint; it waits for every process (each
writes its own RNG state), then the main process writes :data:`CHECKPOINT_COMPLETE` atomically. Resume considers
only marked checkpoints; unmarked ones are leftovers of a kill and are deleted before training continues.

Rotation (``save_total_limit``) is done here too, after the marker, and counts only complete checkpoints: the
trainer's own rotation runs *before* ``on_save`` and could delete the last complete checkpoint while the new one
is not yet marked, so we pass it ``save_total_limit=None``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from hf_hybrid.atomic import write_json
from hf_hybrid.training.files import CHECKPOINT_COMPLETE

_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


def _by_step(folder: Path) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := _NAME.match(p.name))]
    return sorted(found)


def complete_checkpoints(folder: str | Path) -> list[Path]:
    """The checkpoints in ``folder`` that carry the completion marker, oldest first."""
    return [p for _, p in _by_step(Path(folder)) if (p / CHECKPOINT_COMPLETE).is_file()]


def last_complete_checkpoint(folder: str | Path) -> Path | None:
    done = complete_checkpoints(folder)
    return done[-1] if done else None


def drop_incomplete(folder: str | Path) -> None:
    """Delete the checkpoints a kill left half-written (they would otherwise be rotated as if they were real)."""
    for _, path in _by_step(Path(folder)):
        if not (path / CHECKPOINT_COMPLETE).is_file():
            shutil.rmtree(path, ignore_errors=True)


class CommitCheckpoints(TrainerCallback):
    """Mark each checkpoint complete once every process has written its part, then rotate old ones."""

    def __init__(self, keep: int | None):
        self.keep = keep

    def on_save(self, args, state, control, **kwargs):
        from accelerate import PartialState

        partial = PartialState()
        partial.wait_for_everyone()  # every process has written its RNG state into the checkpoint
        if partial.is_main_process:
            folder = Path(args.output_dir)
            checkpoint = folder / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
            write_json(checkpoint / CHECKPOINT_COMPLETE, {"step": state.global_step})
            if self.keep:
                for old in complete_checkpoints(folder)[:-self.keep]:
                    shutil.rmtree(old, ignore_errors=True)
        partial.wait_for_everyone()
        return control
