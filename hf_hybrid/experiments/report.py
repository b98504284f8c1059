"""The grid's report: tables (mean ± 95 % interval over seeds), paired significance, plots, reproduction.

Everything is computed from the runs on disk (``runs/**/results.json`` and ``units.npz``) into ``summary.json``;
the Markdown and the figures are rendered from that summary, so no number in a report is typed by hand, and
:func:`combine` can merge several experiments (the synthetic miniature and the real-language grid) into
``docs/results.md`` without running anything again.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hf_hybrid.atomic import write_text
from hf_hybrid.evaluation.report import versions
from hf_hybrid.evaluation.results import find_suite
from hf_hybrid.experiments.config import BM25, PARALLEL_SUITE, ExperimentConfig
from hf_hybrid.experiments.figures import write_figures
from hf_hybrid.experiments.findings import setups_compared
from hf_hybrid.experiments.grid import read_run, results_file, run_folder
from hf_hybrid.experiments.markdown import SUBSETS, TABLE_METRICS, limits, render
from hf_hybrid.experiments.stats import SETTINGS, mean_ci, paired_bootstrap, with_adjusted_p


def _load_runs(cfg: ExperimentConfig, tag: str, strategy: str) -> list[tuple[dict, dict]]:
    runs = []
    for seed in cfg.seeds:
        folder = run_folder(cfg, tag, strategy, seed)
        if results_file(folder).exists():
            runs.append(read_run(folder))
    return runs


def _suite_values(result: dict, suite_name: str, subset: str, metric: str) -> float | None:
    try:
        suite = find_suite(result["suites"], suite_name)
    except KeyError:
        return None
    if subset == "all":
        return suite["metrics"].get(metric)
    return suite.get("by_resource", {}).get(subset, {}).get(metric)


def table_shape(suite: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Columns and level rows of a suite's table: LAReQA's four for the multilingual suites; a suite grouped by
    resource level (BEIR pairs, translation retrieval) shows its own headline metrics per level; others their main
    score."""
    if suite["type"] == "multilingual":
        return TABLE_METRICS, SUBSETS
    if suite.get("by_resource"):
        return tuple(k for k in suite["metrics"] if k.split(".")[0] in ("mono", "cross", "en_to_low")), SUBSETS
    return (suite["main_score"],), ("all",)


def _cell(values: list) -> dict:
    mean, half = mean_ci([v for v in values if v is not None])
    return {"mean": mean, "ci": half, "values": values}


