"""Scoring one finished run of a grid: every configured suite from one loaded model (the grid's own parallel
suite, the registry's named suites, MTEB tasks, BEIR folders, the BEIR pairs of the test split) and the per-query
units of the paired bootstrap.

Apart from :mod:`hf_hybrid.experiments.grid` (which decides which cells to train and when a cell is finished),
because what a run is scored on is its own job; the grid calls :func:`evaluate_run` once per cell and per WiSE-FT
variant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from hf_hybrid.experiments.config import Context


class Scored(NamedTuple):
    """One model's scores: its suites, the per-query units of the bootstrap, and the ``max_seq_length`` it read
    texts at (``None`` for BM25): every row of a grid must be scored at one length, or truncation passes for a
    difference between models (issue 29, ``docs/truncation.md``)."""

    suites: list[dict]
    units: dict[str, np.ndarray]
    max_seq_length: int | None


def evaluate_run(ctx: Context, model_dir) -> Scored:
    """Every configured suite for one fine-tuned model (a folder, ``bm25`` or a loaded model), plus the per-query
    units of the parallel suite; a text read by several suites is encoded once (:func:`shared_embeddings`)."""
    from hf_hybrid.evaluation.embeddings import shared_embeddings
    from hf_hybrid.frozen_prefix import prefix_depth, served_prefix
    from hf_hybrid.models import load_model

    cfg = ctx.config
    model = load_model(str(model_dir)) if isinstance(model_dir, str | Path) else model_dir
    # Every model of the grid (base, trained, WiSE-FT) shares the base's frozen prefix when only the top layers
    # train: each runs only those on the states stored once (hf_hybrid.frozen_prefix).
    depth = prefix_depth(model, cfg.freeze_layers) if cfg.prefix_cache else 0
    with shared_embeddings(), served_prefix(model, depth):
        return Scored(*_evaluate_run(ctx, model_dir, model), getattr(model, "max_seq_length", None))


def _evaluate_run(ctx: Context, model_dir, model) -> tuple[list[dict], dict[str, np.ndarray]]:
    from hf_hybrid.evaluation.multilingual import pool_from_parallel, pool_source, pool_suite
    from hf_hybrid.experiments.config import BM25, OWN_DATA_TASK, PARALLEL_SUITE
    from hf_hybrid.experiments.stats import per_query_units

    cfg = ctx.config
    pool = pool_from_parallel(ctx.eval_data, name=PARALLEL_SUITE, split=cfg.eval_split)
    # Encoded (or BM25-indexed) once here, not through evaluate_parallel, so the same scores feed the suite and
    # the per-query units of the bootstrap.
    source = pool_source(model, pool, show_progress_bar=False)
    suite = pool_suite(pool, source, ctx.levels, dataset=cfg.eval_data or cfg.data)
    suites = [suite] + _named_suites(ctx, model)
    if cfg.mteb_tasks and str(model_dir) != BM25:  # MTEB encodes texts: bm25 has no row there
        from hf_hybrid.evaluation import run_mteb
        from hf_hybrid.evaluation.mteb_runner import mteb_task_from_pool

        # OWN_DATA_TASK is the grid's own evaluation data run through MTEB (x→y subsets, nDCG@10): MTEB's
        # scores beside ours, and the one MTEB task that needs no download.
        tasks = [mteb_task_from_pool(pool) if name == OWN_DATA_TASK else name for name in cfg.mteb_tasks]
        suites += run_mteb(model, tasks)
    for folder in cfg.beir:
        from hf_hybrid.evaluation import run_beir

        suites.append(run_beir(model, folder))
    if cfg.beir_pairs:
        from hf_hybrid.evaluation.beir_pairs import evaluate_beir_pairs

        suites.append(evaluate_beir_pairs(model, beir_pairs_folder(ctx), resource_levels=ctx.levels))
    return suites, per_query_units(pool, source, ctx.levels)


def beir_pairs_folder(ctx: Context) -> Path:
    """The evaluation split exported once per experiment as BEIR folders per language pair (see
    :mod:`hf_hybrid.evaluation.beir_pairs`); re-exported when the data changed."""
    from hf_hybrid.evaluation.beir_pairs import MANIFEST, export_beir_pairs

    cfg = ctx.config
    folder = cfg.folder / "beir_pairs"
    name = f"{cfg.eval_data or cfg.data}:{cfg.eval_split}:{ctx.eval_data._fingerprint}"
    if not (folder / MANIFEST).exists() or json.loads((folder / MANIFEST).read_text())["name"] != name:
        export_beir_pairs(ctx.eval_data, folder, name=name)
    return folder


def _named_suites(ctx: Context, model) -> list[dict]:
    """The configured suites of the registry (XQuAD-R, MLQA-R, CIRAL, AfriCLIRMatrix, ...), each by its own loader;
    a suite's local folder comes from the config's ``<name>_dir`` when it has one."""
    from hf_hybrid.evaluation.suites import SuiteOptions, evaluate_data, load_suite

    cfg = ctx.config
    zero_shot = [lang for lang, level in ctx.levels.items() if level == "zero-shot"]
    return [evaluate_data(model, data, zero_shot=zero_shot, show_progress_bar=False)
            for name in cfg.suites
            for data in load_suite(name, SuiteOptions(root=getattr(cfg, f"{name}_dir", None)))]
