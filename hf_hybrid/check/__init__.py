"""``hf-hybrid check CONFIG``: a dry run of a config, before renting a GPU for it.

Reads a training config (``configs/*.yaml``), an experiment config (``configs/experiments/*.yaml``) or an
Accelerate config (``configs/accelerate/*.yaml``), told apart by their keys, and checks everything that could
fail hours into the run (see :mod:`hf_hybrid.check.runs`). Prints a short summary and exits 0, or prints one
line per problem (setting, offending value, fix) and exits 2. Nothing is trained, downloaded beyond configs and
tokenizers, or written.

    hf-hybrid check configs/xlmr-hybrid.yaml
    hf-hybrid check configs/experiments/xlmr.yaml --num_processes 8
    hf-hybrid check configs/xlmr-hybrid.yaml --mirror /data/hub-copies   # <owner>__<name>/ local copies

Python::

    from hf_hybrid.check import check_config
    report = check_config("configs/xlmr-hybrid.yaml")
    assert report.ok, report.render()
"""

from __future__ import annotations

import difflib
from dataclasses import fields
from pathlib import Path

import yaml

from hf_hybrid.check.report import CheckReport, FileEntry
from hf_hybrid.check.runs import check_evaluate, check_experiment, check_train
from hf_hybrid.errors import UserError

EXPERIMENT_KEYS = {"models", "strategies", "seeds", "reference", "suites", "mteb_tasks"}
ACCELERATE_KEYS = {"compute_environment", "distributed_type"}


def kind_of(data: dict) -> str:
    """``accelerate``, ``experiment`` or ``train``, from the keys of a YAML mapping."""
    if ACCELERATE_KEYS & set(data):
        return "accelerate"
    return "experiment" if EXPERIMENT_KEYS & set(data) else "train"


def _unknown_keys(data: dict, types: tuple, path: str, report: CheckReport) -> None:
    """Every unknown setting at once (the run itself stops at the first), with the nearest valid name."""
    known = sorted({f.name for t in types for f in fields(t)})
    for key in data:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            report.problem(f"{path}: {key}", "unknown setting",
                           f"did you mean {near[0]!r}?" if near else "remove it (see --help for the settings)")


def check_accelerate(path: str) -> CheckReport:
    """An Accelerate config file parses as Accelerate parses it (``accelerate launch --config_file``)."""
    from accelerate.commands.config.config_args import load_config_from_file

    report = CheckReport("accelerate", config=path)
    try:
        config = load_config_from_file(path)
    except Exception as err:  # accelerate raises TypeError/ValueError/KeyError on bad files; one line
        report.problem(path, f"not an Accelerate config ({type(err).__name__}: {str(err).splitlines()[0][:120]})",
                       "write it with `accelerate config --config_file PATH`")
        return report
    report.summary.update({"distributed_type": str(config.distributed_type), "num_processes": config.num_processes,
                           "mixed_precision": str(config.mixed_precision)})
    return report


def check_config(path: str, *, mirror: str | None = None, num_processes: int | None = None,
                 online: bool | None = None, read_large: bool = False) -> CheckReport:
    """Dry run of the config at ``path``, whichever kind it is; see :mod:`hf_hybrid.check.runs`."""
    from hf_hybrid.config import from_values, load_yaml

    try:
        data = yaml.safe_load(Path(path).read_text()) if Path(path).is_file() else None
    except yaml.YAMLError as err:
        report = CheckReport("config", config=path)
        report.problem(path, f"not valid YAML ({str(err).splitlines()[0]})", "fix the YAML")
        return report
    if not isinstance(data, dict):
        report = CheckReport("config", config=path)
        report.problem(path, "not found or not a mapping of setting: value", "give a YAML config file")
        return report
    kind = kind_of(data)
    if kind == "accelerate":
        return check_accelerate(path)
    options = {"mirror": mirror, "num_processes": num_processes, "online": online, "read_large": read_large}
    if kind == "experiment":
        from hf_hybrid.experiments.config import ExperimentConfig

        types = (ExperimentConfig,)
    else:
        from hf_hybrid.sampling import PlanConfig
        from hf_hybrid.training import TrainConfig

        types = (TrainConfig, PlanConfig)
    report = CheckReport(kind, config=path)
    _unknown_keys(data, types, path, report)
    if report.problems:
        return report
    with report.collect():
        parsed = from_values(load_yaml(path, types), *types, ranges=False)  # each validate reports its ranges
        report.merge(check_experiment(*parsed, **options) if kind == "experiment" else check_train(*parsed, **options))
    return report


__all__ = ["CheckReport", "FileEntry", "UserError", "check_accelerate", "check_config", "check_evaluate",
           "check_experiment", "check_train", "kind_of"]