def summarize(cfg: ExperimentConfig, command: str = "") -> dict:
    """Aggregate the finished runs of ``cfg`` into the summary that tables, plots and docs are made from."""
    from hf_hybrid.experiments.config import model_tag

    config = asdict(cfg)
    models = {}
    wall = 0.0
    for model in cfg.models:
        tag = model_tag(model)
        runs = {s: _load_runs(cfg, tag, s) for s in cfg.rows()}
        runs = {s: r for s, r in runs.items() if r}
        if not runs:
            continue
        wall += sum(r["settings"]["train_wall_s"] + r["settings"]["eval_wall_s"] for rs in runs.values() for r, _ in rs)
        first = next(iter(runs.values()))[0][0]
        suites = {}
        for suite in first["suites"]:
            name = suite["name"]
            metrics, subsets = table_shape(suite)
            suites[name] = {"type": suite["type"], "main_score": suite["main_score"], "metrics": metrics,
                            "subsets": subsets, "table": {
                s: {sub: {m: _cell([_suite_values(r, name, sub, m) for r, _ in rs]) for m in metrics}
                    for sub in subsets} for s, rs in runs.items()}}
        models[tag] = {"base_model": first["settings"]["base_model"], "suites": suites,
                       "seeds": {s: [r["settings"]["seed"] for r, _ in rs] for s, rs in runs.items()},
                       "pairs": {s: _mean_pairs([r for r, _ in rs]) for s, rs in runs.items()},
                       "scripts": first["settings"].get("scripts", {}),
                       "wise_dev": _dev_choices(runs),
                       # the max_seq_length each row read texts at (None: a run from before it was recorded)
                       "scored_lengths": {s: sorted({r["settings"].get("max_seq_length") for r, _ in rs}, key=str)
                                          for s, rs in runs.items() if s != BM25},  # bm25 reads whole texts
                       "significance": _significance(cfg, runs),
                       "contrasts": _negatives_contrasts(cfg, runs),
                       "steps_per_kind": {s: rs[0][0]["settings"]["training"].get("steps_per_kind")
                                          for s, rs in runs.items()}}
    levels = find_suite(first["suites"], PARALLEL_SUITE)["resource_levels"] if models else {}
    chance = _chance_ap(find_suite(first["suites"], PARALLEL_SUITE)) if models else None
    pretraining = cfg.folder / "pretraining.json"
    return {"schema": "hf-hybrid/experiment/v1", "name": cfg.name, "title": cfg.title or cfg.name,
            "config": config, "rows": cfg.rows(), "command": command, "versions": versions(), "levels": levels,
            "train_languages": first["settings"]["train_languages"] if models else [],
            "pretraining": json.loads(pretraining.read_text()) if pretraining.exists() else None,
            "wall_s": round(wall, 1), "chance_single_language_ap": chance, "bootstrap": cfg.bootstrap, "reference": cfg.reference,
            "models": corrected(models)}


def _dev_choices(runs: dict) -> dict:
    """Per ``+wise@dev`` row, the α each seed picked on the dev set and its worst dev change against the base."""
    from hf_hybrid.experiments.dev_merge import worst_change

    picks = {}
    for row, rs in runs.items():
        for result, _ in rs:
            dev = result["settings"].get("wise_dev")
            if dev:
                alpha = result["settings"]["wise_ft"]
                picks.setdefault(row, []).append({"seed": result["settings"]["seed"], "alpha": alpha,
                                                  "change": worst_change(dev["base"], dev["scores"][f"{alpha:g}"])})
    return picks


def corrected(models: dict) -> dict:
    """Every paired test of ``models`` (a summary's) with its Holm-adjusted p beside the raw one, within its family
    (:func:`~hf_hybrid.experiments.stats.family_of`). Recomputed from the raw p-values whenever a summary is read,
    so a summary written before the correction existed reports the same as a new one."""
    for model in models.values():
        for kind in ("significance", "contrasts"):
            model[kind] = with_adjusted_p(model.get(kind, []))
    return models


def _chance_ap(suite: dict) -> float:
    """Expected AP of a random ranking for one relevant among the n candidates of one language: H_n / n.

    Printed beside the x→y scores, so a reader sees at once whether a model learned to cross languages at all."""
    n = max(1, round(suite["sizes"]["candidates"] / len(suite["languages"])))
    return float(sum(1.0 / k for k in range(1, n + 1)) / n)


def _mean_pairs(results: list[dict]) -> dict:
    pairs = [find_suite(r["suites"], PARALLEL_SUITE)["pairs"] for r in results]
    return {x: {y: float(np.mean([p[x][y]["map"] for p in pairs])) for y in pairs[0][x]} for x in pairs[0]}


def _significance(cfg: ExperimentConfig, runs: dict) -> list[dict]:
    """Reference strategy against every other: paired bootstrap over query groups per (setting, subset)."""
    if cfg.reference not in runs:
        return []
    return [row for baseline in runs if baseline != cfg.reference
            for row in _paired(cfg, runs, cfg.reference, baseline)]


