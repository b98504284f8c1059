"""``hf-hybrid experiment --config configs/experiments/<name>.yaml`` / ``python -m hf_hybrid.experiments``: run the
grid's unfinished cells and write its report (:mod:`hf_hybrid.experiments`). ``--combine dirA dirB --report
docs/results.md`` merges finished experiments; ``--report_only`` writes the report of the runs finished so far (of a
grid still running elsewhere) and trains nothing; ``--dry_run`` checks the config (:mod:`hf_hybrid.check`)."""

from __future__ import annotations

import shlex
import sys

from hf_hybrid.commands.arguments import parse
from hf_hybrid.errors import cli_entry
from hf_hybrid.experiments import ExperimentConfig, combine, run_experiment, write_experiment_report


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # --dry_run is an action, not a setting of the grid: kept out of ExperimentConfig so that the config recorded
    # in every run and report (and the run fingerprints) stay what they were
    dry_run, report_only = "--dry_run" in args, "--report_only" in args
    args = [a for a in args if a not in ("--dry_run", "--report_only")]
    (cfg,) = parse(args, ExperimentConfig, description=__doc__)
    if dry_run:
        from hf_hybrid.check import check_experiment

        report = check_experiment(cfg)
        print(report.render())
        return report.exit_code
    command = "python -m hf_hybrid.experiments " + shlex.join(args)
    if cfg.combine:
        path = combine(cfg.combine, cfg.report or "docs/results.md", cfg.figures_dir, command)
        print(f"combined report: {path}")
        return 0
    if report_only:  # the runs on disk as they are: an unfinished grid's report names the runs it lacks
        print(f"report of the finished runs, nothing trained: {write_experiment_report(cfg, command)}")
        return 0
    run_experiment(cfg, command)
    return 0
