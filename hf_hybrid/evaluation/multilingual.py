"""LAReQA-style multilingual evaluation: monolingual, cross-lingual and pooled settings, and language bias.

Settings (Roy et al., "LAReQA", EMNLP 2020; arXiv 2408.10536 reports them the same way):

* ``mono`` (x→x): queries in x against the candidates in x; macro average over the languages.
* ``cross`` (x→y, x ≠ y): queries in x against the candidates in y, every ordered pair; macro average over
  the L·(L−1) pairs (110 for XQuAD-R's 11 languages).
* ``multi`` (x→all): queries in x against the pool of every language's candidates, where every translation of
  the answer is relevant; averaged over the queries of x, then macro-averaged over query languages.

Language bias (pooled setting only; see :mod:`hf_hybrid.evaluation.metrics`): ``multi.language_bias`` is the
mean rank distance, macro-averaged over query languages (lower is better); ``multi.language_bias_median`` is
the median rank distance over all queries; ``multi.own_language_share@10`` is the share of the top-10 results in
the query's own language, macro-averaged (an unbiased model on a fully parallel pool sits near 1/L).

``by_resource`` groups: mono by its language, multi by the query language, and a cross pair x→y by the *lower*
resource side of the pair (zero-shot < low < high), because a pair is only as easy as its harder language.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from hf_hybrid.bm25 import BM25Model
from hf_hybrid.errors import UserError
from hf_hybrid.evaluation.metrics import (
    METRIC_NAMES,
    metrics_from_ranks,
    pad_relevant,
    rank_distance,
    source_ranks,
)
from hf_hybrid.evaluation.results import SuiteResult, suite_result
from hf_hybrid.evaluation.scoring import EmbeddingScores, ScoreSource, score_source

_LEVEL_ORDER = {"zero-shot": 0, "low": 1, "high": 2, "unknown": 3}


@dataclass
class MultilingualPool:
    """Queries and candidates in several languages, with relevance by a language-independent key.

    ``relevant[key]`` lists the candidate indices (in any language) that answer every query whose
    ``query_keys`` entry is ``key``: for the parallel schema the key is the row ``id``; for XQuAD-R it is the
    question id, and the candidates are each language's answer sentence.
    """

    query_texts: list[str]
    query_langs: list[str]
    query_keys: list[str]
    cand_texts: list[str]
    cand_langs: list[str]
    relevant: dict[str, list[int]]
    name: str = "parallel"
    split: str = "test"
    metadata: dict = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.query_langs) | set(self.cand_langs))

    def fingerprint(self) -> str:
        """Hash of the pool's content, so results name exactly the data they were computed on."""
        digest = hashlib.sha256()
        for part in (self.query_texts, self.query_langs, self.query_keys, self.cand_texts, self.cand_langs):
            digest.update("\x1f".join(part).encode())
        for key in sorted(self.relevant):
            digest.update(f"{key}:{sorted(self.relevant[key])}".encode())
        return digest.hexdigest()[:16]

    def select_languages(self, languages: list[str]) -> MultilingualPool:
        """The pool restricted to ``languages`` (queries and candidates); unknown codes are a UserError."""
        unknown = sorted(set(languages) - set(self.languages))
        if unknown:
            raise UserError("languages", f"{unknown} not in the data (it has {self.languages})",
                            "pick languages the dataset contains")
        keep_c = [i for i, lang in enumerate(self.cand_langs) if lang in languages]
        new_index = {old: new for new, old in enumerate(keep_c)}
        keep_q = [i for i, lang in enumerate(self.query_langs) if lang in languages]
        return MultilingualPool(
            [self.query_texts[i] for i in keep_q], [self.query_langs[i] for i in keep_q],
            [self.query_keys[i] for i in keep_q], [self.cand_texts[i] for i in keep_c],
            [self.cand_langs[i] for i in keep_c],
            {k: [new_index[c] for c in v if c in new_index] for k, v in self.relevant.items()},
            self.name, self.split, dict(self.metadata),
        )


def pool_from_parallel(dataset, *, name: str = "parallel", split: str = "test") -> MultilingualPool:
    """Build a pool from a parallel-schema ``datasets.Dataset`` (``id``, ``lang``, ``query``, ``passage``,
    optional ``negatives``).

    Every row is a query; every distinct (language, passage text) is a candidate; hard negatives join the pool
    as distractors in their row's language. Identical texts in one language are one candidate, relevant to
    every group that has it (encoding it twice would only create a tie).
    """
    missing = {"id", "lang", "query", "passage"} - set(dataset.column_names)
    if missing:
        raise UserError("data", f"columns {sorted(missing)} missing (has {dataset.column_names})",
                        "give a parallel-schema dataset with id, lang, query, passage")
    if len(dataset) == 0:
        raise UserError("data", f"{name!r} has no rows", "give a non-empty test split")
    cand_index: dict[tuple[str, str], int] = {}
    cand_texts: list[str] = []
    cand_langs: list[str] = []

    def candidate(lang: str, text: str) -> int:
        key = (lang, text)
        if key not in cand_index:
            cand_index[key] = len(cand_texts)
            cand_texts.append(text)
            cand_langs.append(lang)
        return cand_index[key]

    relevant: dict[str, set[int]] = defaultdict(set)
    has_negatives = "negatives" in dataset.column_names
    for row in dataset:
        relevant[str(row["id"])].add(candidate(row["lang"], row["passage"]))
        for negative in (row["negatives"] or []) if has_negatives else []:
            candidate(row["lang"], negative)
    return MultilingualPool(
        list(dataset["query"]), list(dataset["lang"]), [str(i) for i in dataset["id"]],
        cand_texts, cand_langs, {k: sorted(v) for k, v in relevant.items()}, name, split,
    )


