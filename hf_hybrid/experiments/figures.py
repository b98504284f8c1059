"""The grid's figures, drawn from an experiment's ``summary.json``: bars with intervals, the α curve, heatmaps, and
the trade-off between the in-domain gain and the translation retrieval lost."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from hf_hybrid.evaluation.report import save_figure
from hf_hybrid.experiments.config import BASE, PARALLEL_SUITE
from hf_hybrid.experiments.markdown import alpha_rows, has_alpha_curve, wise_curves
from hf_hybrid.experiments.tradeoff import (
    IN_DOMAIN_METRICS,
    gain,
    tradeoff_suites,
    trained_rows,
    translation_columns,
)
from hf_hybrid.experiments.variants import WISE


def write_figures(summary: dict, folder: Path) -> list[Path]:
    """Per model: grouped bars (setting × strategy, with the 95 % intervals), the heatmaps, the α curve where the grid
    has two α values or more and, where the summary has a translation suite, the trade-off figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for tag, model in summary["models"].items():
        table = model["suites"][PARALLEL_SUITE]["table"]
        figures = [_bars(plt, summary, tag, table), _heatmaps(plt, summary, tag, model["pairs"])]
        if has_alpha_curve(table):
            figures.append(_alpha_curve(plt, summary, tag, table))
        if tradeoff_suites(model):
            figures.append(_tradeoff(plt, summary, tag, model))
        for fig, name in figures:
            written.append(save_figure(fig, folder / name))
    return written