def _negatives_contrasts(cfg: ExperimentConfig, runs: dict) -> list[dict]:
    """Each strategy trained on translation-aware mined negatives (``<s>+mined``) against the same strategy without
    them (``<s>``) and with group-blind mining (``<s>+generic``). Issue 18 asks what excluding a row's translations
    is worth: that is the second contrast, which the reference-against-all table gives only when the reference
    is the mined strategy itself."""
    rows = []
    for strategy in runs:
        if not strategy.endswith("+mined"):
            continue
        parent = strategy.removesuffix("+mined")
        for baseline in (parent, f"{parent}+generic"):
            if baseline in runs:
                rows += [{"strategy": strategy, **row} for row in _paired(cfg, runs, strategy, baseline)]
    return rows


def _paired(cfg: ExperimentConfig, runs: dict, strategy: str, baseline: str) -> list[dict]:
    """``strategy`` − ``baseline`` per (setting, subset): paired bootstrap over query groups, on the seeds both
    finished (:func:`hf_hybrid.experiments.stats.paired_bootstrap`)."""
    ref = {r["settings"]["seed"]: u for r, u in runs[strategy]}
    base = {r["settings"]["seed"]: u for r, u in runs[baseline]}
    seeds = sorted(set(ref) & set(base))
    if not seeds:
        return []
    units = ref[seeds[0]]
    rows = []
    for setting in SETTINGS:
        for subset in SUBSETS:
            mask = units["setting"] == setting
            if subset != "all":
                mask &= units["level"] == subset
            if not mask.any():
                continue
            test = paired_bootstrap([ref[s]["ap"][mask] for s in seeds], [base[s]["ap"][mask] for s in seeds],
                                    units["group"][mask], samples=cfg.bootstrap, seed=0)
            rows.append({"baseline": baseline, "setting": setting, "subset": subset, "seeds": seeds, **test})
    return rows


def write_experiment_report(cfg: ExperimentConfig, command: str = "") -> Path:
    """summary.json, figures and the Markdown report of one experiment; returns the report path."""
    summary = summarize(cfg, command)
    report = Path(cfg.report) if cfg.report else cfg.folder / "report.md"
    figures = Path(cfg.figures_dir) if cfg.figures_dir else report.parent / "figures"
    write_figures(summary, figures)
    write_text(cfg.folder / "summary.json", json.dumps(summary, indent=2, default=_json_default) + "\n")
    if cfg.summary_copy:
        write_text(cfg.summary_copy, json.dumps(summary, indent=2, default=_json_default) + "\n")
    body = [render(summary, os.path.relpath(figures, report.parent)), *limits([summary])]
    write_text(report, "\n".join(body) + "\n")
    return report


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


def combine(folders: list[str], report: str, figures_dir: str, command: str = "") -> Path:
    """Merge finished experiments (each with a ``summary.json``) into one Markdown document, its figures drawn
    again from the summaries."""
    from hf_hybrid.errors import UserError

    report_path = Path(report)
    figures = Path(figures_dir) if figures_dir else report_path.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    sections, summaries = [], []
    for folder in folders:
        # A finished experiment folder, or a summary kept apart from it (docs/summaries/<name>.json): the report
        # can then be regenerated after the run folders, which hold model outputs, are gone.
        summary_file = Path(folder) if Path(folder).is_file() else Path(folder) / "summary.json"
        if not summary_file.exists():
            raise UserError("combine", f"{folder!r} has no summary.json",
                            "run that experiment first (python -m hf_hybrid.experiments --config ...)")
        summary = json.loads(summary_file.read_text())
        corrected(summary["models"])
        summaries.append(summary)
        write_figures(summary, figures)
        sections.append(render(summary, os.path.relpath(figures, report_path.parent), heading=2))
    head = ["# Hybrid vs sequential batches: results measured with hf-hybrid", "",
            "Generated by `" + (command or "python -m hf_hybrid.experiments --combine ...") + "` from the "
            "experiments below; every number comes from their `summary.json`. Each section says how to rerun it.",
            ""]
    write_text(report_path, "\n".join(head + sections + setups_compared(summaries) + limits(summaries)))
    return report_path
