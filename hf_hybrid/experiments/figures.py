"""The grid's figures, drawn from an experiment's ``summary.json``: bars with intervals, the α curve, heatmaps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from hf_hybrid.evaluation.report import save_figure
from hf_hybrid.experiments.grid import PARALLEL_SUITE
from hf_hybrid.experiments.markdown import alpha_rows


def write_figures(summary: dict, folder: Path) -> list[Path]:
    """Per model: grouped bars (setting × strategy, with the 95 % intervals), the α curve and the heatmaps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for tag, model in summary["models"].items():
        table = model["suites"][PARALLEL_SUITE]["table"]
        for fig, name in (_bars(plt, summary, tag, table), _alpha_curve(plt, summary, tag, table),
                          _heatmaps(plt, summary, tag, model["pairs"])):
            written.append(save_figure(fig, folder / name))
    return written


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
