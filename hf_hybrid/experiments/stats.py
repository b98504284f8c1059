"""Statistics of the grid: per-query average precision, mean ± 95 % interval over seeds, paired bootstrap.

Why per-query values: the method paper (arXiv 2408.10536) reports small gains without a significance test. A
paired test needs the score of every query under both strategies; the evaluation package returns macro averages
only, so :func:`per_query_units` ranks each (query, candidate language) once more from the *same* embeddings
with the evaluation package's own helpers (:func:`~hf_hybrid.evaluation.metrics.source_ranks`,
:func:`~hf_hybrid.evaluation.metrics.metrics_from_ranks`), so the bootstrap and the tables use one definition
of AP.

The bootstrap (Efron & Tibshirani 1993, §16; as in Koehn 2004 for MT) resamples *query groups* — a group is
one question with all its translations, which are not independent of one another — with replacement, the same
resample for every seed, so the seeds stay paired; the statistic is the mean over seeds of the mean per-unit
difference. The p-value is two-sided, from the bootstrap distribution shifted to the null (``|Δ* − Δ| ≥ |Δ|``).
A grid makes hundreds of such tests, so the report reads each one through :func:`holm` within its family
(:func:`family_of`), with the raw p beside the adjusted one.
"""

from __future__ import annotations

import math

import numpy as np

from hf_hybrid.evaluation.metrics import metrics_from_ranks, pad_relevant, source_ranks
from hf_hybrid.evaluation.multilingual import pair_level

SETTINGS = ("mono", "cross", "multi")
LEVELS = ("high", "low", "zero-shot", "unknown")


def per_query_units(pool, source, levels: dict[str, str]) -> dict[str, np.ndarray]:
    """AP of every unit of the three settings, in a fixed order (same pool → same order in every run).

    ``source`` is the pool's :class:`~hf_hybrid.evaluation.scoring.ScoreSource` (embeddings or BM25).
    A unit is a (query, candidate language) pair for ``mono`` (x→x) and ``cross`` (x→y), and a query for
    ``multi`` (x→all). ``level`` is the query language's resource level for mono and multi, and the *lower* of
    the pair's for cross (as in the evaluation's ``by_resource``). Returns parallel arrays ``setting``,
    ``group`` (index of the query's id), ``level``, ``query_lang``, ``cand_lang`` and ``ap``.
    """
    q_langs, c_langs = np.array(pool.query_langs), np.array(pool.cand_langs)
    group_index = {key: i for i, key in enumerate(sorted(set(pool.query_keys)))}
    columns: dict[str, list] = {"setting": [], "group": [], "level": [], "query_lang": [], "cand_lang": [], "ap": []}
    for x in sorted(set(pool.query_langs)):
        q_idx = np.flatnonzero(q_langs == x)
        for y in [*sorted(set(pool.cand_langs)), None]:
            c_idx = np.flatnonzero(c_langs == y) if y else np.arange(len(c_langs))
            local = {int(c): i for i, c in enumerate(c_idx)}
            rel = [[local[c] for c in pool.relevant.get(pool.query_keys[q], []) if c in local] for q in q_idx]
            keep = [i for i, r in enumerate(rel) if r]
            if not keep:
                continue
            ranks, _ = source_ranks(source, q_idx[keep], c_idx, pad_relevant([rel[i] for i in keep]))
            setting = "multi" if y is None else "mono" if y == x else "cross"
            level = levels[x] if y is None else pair_level(levels, x, y)
            n = len(keep)
            columns["setting"] += [setting] * n
            columns["group"] += [group_index[pool.query_keys[q]] for q in q_idx[keep]]
            columns["level"] += [level] * n
            columns["query_lang"] += [x] * n
            columns["cand_lang"] += [y or "*"] * n
            columns["ap"] += metrics_from_ranks(ranks)["map"].tolist()
    return {k: np.asarray(v, dtype=np.float64 if k == "ap" else np.int64 if k == "group" else str)
            for k, v in columns.items()}


def mean_ci(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t interval over seeds (``nan`` half-width for one seed)."""
    from scipy import stats

    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if data.size == 0:
        return float("nan"), float("nan")
    if data.size == 1:
        return float(data[0]), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, data.size - 1) * data.std(ddof=1) / math.sqrt(data.size)
    return float(data.mean()), float(half)


def paired_bootstrap(a: list[np.ndarray], b: list[np.ndarray], groups: np.ndarray, *, samples: int = 1000,
                     seed: int = 0, confidence: float = 0.95) -> dict[str, float]:
    """Paired bootstrap of ``mean(a) − mean(b)`` over query groups.

    ``a[s]`` and ``b[s]`` are the per-unit scores of the two strategies for seed ``s`` (same units, same order);
    ``groups[i]`` is unit ``i``'s group. Returns the observed difference, its percentile interval and the
    two-sided p-value. Vectorized: a resample is a vector of group counts (one multinomial draw), so a
    replicate's mean is ``counts @ group_sums / counts @ group_sizes``.
    """
    if len(a) != len(b) or not a:
        raise ValueError("a and b need the same, non-zero number of seeds")
    diff = np.mean([x - y for x, y in zip(a, b, strict=True)], axis=0)
    _, inverse = np.unique(groups, return_inverse=True)
    n_groups = int(inverse.max()) + 1
    sums = np.bincount(inverse, weights=diff, minlength=n_groups)
    sizes = np.bincount(inverse, minlength=n_groups).astype(np.float64)
    observed = float(diff.mean())
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=samples).astype(np.float64)
    replicates = (counts @ sums) / (counts @ sizes)
    tail = (1 - confidence) / 2
    low, high = np.quantile(replicates, [tail, 1 - tail])
    extreme = np.abs(replicates - observed) >= abs(observed)
    p = (1 + int(extreme.sum())) / (samples + 1)
    return {"diff": observed, "ci_low": float(low), "ci_high": float(high), "p": float(p),
            "units": int(diff.size), "groups": n_groups}


def holm(p_values: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (Holm 1979, "A simple sequentially rejective multiple test procedure",
    Scand. J. Statist. 6, 65–70), in the order given.

    Sorted ascending, the i-th smallest of m p-values is multiplied by m − i + 1; the adjusted values are made
    non-decreasing (a running maximum) and capped at 1. Rejecting where the adjusted p < 0.05 keeps the chance of
    even one false rejection in the family at most 5 %, whatever the dependence between the tests.

    Why Holm and not Benjamini & Hochberg (1995): the tests of a family share the reference's per-query scores and
    the same bootstrap resamples, so they are dependent in ways the false-discovery-rate guarantee does not cover
    (it needs independence or positive dependence), and each finding is read as a claim of its own ("significantly
    better than X"), which is what a family-wise bound protects. Holm is never less powerful than Bonferroni.
    """
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda k: p_values[k])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def family_of(row: dict) -> tuple:
    """The family a paired test is corrected within: one model's comparisons of one strategy (the reference, or a
    mined strategy in the negatives contrasts) against all its baselines in one (setting, level) cell of the
    in-domain suite."""
    return row.get("strategy"), row["setting"], row["subset"]


def with_adjusted_p(rows: list[dict]) -> list[dict]:
    """``rows`` (paired-bootstrap results) with ``p_holm``: the Holm-adjusted p within each :func:`family_of`."""
    families: dict[tuple, list[int]] = {}
    for i, row in enumerate(rows):
        families.setdefault(family_of(row), []).append(i)
    out = [dict(row) for row in rows]
    for members in families.values():
        for i, p in zip(members, holm([rows[i]["p"] for i in members]), strict=True):
            out[i]["p_holm"] = p
    return out
