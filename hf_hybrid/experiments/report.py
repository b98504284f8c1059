"""The grid's report: tables (mean ± 95 % interval over seeds), paired significance, plots, reproduction.

Everything is computed from the runs on disk (``runs/**/eval.json`` and ``units.npz``) into ``summary.json``;
the Markdown and the figures are rendered from that summary, so no number in a report is typed by hand, and
:func:`combine` can merge several experiments (the synthetic miniature and the real-language grid) into
``docs/results.md`` without running anything again.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hf_hybrid.evaluation.report import atomic_write_text, save_figure, versions
from hf_hybrid.experiments.grid import BASE, ExperimentConfig, plan_settings, read_run, run_folder
from hf_hybrid.experiments.stats import SETTINGS, mean_ci, paired_bootstrap

TABLE_METRICS = ("mono.map", "cross.map", "multi.map", "multi.language_bias")
SUBSETS = ("all", "high", "low", "zero-shot")
# The cells the issue asks about first: low-resource and zero-shot languages queried cross-lingually.
HEADLINE = (("cross", "low"), ("cross", "zero-shot"), ("multi", "all"), ("mono", "all"))


def _load_runs(cfg: ExperimentConfig, tag: str, strategy: str) -> list[tuple[dict, dict]]:
    runs = []
    for seed in cfg.seeds:
        folder = run_folder(cfg, tag, strategy, seed)
        if (folder / "eval.json").exists():
            runs.append(read_run(folder))
    return runs


def _suite_values(result: dict, suite_name: str, subset: str, metric: str) -> float | None:
    suite = next((s for s in result["suites"] if s["name"] == suite_name), None)
    if suite is None:
        return None
    if subset == "all":
        return suite["metrics"].get(metric)
    return suite.get("by_resource", {}).get(subset, {}).get(metric)


def _cell(values: list) -> dict:
    mean, half = mean_ci([v for v in values if v is not None])
    return {"mean": mean, "ci": half, "values": values}


def summarize(cfg: ExperimentConfig, command: str = "") -> dict:
    """Aggregate the finished runs of ``cfg`` into the summary that tables, plots and docs are made from."""
    from hf_hybrid.experiments.grid import model_tag

    config = asdict(cfg)
    models = {}
    wall = 0.0
    for model in cfg.models:
        tag = model_tag(model)
        runs = {s: _load_runs(cfg, tag, s) for s in cfg.strategies}
        runs = {s: r for s, r in runs.items() if r}
        if not runs:
            continue
        wall += sum(r["settings"]["train_wall_s"] + r["settings"]["eval_wall_s"] for rs in runs.values() for r, _ in rs)
        first = next(iter(runs.values()))[0][0]
        suites = {}
        for suite in first["suites"]:
            name = suite["name"]
            metrics = TABLE_METRICS if suite["type"] == "multilingual" else (suite["main_score"],)
            subsets = SUBSETS if suite["type"] == "multilingual" else ("all",)
            suites[name] = {"type": suite["type"], "main_score": suite["main_score"], "table": {
                s: {sub: {m: _cell([_suite_values(r, name, sub, m) for r, _ in rs]) for m in metrics}
                    for sub in subsets} for s, rs in runs.items()}}
        models[tag] = {"base_model": first["settings"]["base_model"], "suites": suites,
                       "seeds": {s: [r["settings"]["seed"] for r, _ in rs] for s, rs in runs.items()},
                       "pairs": {s: _mean_pairs([r for r, _ in rs]) for s, rs in runs.items()},
                       "significance": _significance(cfg, runs),
                       "steps_per_kind": {s: rs[0][0]["settings"]["training"].get("steps_per_kind")
                                          for s, rs in runs.items()}}
    levels = first["suites"][0]["resource_levels"] if models else {}
    chance = _chance_ap(first["suites"][0]) if models else None
    pretraining = cfg.folder / "pretraining.json"
    return {"schema": "hf-hybrid/experiment/v1", "name": cfg.name, "title": cfg.title or cfg.name,
            "config": config, "command": command, "versions": versions(), "levels": levels,
            "train_languages": first["settings"]["train_languages"] if models else [],
            "pretraining": json.loads(pretraining.read_text()) if pretraining.exists() else None,
            "wall_s": round(wall, 1), "chance_single_language_ap": chance, "bootstrap": cfg.bootstrap, "reference": cfg.reference, "models": models}


def _chance_ap(suite: dict) -> float:
    """Expected AP of a random ranking for one relevant among the n candidates of one language: H_n / n.

    Printed beside the x→y scores, so a reader sees at once whether a model learned to cross languages at all."""
    n = max(1, round(suite["sizes"]["candidates"] / len(suite["languages"])))
    return float(sum(1.0 / k for k in range(1, n + 1)) / n)


def _mean_pairs(results: list[dict]) -> dict:
    pairs = [r["suites"][0]["pairs"] for r in results]
    return {x: {y: float(np.mean([p[x][y]["map"] for p in pairs])) for y in pairs[0][x]} for x in pairs[0]}


def _significance(cfg: ExperimentConfig, runs: dict) -> list[dict]:
    """Reference strategy against every other: paired bootstrap over query groups per (setting, subset)."""
    if cfg.reference not in runs:
        return []
    ref = {r["settings"]["seed"]: u for r, u in runs[cfg.reference]}
    rows = []
    for baseline, base_runs in runs.items():
        if baseline == cfg.reference:
            continue
        base = {r["settings"]["seed"]: u for r, u in base_runs}
        seeds = sorted(set(ref) & set(base))
        if not seeds:
            continue
        units = ref[seeds[0]]
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


# ---------------------------------------------------------------------------------------------- Markdown


def _fmt(cell: dict) -> str:
    mean, half = cell["mean"], cell["ci"]
    if mean is None or not math.isfinite(mean):
        return "–"
    return f"{mean:.4f}" if half is None or not math.isfinite(half) else f"{mean:.4f} ± {half:.4f}"


def _table(table: dict, subset: str, metrics: tuple[str, ...]) -> list[str]:
    lines = ["| strategy | " + " | ".join(metrics) + " |", "| --- |" + " ---: |" * len(metrics)]
    for strategy, subsets in table.items():
        if subset in subsets:
            lines.append(f"| {strategy} | " + " | ".join(_fmt(subsets[subset][m]) for m in metrics) + " |")
    return lines


def _sig_cell(row: dict) -> str:
    star = " **" if row["p"] < 0.05 else " "
    return f"{row['diff']:+.4f} [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]{star}p={row['p']:.3f}" + \
        ("**" if row["p"] < 0.05 else "")


def _names(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def _findings(summary: dict, tag: str) -> list[str]:
    """Plain sentences generated from the numbers: the best strategy on the headline cells, and how the
    reference fares against each baseline there."""
    model = summary["models"][tag]
    table = model["suites"]["parallel"]["table"]
    ref = summary["reference"]
    lines = []
    for setting, subset in HEADLINE:
        metric = f"{setting}.map"
        cells = {s: t[subset][metric]["mean"] for s, t in table.items() if subset in t}
        cells = {s: v for s, v in cells.items() if v is not None and math.isfinite(v)}
        if not cells:
            continue
        best = max(cells, key=cells.get)
        sig = [r for r in model["significance"] if r["setting"] == setting and r["subset"] == subset]
        better = [r["baseline"] for r in sig if r["p"] < 0.05 and r["diff"] > 0]
        worse = [r["baseline"] for r in sig if r["p"] < 0.05 and r["diff"] < 0]
        verdict = []
        if better:
            verdict.append(f"significantly better than {_names(better)}")
        if worse:
            verdict.append(f"significantly worse than {_names(worse)}")
        base_note = f"; the untuned base scores {cells[BASE]:.4f}" if BASE in cells else ""
        lines.append(f"- **{metric}, {subset} languages**: best mean is `{best}` ({cells[best]:.4f}); `{ref}` "
                     f"({cells.get(ref, float('nan')):.4f}) is "
                     f"{' and '.join(verdict) or 'not significantly different from any baseline'} "
                     f"(paired bootstrap, p < 0.05; {len(sig)} baseline{'s' if len(sig) != 1 else ''} tested)"
                     f"{base_note}.")
    return lines


def _alpha_rows(table: dict) -> list[tuple[float, str]]:
    """Strategies on the α axis: cross is α = 0, mono α = 1, hybrid-α in between."""
    points = []
    for strategy in table:
        spec = plan_settings(strategy)
        alpha = {"cross": 0.0, "mono": 1.0}.get(spec["strategy"], spec.get("alpha"))
        if spec["strategy"] in ("cross", "mono", "hybrid"):
            points.append((alpha, strategy))
    return sorted(points)


def render(summary: dict, figures_prefix: str = "figures", heading: int = 1) -> str:
    """The Markdown report of one experiment (``heading`` = level of its title)."""
    h = "#" * heading
    lines = [f"{h} {summary['title']}", ""]
    n_runs = sum(len(v) for m in summary["models"].values() for v in m["seeds"].values())
    levels = summary["levels"]
    by_level = {lv: sorted(c for c, x in levels.items() if x == lv) for lv in ("high", "low", "zero-shot")}
    lines += [f"{n_runs} runs ({summary['wall_s']:.0f} s of training and evaluation). Fine-tuning languages: "
              f"{', '.join(summary['train_languages'])}. Evaluated languages by level: "
              + "; ".join(f"{lv}: {', '.join(c) or '–'}" for lv, c in by_level.items()) + ".", ""]
    if summary.get("chance_single_language_ap") is not None:
        lines += [f"A random ranking scores mAP ≈ {summary['chance_single_language_ap']:.4f} in one language's "
                  "candidates (mono and x→y settings): compare the tables with it.", ""]
    for tag, model in summary["models"].items():
        lines += [f"{h}# Model `{tag}` (base: `{model['base_model']}`)", ""]
        if "parallel" in model["suites"]:
            lines += ["What the numbers show (generated from the tables below):", ""] + _findings(summary, tag) + [""]
        for suite_name, suite in model["suites"].items():
            metrics = TABLE_METRICS if suite["type"] == "multilingual" else (suite["main_score"],)
            subsets = SUBSETS if suite["type"] == "multilingual" else ("all",)
            for subset in subsets:
                lines += [f"{h}## {suite_name}: {subset} languages", "",
                          "Mean ± 95 % Student-t interval over seeds; mAP over the full ranking (higher is "
                          "better); language bias = mean rank distance (lower is better). Cross-lingual pairs are "
                          "grouped by their lower-resource side." if suite["type"] == "multilingual" else
                          f"Mean ± 95 % interval over seeds of `{suite['main_score']}`.", ""]
                lines += _table(suite["table"], subset, metrics) + [""]
        sig = model["significance"]
        if sig:
            lines += [f"{h}## Significance: `{summary['reference']}` against each baseline", "",
                      f"Paired bootstrap over query groups ({summary['bootstrap']} resamples, the same resample "
                      "for every seed, seeds paired): Δ = reference − baseline in per-query AP, its 95 % "
                      "interval and two-sided p; bold where p < 0.05.", "",
                      "| baseline | subset | Δ mono | Δ cross | Δ multi |", "| --- | --- | --- | --- | --- |"]
            keyed = {(r["baseline"], r["subset"], r["setting"]): r for r in sig}
            for baseline in dict.fromkeys(r["baseline"] for r in sig):
                for subset in SUBSETS:
                    cells = [keyed.get((baseline, subset, s)) for s in SETTINGS]
                    if any(cells):
                        lines.append(f"| {baseline} | {subset} | " +
                                     " | ".join(_sig_cell(c) if c else "–" for c in cells) + " |")
            lines.append("")
        table = model["suites"].get("parallel", {}).get("table", {})
        alpha = _alpha_rows(table)
        if len(alpha) > 2:
            lines += [f"{h}## α ablation (share of monolingual batches; cross = 0, mono = 1)", "",
                      "| α | strategy | mono.map | cross.map | cross.map (low) | cross.map (zero-shot) | multi.map |",
                      "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
            for a, s in alpha:
                t = table[s]
                lines.append(f"| {a:.2f} | {s} | {_fmt(t['all']['mono.map'])} | {_fmt(t['all']['cross.map'])} | "
                             f"{_fmt(t['low']['cross.map']) if 'low' in t else '–'} | "
                             f"{_fmt(t['zero-shot']['cross.map']) if 'zero-shot' in t else '–'} | "
                             f"{_fmt(t['all']['multi.map'])} |")
            lines.append("")
        lines += [f"{h}## Figures", ""]
        for kind, caption in (("bars", "mAP per setting and strategy"), ("alpha", "the α curve"),
                              ("heatmaps", "x→y mAP per strategy")):
            name = f"{summary['name']}_{tag}_{kind}.png"
            lines += [f"![{caption}]({figures_prefix}/{name})", ""]
    lines += _reproduce(summary, h)
    return "\n".join(lines)


def _reproduce(summary: dict, h: str) -> list[str]:
    import yaml

    lines = [f"{h}## Reproduce", "", "```bash", summary["command"] or "python -m hf_hybrid.experiments", "```", "",
             "Settings the grid ran with:", "", "```yaml",
             yaml.safe_dump({k: v for k, v in summary["config"].items() if k not in ("combine",)},
                            sort_keys=False).strip(), "```", ""]
    if summary.get("pretraining"):
        p = summary["pretraining"]
        lines += [f"Miniature encoder (MLM pre-training, cached as `mlm-{p['fingerprint']}`): "
                  f"{p['sentences']} monolingual sentences, vocabulary {p['vocab_size']}, MLM loss "
                  f"{p['final_mlm_loss']} (mean over the training steps).", ""]
    lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in summary["versions"].items()) + ".", ""]
    return lines


# ---------------------------------------------------------------------------------------------- figures


def write_figures(summary: dict, folder: Path) -> list[Path]:
    """Per model: grouped bars (setting × strategy, with the 95 % intervals), the α curve and the heatmaps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name: str) -> None:
        written.append(save_figure(fig, folder / name))

    for tag, model in summary["models"].items():
        table = model["suites"]["parallel"]["table"]
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
        save(fig, f"{summary['name']}_{tag}_bars.png")

        alpha = _alpha_rows(table)
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
        save(fig, f"{summary['name']}_{tag}_alpha.png")

        pairs = model["pairs"]
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
        save(fig, f"{summary['name']}_{tag}_heatmaps.png")
    return written


