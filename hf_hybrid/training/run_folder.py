"""The run folder: what identifies a run, whether ``output_dir`` may take it, claiming it, and the final save.

Rules, decided under the folder's lock (:mod:`hf_hybrid.locks`) before anything is written:

* a new or empty folder takes the run;
* a folder claimed by the same config (:func:`fingerprint`) with a complete checkpoint is an *interrupted* run:
  ``--resume`` continues it on exactly the batches it would have had (the plan is a function of (seed, step)),
  provided the training data is unchanged; without ``--resume`` it is refused, so nothing is lost by a typo;
* a *finished* run is kept unless ``--overwrite_output_dir``; then the new run is trained in a folder beside it
  and renamed onto it only once complete — the finished model is never deleted before its successor exists;
* anything else (another run, a folder that is not ours, a file, a read-only place) is a one-line error.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from hf_hybrid.atomic import output_folder_problem, replace_dir, save_into, write_json
from hf_hybrid.errors import UserError
from hf_hybrid.sampling import PlanConfig
from hf_hybrid.training.checkpoints import drop_incomplete, last_complete_checkpoint
from hf_hybrid.training.config import TrainConfig
from hf_hybrid.training.files import RUN_MARKER, TRAINING_RECORD, write_training_record

CHECKPOINTS = "checkpoints"
# Settings that change where a run is written or logged, not its weights.
_NOT_IDENTITY = {"output_dir", "resume", "overwrite_output_dir", "logging_steps", "report_to", "trace_batches",
                 "push_to_hub", "private", "save_steps", "save_total_limit", "eval_steps", "dry_run",
                 "prefix_cache", "prefix_cache_dir"}  # the cache changes how fast, not what is computed


# Settings added after runs were made: at these values (off) they leave those runs' fingerprints unchanged, so an
# interrupted run still resumes after an upgrade.
_ADDED_OFF = {"distill_weight": 0.0, "beta": 0.0, "train_side": "both"}


def _identity(config) -> dict:
    return {k: v for k, v in asdict(config).items()
            if k not in _NOT_IDENTITY and not (k in _ADDED_OFF and v == _ADDED_OFF[k])}


def fingerprint(train: TrainConfig, plan: PlanConfig) -> str:
    """What identifies a run: everything that changes the weights (not where it is written or logged)."""
    payload = _identity(train) | {"plan": _identity(plan)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class RunFolder:
    """Where a run ends up (``out``), where it writes while it trains (``work``: ``out`` itself, or a folder beside
    it when it replaces a finished run), and the checkpoint it resumes from."""

    out: Path
    work: Path
    resume_from: Path | None = None
    replaces_finished: bool = False

    @property
    def checkpoints(self) -> Path:
        return self.work / CHECKPOINTS


def check_output_path(out: Path) -> None:
    """A file, or a place this user cannot write, is refused before anything else is touched."""
    if problem := output_folder_problem(out):
        raise UserError("output_dir", problem, "choose a --output_dir folder you can write to")


def _staging(out: Path) -> Path:
    return out.parent / f".{out.name}.next"


def inspect_output(train: TrainConfig, plan: PlanConfig, data_fingerprint: str | None) -> RunFolder:
    """Decide, reading only, what this run may do with ``output_dir`` (see the module docstring).

    ``data_fingerprint`` None (a dry run, which reads only the first rows of the data) skips the check that
    ``--resume`` continues on unchanged data; ``train`` always passes it."""
    out = Path(train.output_dir)
    marker = out / RUN_MARKER
    if not marker.exists():
        if out.exists() and any(p.name != "trace" for p in out.iterdir()):
            raise UserError("output_dir", f"{str(out)!r} exists and is not an hf-hybrid run",
                            "choose a new or empty --output_dir")
        if train.resume:
            raise UserError("resume", f"{str(out)!r} holds no interrupted run to resume",
                            "drop --resume to start a new run, or point --output_dir at the interrupted one")
        return RunFolder(out, out)
    previous = json.loads(marker.read_text())
    finished = (out / TRAINING_RECORD).exists()
    if finished and train.overwrite_output_dir:
        return RunFolder(out, _staging(out), replaces_finished=True)
    if previous.get("fingerprint") != fingerprint(train, plan):
        raise UserError("output_dir", f"{str(out)!r} holds another run ({previous.get('strategy')}, "
                        f"{previous.get('model')})", "choose a new --output_dir (or --overwrite_output_dir "
                        "to replace a finished run)")
    if finished:
        raise UserError("output_dir", f"{str(out)!r} already holds this finished run",
                        "pass --overwrite_output_dir to train it again, or choose a new --output_dir")
    last = last_complete_checkpoint(out / CHECKPOINTS)
    if not train.resume:
        if last is not None:
            raise UserError("output_dir", f"{str(out)!r} holds an interrupted run of this config",
                            "pass --resume to continue it, or choose a new --output_dir")
        return RunFolder(out, out)  # interrupted before its first checkpoint: it starts over
    if last is None:
        raise UserError("resume", f"{str(out)!r} holds no complete checkpoint to resume from",
                        "run again without --resume to start it over")
    if data_fingerprint is not None and previous.get("data_fingerprint") != data_fingerprint:
        raise UserError("data", f"{train.data!r} changed since the interrupted run in {str(out)!r} was started",
                        "resume with the data it was started with, or start a new run in a new --output_dir")
    return RunFolder(out, out, resume_from=last)


def claim(folder: RunFolder, train: TrainConfig, plan: PlanConfig, data_fingerprint: str) -> None:
    """Mark the work folder as this run's (main process, under the lock, once every input has been checked)."""
    if folder.replaces_finished:
        shutil.rmtree(folder.work, ignore_errors=True)  # a replacement that was itself interrupted
    folder.work.mkdir(parents=True, exist_ok=True)
    drop_incomplete(folder.checkpoints)
    write_json(folder.work / RUN_MARKER, {"fingerprint": fingerprint(train, plan), "strategy": plan.describe(),
                                          "model": train.model, "data_fingerprint": data_fingerprint})


def finish(folder: RunFolder, model, record: dict) -> None:
    """Save the model beside the run's other files, write the training record last (its presence means the folder
    holds a complete model), then, when replacing a finished run, rename the new folder onto the old one."""
    save_into(folder.work, lambda tmp: model.save(str(tmp)))
    write_training_record(folder.work, record)
    if folder.replaces_finished:
        replace_dir(folder.work, folder.out)