def resolve_levels(
    languages: list[str], resource_levels: dict[str, str] | None = None, zero_shot: list[str] | None = None
) -> dict[str, str]:
    """Resource level of each language: ``zero_shot`` first, then the explicit mapping, then
    ``hf_hybrid.languages.resource_level``; ``"unknown"`` when none of them knows the code."""
    levels = {}
    for lang in languages:
        if zero_shot and lang in zero_shot:
            levels[lang] = "zero-shot"
        elif resource_levels and lang in resource_levels:
            levels[lang] = resource_levels[lang]
        else:
            levels[lang] = _level_from_registry(lang)
    return levels


def _level_from_registry(lang: str) -> str:
    try:
        from hf_hybrid.languages import resource_level
    except ImportError:
        return "unknown"
    try:
        return resource_level(lang)
    except (KeyError, ValueError, UserError):
        return "unknown"


def mean_metrics(items: list[dict[str, float]], prefix: str = "") -> dict[str, float]:
    """Macro average of per-pair (or per-language) metric dicts, keys optionally prefixed (``cross.map``)."""
    return {f"{prefix}{k}": float(np.mean([d[k] for d in items])) for k in items[0]} if items else {}


def pair_level(levels: dict[str, str], x: str, y: str) -> str:
    """The level of a language pair x→y: its lower-resource side (zero-shot < low < high), because a pair is only
    as easy as its harder language."""
    return min(levels[x], levels[y], key=_LEVEL_ORDER.__getitem__)


class PooledScorer:
    """Scores any (query subset, candidate subset) of one pool from one score source (embeddings computed once,
    or a BM25 index per candidate subset)."""

    def __init__(self, pool: MultilingualPool, source: ScoreSource):
        self.pool, self.source = pool, source
        self.q_langs = np.array(pool.query_langs)
        self.c_langs = np.array(pool.cand_langs)

    def ranks(self, query_lang: str, cand_lang: str | None, top_k: int = 0):
        """Ranks of relevant candidates for the queries in ``query_lang`` against candidates in ``cand_lang``
        (``None`` = the pooled setting). Queries with no relevant candidate there are left out."""
        q_idx = np.flatnonzero(self.q_langs == query_lang)
        c_idx = np.flatnonzero(self.c_langs == cand_lang) if cand_lang else np.arange(len(self.c_langs))
        local = {int(c): i for i, c in enumerate(c_idx)}
        rel = [[local[c] for c in self.pool.relevant.get(self.pool.query_keys[q], []) if c in local]
               for q in q_idx]
        keep = [i for i, r in enumerate(rel) if r]
        if not keep:
            return None, None, c_idx
        ranks, tops = source_ranks(self.source, q_idx[keep], c_idx, pad_relevant([rel[i] for i in keep]),
                                   top_k=top_k)
        return ranks, tops, c_idx


def score_pool(pool: MultilingualPool, source: ScoreSource, levels: dict[str, str], top_k_share: int = 10) -> dict:
    """All settings of one pool from its score source (:func:`embedding_source` for embeddings): macro metrics,
    per-pair matrix, per-language pooled metrics, language bias and ``by_resource`` groups (see the module
    docstring for the definitions)."""
    scorer = PooledScorer(pool, source)
    query_langs = sorted(set(pool.query_langs))
    cand_langs = sorted(set(pool.cand_langs))
    pairs: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for x in query_langs:
        for y in cand_langs:
            ranks, _, _ = scorer.ranks(x, y)
            if ranks is not None:
                pairs[x][y] = {k: float(v.mean()) for k, v in metrics_from_ranks(ranks).items()}
    per_language: dict[str, dict[str, float]] = {}
    distances: list[np.ndarray] = []
    for x in query_langs:
        ranks, tops, c_idx = scorer.ranks(x, None, top_k=top_k_share)
        if ranks is None:
            continue
        values = {k: float(v.mean()) for k, v in metrics_from_ranks(ranks).items()}
        dist = rank_distance(ranks)
        distances.append(dist[np.isfinite(dist)])
        values["language_bias"] = float(np.nanmean(dist)) if np.isfinite(dist).any() else float("nan")
        values[f"own_language_share@{top_k_share}"] = float((scorer.c_langs[c_idx[tops]] == x).mean())
        per_language[x] = values
    metrics: dict[str, float] = {}
    mono = [pairs[x][x] for x in query_langs if x in pairs[x]]
    cross = [pairs[x][y] for x in pairs for y in pairs[x] if x != y]
    for setting, items in (("mono", mono), ("cross", cross), ("multi", list(per_language.values()))):
        for k, v in mean_metrics(items, f"{setting}.").items():
            metrics[k] = v
    all_dist = np.concatenate(distances) if distances else np.array([])
    metrics["multi.language_bias_median"] = float(np.median(all_dist)) if all_dist.size else float("nan")
    by_resource = _by_resource(pairs, per_language, levels)
    return {"metrics": metrics, "pairs": {x: dict(v) for x, v in pairs.items()}, "per_language": per_language,
            "by_resource": by_resource, "rank_distances": all_dist.tolist()}