def write_report(cfg: ExperimentConfig, command: str = "") -> Path:
    """summary.json, figures and the Markdown report of one experiment; returns the report path."""
    summary = summarize(cfg, command)
    report = Path(cfg.report) if cfg.report else cfg.folder / "report.md"
    figures = Path(cfg.figures_dir) if cfg.figures_dir else report.parent / "figures"
    write_figures(summary, figures)
    atomic_write_text(cfg.folder / "summary.json", json.dumps(summary, indent=2, default=_json_default) + "\n")
    body = [render(summary, os.path.relpath(figures, report.parent)), *_limits([summary])]
    atomic_write_text(report, "\n".join(body) + "\n")
    return report


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


LIMITS = [
    "The synthetic languages are generated: a shared concept inventory, regular word orders, cognates made by "
    "letter mutation and (where the world sets shared_names) names written alike in every language. Real languages "
    "differ in morphology, tokenization and topic, and real low-resource languages have noisy, scarce pre-training "
    "text; the miniature models only the last of these (less MLM text). Its monolingual text draws words at "
    "random, so MLM pre-training teaches word forms, not meaning: the miniature's starting cross-lingual ability "
    "rests on shared names and cognate pieces alone, where XLM-R's also comes from distributional alignment.",
    "The encoders are small and trained for few steps on few examples; XLM-R and LaBSE at the paper's scale may "
    "rank the strategies differently.",
    "Intervals are over seeds (fine-tuning randomness and batch plans), not over data sets; the bootstrap is over "
    "query groups of one test set. A difference without a significant p-value is not evidence of no difference.",
]
SAMPLE_LIMIT = ("The real-language grid uses the bundled sample (about 120 training and 30 test groups per "
                "language), so its intervals are wide.")


