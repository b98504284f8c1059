"""``python -m hf_hybrid.experiments --config configs/experiments/<name>.yaml`` (or ``hf-hybrid experiment``).

How does hybrid batch training (arXiv 2408.10536) compare with sequential fine-tuning, monolingual-only,
cross-lingual-only and mixed batches for zero-shot retrieval, above all for low-resource languages queried
cross-lingually? This runs the grid strategies × seeds × base models (:mod:`~hf_hybrid.experiments.grid`), skips
runs finished earlier, and writes the report (:mod:`~hf_hybrid.experiments.report`): tables with 95 % intervals
over seeds, a paired bootstrap of the reference strategy against every baseline, the α curve, heatmaps, and the
exact settings and versions. ``--combine dirA dirB --report docs/results.md`` merges finished experiments;
``--report_only`` writes the report of the runs finished so far (of a grid still running elsewhere) and trains
nothing.

Python API::

    from hf_hybrid.experiments import ExperimentConfig, run_experiment
    report = run_experiment(ExperimentConfig(name="mini", data="synthetic:train_groups=500", seeds=[0, 1, 2]))
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from hf_hybrid.errors import cli_entry
from hf_hybrid.experiments.grid import MINIATURE, STRATEGIES, ExperimentConfig, plan_settings, run_grid
from hf_hybrid.experiments.report import combine, summarize, write_report


def run_experiment(cfg: ExperimentConfig, command: str = "", log=print) -> Path:
    """Run the unfinished cells of the grid, then write its report; returns the report path."""
    counts = run_grid(cfg, log=log)
    report = write_report(cfg, command)
    log(f"{counts['trained']} runs trained, {counts['skipped']} skipped; report: {report}")
    return report


@cli_entry
def main(argv: list[str] | None = None) -> int:
    from hf_hybrid.config import parse

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
        print(f"report of the finished runs, nothing trained: {write_report(cfg, command)}")
        return 0
    run_experiment(cfg, command)
    return 0


__all__ = ["MINIATURE", "STRATEGIES", "ExperimentConfig", "combine", "main", "plan_settings", "run_experiment",
           "run_grid", "summarize", "write_report"]