def _by_resource(pairs: dict, per_language: dict, levels: dict[str, str]) -> dict[str, dict[str, float]]:
    groups: dict[str, dict[str, list[dict[str, float]]]] = defaultdict(lambda: defaultdict(list))
    for x, row in pairs.items():
        for y, values in row.items():
            if x == y:
                groups[levels[x]]["mono"].append(values)
            else:
                groups[pair_level(levels, x, y)]["cross"].append(values)
    for x, values in per_language.items():
        groups[levels[x]]["multi"].append(values)
    return {
        level: {k: v for setting, items in settings.items() for k, v in mean_metrics(items, f"{setting}.").items()}
        for level, settings in groups.items()
    }


def evaluate_pool(
    model: SentenceTransformer | BM25Model,
    pool: MultilingualPool,
    *,
    languages: list[str] | None = None,
    resource_levels: dict[str, str] | None = None,
    zero_shot: list[str] | None = None,
    batch_size: int = 64,
    cache_dir: str | None = None,
    show_progress_bar: bool = True,
) -> SuiteResult:
    """Encode the pool once and return one ``"multilingual"`` suite of the results schema."""
    if languages:
        pool = pool.select_languages(list(languages))
    if not pool.cand_texts:
        raise UserError("data", f"{pool.name!r} has no candidates", "give a dataset with passages")
    source = pool_source(model, pool, batch_size=batch_size, cache_dir=cache_dir,
                         show_progress_bar=show_progress_bar)
    levels = resolve_levels(pool.languages, resource_levels, zero_shot)
    return pool_suite(pool, source, levels)


def pool_source(model, pool: MultilingualPool, **encode_kwargs) -> ScoreSource:
    """The pool's score source for ``model`` (a SentenceTransformer, or the ``bm25`` pseudo-model)."""
    return score_source(model, pool.query_texts, pool.query_langs, pool.cand_texts, pool.cand_langs, **encode_kwargs)


def embedding_source(q_emb: torch.Tensor, c_emb: torch.Tensor) -> ScoreSource:
    """A score source from a pool's query and candidate embeddings (rows in pool order)."""
    return EmbeddingScores(q_emb, c_emb)


def pool_suite(pool: MultilingualPool, source: ScoreSource, levels: dict[str, str], *,
               dataset: str | None = None) -> SuiteResult:
    """The ``"multilingual"`` suite of a pool from its score source (callers that need the scores for more,
    such as the grid's bootstrap, build the source once and call this)."""
    scored = score_pool(pool, source, levels)
    return suite_result(
        name=pool.name, type="multilingual", dataset=dataset or pool.metadata.get("dataset", pool.name),
        split=pool.split, fingerprint=pool.fingerprint(), languages=pool.languages, resource_levels=levels,
        metrics=scored["metrics"], main_score="multi.map", by_resource=scored["by_resource"], pairs=scored["pairs"],
        per_language=scored["per_language"], rank_distances=scored["rank_distances"],
        sizes={"queries": len(pool.query_texts), "candidates": len(pool.cand_texts)},
    )


def evaluate_parallel(
    model: SentenceTransformer | BM25Model,
    dataset,
    *,
    languages: list[str] | None = None,
    resource_levels: dict[str, str] | None = None,
    batch_size: int = 64,
    cache_dir: str | None = None,
    zero_shot: list[str] | None = None,
    name: str = "parallel",
    split: str = "test",
    show_progress_bar: bool = True,
) -> SuiteResult:
    """Evaluate ``model`` on a parallel-schema dataset in all three settings; returns one results suite.

    Example::

        suite = evaluate_parallel(model, ds, resource_levels={"qaa": "high", "qab": "low"})
        suite["metrics"]["multi.map"], suite["pairs"]["en"]["de"]["map"]
    """
    pool = pool_from_parallel(dataset, name=name, split=split)
    return evaluate_pool(model, pool, languages=languages, resource_levels=resource_levels, zero_shot=zero_shot,
                         batch_size=batch_size, cache_dir=cache_dir, show_progress_bar=show_progress_bar)


__all__ = ["METRIC_NAMES", "MultilingualPool", "evaluate_parallel", "evaluate_pool", "pool_from_parallel",
           "embedding_source", "pool_source", "pool_suite", "resolve_levels", "score_pool"]
