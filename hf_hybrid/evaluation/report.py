"""Outputs of a run: one results JSON (schema ``hf-hybrid/eval-results/v1``), a Markdown table and plots.

Results schema (the card generator reads exactly these keys)::

    {"schema": "hf-hybrid/eval-results/v1", "model": str, "model_fingerprint": str, "created_at": ISO-8601 UTC,
     "versions": {package: version}, "settings": {...},
     "suites": [SuiteResult, ...]}   # the suite schema: hf_hybrid.evaluation.results.SuiteResult

Every file is written to a temporary path in the same folder and moved into place, so an error never leaves a
half-written results file.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import math
from pathlib import Path

from hf_hybrid.atomic import atomic_path, write_text
from hf_hybrid.evaluation.results import PLOT_ONLY, RESULTS_FILE, SuiteResult
from hf_hybrid.tables import md_table

SCHEMA = "hf-hybrid/eval-results/v1"
_PACKAGES = ("hf-hybrid", "torch", "sentence-transformers", "transformers", "datasets", "mteb", "pytrec-eval-terrier")


def versions() -> dict[str, str]:
    out = {}
    for package in _PACKAGES:
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _clean(value):
    """JSON has no NaN: undefined metrics (e.g. bias with one language) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def build_results(model: str, suites: list[SuiteResult], settings: dict, model_fingerprint: str = "",
                  base: dict | None = None) -> dict:
    """The results document. ``base``: the base model's results on the same translation suites (``{"model": id,
    "max_seq_length": the length both read texts at, "suites": [...]}``, from ``hf-hybrid evaluate --against_base``),
    what the card's forgetting line compares."""
    results = {
        "schema": SCHEMA, "model": str(model), "model_fingerprint": model_fingerprint,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(), "settings": settings,
        "suites": [_clean({k: v for k, v in s.items() if k not in PLOT_ONLY}) for s in suites],
    }
    if base:
        results["base"] = {"model": base["model"], "max_seq_length": base.get("max_seq_length"),
                           "suites": [_clean({k: v for k, v in s.items() if k not in PLOT_ONLY}) for s in base["suites"]]}
    return results


def results_for(model, suites: list[SuiteResult], settings: dict, model_fingerprint: str = "",
                base: dict | None = None) -> dict:
    """The results document; ``model`` is a name or a SentenceTransformer (then its fingerprint is computed)."""
    if not isinstance(model, str):
        from hf_hybrid.evaluation.embeddings import model_fingerprint as fingerprint_of

        model_fingerprint = model_fingerprint or fingerprint_of(model)
        model = getattr(model, "name_or_path", None) or model.model_card_data.base_model or "model"
    return build_results(model, suites, settings, model_fingerprint, base)


def results_json(results: dict) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_results(path: str | Path, model, suites: list[SuiteResult], settings: dict, model_fingerprint: str = "",
                  base: dict | None = None) -> dict:
    """Write the results JSON atomically and return it. ``model`` is a name or a SentenceTransformer."""
    results = results_for(model, suites, settings, model_fingerprint, base)
    write_text(path, results_json(results))
    return results


def _fmt(value) -> str:
    return "–" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.4f}"


def markdown_table(results: dict) -> str:
    """One table per suite: its metrics; multilingual suites add the x→y mAP matrix and resource groups."""
    lines = [f"# Evaluation of `{results['model']}`", "", f"Created {results['created_at']}.", ""]
    for suite in results["suites"]:
        lines += [f"## {suite['name']} ({suite['type']}, split `{suite['split']}`)", "",
                  f"Main score: `{suite['main_score']}` = {_fmt(suite['metrics'].get(suite['main_score']))}", "",
                  *md_table(["metric", "value"], [[k, _fmt(v)] for k, v in suite["metrics"].items()]).splitlines()]
        metric = suite["main_score"].split(".")[-1]  # map (LAReQA, translation) or ndcg@10 (BEIR pairs)
        if suite.get("by_resource"):
            levels = sorted(suite["by_resource"])
            names = sorted({k for g in suite["by_resource"].values() for k in g if k.endswith(f".{metric}")})
            lines += ["", *md_table(["metric", *levels], [[n, *(_fmt(suite["by_resource"][lv].get(n)) for lv in levels)]
                                                             for n in names]).splitlines()]
        if suite.get("pairs"):
            cols = sorted({y for row in suite["pairs"].values() for y in row})
            rows = [[x, *(_fmt(row.get(y, {}).get(metric)) for y in cols)] for x, row in sorted(suite["pairs"].items())]
            lines += ["", f"{metric}, query language (rows) → passage language (columns):", "",
                      *md_table(["x \\ y", *cols], rows).splitlines()]
        lines.append("")
    return "\n".join(lines)


def save_figure(fig, path: Path) -> Path:
    """Write a matplotlib figure atomically (temp file in the same folder, then rename) and close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def write_plots(folder: str | Path, suites: list[SuiteResult]) -> list[Path]:
    """PNG plots per multilingual suite: x→y heatmap, bars per setting, rank-distance histogram, own-language
    share of the top 10 per query language. Written to temp names, then moved into place."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name: str) -> None:
        written.append(save_figure(fig, folder / name))

    for suite in suites:
        if suite["type"] != "multilingual":
            continue
        tag = suite["name"]
        rows = sorted(suite["pairs"])
        cols = sorted({y for r in suite["pairs"].values() for y in r})
        matrix = np.array([[suite["pairs"][x].get(y, {}).get("map", np.nan) for y in cols] for x in rows])
        fig, ax = plt.subplots(figsize=(1 + 0.6 * len(cols), 1 + 0.5 * len(rows)))
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(cols)), cols)
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlabel("passage language")
        ax.set_ylabel("query language")
        ax.set_title(f"{tag}: mAP x→y")
        fig.colorbar(image, ax=ax)
        save(fig, f"{tag}_heatmap.png")

        settings = ["mono", "cross", "multi"]
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.bar(settings, [suite["metrics"].get(f"{s}.map") or 0.0 for s in settings])
        ax.set_ylabel("mAP")
        ax.set_title(f"{tag}: mAP per setting")
        save(fig, f"{tag}_settings.png")

        fig, ax = plt.subplots(figsize=(5, 3))
        ax.hist(suite.get("rank_distances") or [0], bins=30)
        ax.set_xlabel("rank distance (max − min rank of parallel answers)")
        ax.set_ylabel("queries")
        ax.set_title(f"{tag}: language bias")
        save(fig, f"{tag}_rank_distance.png")

        share = {x: v.get("own_language_share@10") for x, v in suite.get("per_language", {}).items()}
        fig, ax = plt.subplots(figsize=(1 + 0.5 * max(1, len(share)), 3))
        ax.bar(list(share), [v or 0.0 for v in share.values()])
        if share:
            ax.axhline(1 / len(share), color="grey", linestyle="--", label="1/L (unbiased)")
            ax.legend()
        ax.set_ylabel("share of top-10 in query language")
        ax.set_title(f"{tag}: own-language share")
        save(fig, f"{tag}_language_share.png")
    return written


def write_evaluation_report(folder: str | Path, model, suites: list[SuiteResult], settings: dict,
                            base: dict | None = None) -> dict:
    """Everything a run leaves behind, in ``folder``: plots and table first, ``results.json`` last."""
    folder = Path(folder)
    write_plots(folder / "plots", suites)
    results = results_for(model, suites, settings, base=base)
    write_text(folder / "results.md", markdown_table(results))
    write_text(folder / RESULTS_FILE, results_json(results))
    return results