def _limits(summaries: list[dict]) -> list[str]:
    """The fixed caveats, plus the ones the numbers call for (a model that never left chance level)."""
    items = list(LIMITS)
    if any(s["config"].get("data") == "sample" for s in summaries):
        items.append(SAMPLE_LIMIT)
    for summary in summaries:
        chance = summary.get("chance_single_language_ap")
        for tag, model in summary["models"].items():
            table = model["suites"].get("parallel", {}).get("table", {})
            best = max((t["all"]["cross.map"]["mean"] for t in table.values()), default=None)
            if chance and best is not None and best < 3 * chance:
                items.append(f"In \"{summary['title']}\" (`{tag}`), the best cross-lingual mAP of any strategy "
                             f"({best:.4f}) is less than three times chance ({chance:.4f}): at this size the model "
                             "barely learned to cross languages, so the grid cannot rank the strategies on the "
                             "cross-lingual question; it shows only how the kind of batch trades monolingual "
                             "ranking against a weak cross-lingual signal.")
    return ["## What these results cannot show", ""] + [f"- {item}" for item in items] + [""]


def combine(folders: list[str], report: str, figures_dir: str, command: str = "") -> Path:
    """Merge finished experiments (each with a ``summary.json``) into one Markdown document with its figures."""
    from hf_hybrid.errors import UserError

    report_path = Path(report)
    figures = Path(figures_dir) if figures_dir else report_path.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    sections, summaries = [], []
    for folder in folders:
        summary_file = Path(folder) / "summary.json"
        if not summary_file.exists():
            raise UserError("combine", f"{folder!r} has no summary.json",
                            "run that experiment first (python -m hf_hybrid.experiments --config ...)")
        summary = json.loads(summary_file.read_text())
        summaries.append(summary)
        source = Path(folder) / "figures"
        config_report = summary["config"].get("report")
        if config_report:
            source = Path(summary["config"].get("figures_dir") or Path(config_report).parent / "figures")
        for png in source.glob(f"{summary['name']}_*.png"):
            if png.resolve() != (figures / png.name).resolve():
                shutil.copyfile(png, figures / png.name)
        sections.append(render(summary, os.path.relpath(figures, report_path.parent), heading=2))
    head = ["# Hybrid vs sequential batches: results measured with hf-hybrid", "",
            "Generated by `" + (command or "python -m hf_hybrid.experiments --combine ...") + "` from the "
            "experiments below; every number comes from their `summary.json`. Each section says how to rerun it.",
            ""]
    atomic_write_text(report_path, "\n".join(head + sections + _limits(summaries)))
    return report_path
