"""The strategy grid and its report (the command is ``hf-hybrid experiment --config configs/experiments/<name>.yaml``
or ``python -m hf_hybrid.experiments``: :mod:`hf_hybrid.commands.experiment`).

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

from pathlib import Path

from hf_hybrid.experiments.config import DEFAULT_ROWS, MINIATURE, ExperimentConfig, plan_settings
from hf_hybrid.experiments.grid import run_grid
from hf_hybrid.experiments.report import combine, summarize, write_experiment_report


def run_experiment(cfg: ExperimentConfig, command: str = "", log=print) -> Path:
    """Run the unfinished cells of the grid, then write its report; returns the report path."""
    counts = run_grid(cfg, log=log)
    report = write_experiment_report(cfg, command)
    log(f"{counts['trained']} runs trained, {counts['skipped']} skipped; report: {report}")
    return report


__all__ = ["MINIATURE", "DEFAULT_ROWS", "ExperimentConfig", "combine", "plan_settings", "run_experiment",
           "run_grid", "summarize", "write_experiment_report"]