def _tradeoff(plt, summary: dict, tag: str, model: dict):
    """The trade-off a user chooses from: the in-domain gain over the base (rows: cross.map and multi.map) against
    the change in translation retrieval (columns: each translation suite's cross.map and en→low mAP; left of 0 is
    lost), one point per trained strategy and remedy, its error bars the 95 % intervals over seeds of both
    differences. WiSE-FT rows are hollow, joined to their strategy and the base (the origin): the α path."""
    from matplotlib.lines import Line2D

    columns, rows = translation_columns(model), trained_rows(model)
    parallel = model["suites"][PARALLEL_SUITE]["table"]
    parents = list(dict.fromkeys(s.split(WISE)[0] for s in rows))
    palette = plt.get_cmap("tab10" if len(parents) <= 10 else "tab20")
    colors = {p: palette(i % palette.N) for i, p in enumerate(parents)}
    fig, axes = plt.subplots(len(IN_DOMAIN_METRICS), len(columns), squeeze=False,
                             figsize=(3.4 * len(columns) + 2.6, 3.2 * len(IN_DOMAIN_METRICS)))
    for r, y_metric in enumerate(IN_DOMAIN_METRICS):
        for c, (suite, x_metric) in enumerate(columns):
            ax = axes[r][c]
            ax.axhline(0, color="grey", lw=0.6)
            ax.axvline(0, color="grey", lw=0.6)
            points = {s: (gain(model, suite, x_metric, s), gain(model, PARALLEL_SUITE, y_metric, s)) for s in rows}
            for parent, path in wise_curves(parallel, at_least=1).items():
                path = [s for _, s in path if s == BASE or s in points]
                ax.plot([0.0 if s == BASE else points[s][0][0] for s in path],
                        [0.0 if s == BASE else points[s][1][0] for s in path], color=colors[parent], lw=0.7, alpha=0.6)
            for s, ((x, dx), (y, dy)) in points.items():
                parent = s.split(WISE)[0]
                ax.errorbar(x, y, xerr=_half(dx), yerr=_half(dy), fmt="o", ms=4, capsize=1.5, elinewidth=0.7,
                            color=colors[parent], mfc="white" if WISE in s else colors[parent])
            if r == 0:
                ax.set_title(f"{suite}\n{x_metric}", fontsize=8)
            if r == len(IN_DOMAIN_METRICS) - 1:
                ax.set_xlabel(f"Δ {x_metric} vs base (< 0: lost)", fontsize=7)
            if c == 0:
                ax.set_ylabel(f"in-domain Δ {y_metric} vs base", fontsize=7)
            ax.tick_params(labelsize=6)
    handles = [Line2D([], [], color=colors[p], marker="o", ls="", label=p) for p in parents]
    handles.append(Line2D([], [], color="grey", marker="o", mfc="white", lw=0.7, label=f"{WISE}α (WiSE-FT), α path"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    fig.suptitle(f"{summary['title']}: {tag}\nin-domain gain over the base against translation retrieval lost")
    fig.tight_layout()
    return fig, f"{summary['name']}_{tag}_tradeoff.png"


def _half(ci: float) -> float:
    """An error bar's half-width; none for a one-seed mean (no interval)."""
    return ci if math.isfinite(ci) else 0.0


def _bars(plt, summary: dict, tag: str, table: dict):
    """mAP per (subset, setting) group, one bar per strategy, with the 95 % intervals."""
    groups = [("all", "mono"), ("all", "cross"), ("all", "multi"), ("low", "cross"), ("zero-shot", "cross")]
    groups = [g for g in groups if all(g[0] in t for t in table.values())]
    strategies = list(table)
    width = 0.8 / len(strategies)
    fig, ax = plt.subplots(figsize=(2 + 1.6 * len(groups), 4))
    for i, s in enumerate(strategies):
        cells = [table[s][sub][f"{setting}.map"] for sub, setting in groups]
        ax.bar(np.arange(len(groups)) + i * width, [c["mean"] for c in cells], width, label=s,
               yerr=[0 if not math.isfinite(c["ci"] or float("nan")) else c["ci"] for c in cells], capsize=2)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, [f"{st}\n({sub})" for sub, st in groups])
    ax.set_ylabel("mAP")
    ax.set_title(f"{summary['title']}: {tag}")
    ax.legend(fontsize=7, ncol=2)
    return fig, f"{summary['name']}_{tag}_bars.png"


def _alpha_curve(plt, summary: dict, tag: str, table: dict):
    """mAP against α (cross = 0, hybrid-α, mono = 1) per setting, with the 95 % intervals."""
    alpha = alpha_rows(table)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for sub, setting in [("all", "mono"), ("all", "cross"), ("all", "multi"), ("low", "cross"),
                         ("zero-shot", "cross")]:
        if not all(sub in table[s] for _, s in alpha):
            continue
        cells = [table[s][sub][f"{setting}.map"] for _, s in alpha]
        ax.errorbar([a for a, _ in alpha], [c["mean"] for c in cells],
                    yerr=[0 if not math.isfinite(c["ci"] or float("nan")) else c["ci"] for c in cells],
                    marker="o", capsize=2, label=f"{setting} ({sub})")
    ax.set_xlabel("α (share of monolingual batches)")
    ax.set_ylabel("mAP")
    ax.set_title("α curve")
    ax.legend(fontsize=7)
    return fig, f"{summary['name']}_{tag}_alpha.png"


def _heatmaps(plt, summary: dict, tag: str, pairs: dict):
    """One x→y mAP matrix per strategy (mean over seeds)."""
    n = len(pairs)
    cols = min(4, n)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(3.2 * cols, 3 * ((n + cols - 1) // cols)),
                             squeeze=False)
    for ax, (s, matrix) in zip(axes.flat, pairs.items(), strict=False):
        langs = sorted(matrix)
        values = np.array([[matrix[x].get(y, np.nan) for y in langs] for x in langs])
        image = ax.imshow(values, vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(langs)), langs, fontsize=6, rotation=90)
        ax.set_yticks(range(len(langs)), langs, fontsize=6)
        ax.set_title(s, fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.colorbar(image, ax=axes, shrink=0.6, label="mAP (query lang → passage lang)")
    return fig, f"{summary['name']}_{tag}_heatmaps.png"
