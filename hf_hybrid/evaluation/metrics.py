"""Ranking metrics computed from the ranks of the relevant candidates, over the *full* ranking.

Why by hand: the paper's headline metric is mean average precision over the full ranking of a pool of up to
11 × 1,190 candidates (LAReQA, Roy et al., EMNLP 2020), and its language-bias metric needs the rank of every
relevant passage. Writing a full run for ``pytrec_eval`` (what BEIR and MTEB use) would mean 11,000 × 11,000
(query, doc, score) entries in Python dicts; instead we compute, on the device and in chunks, only the rank of
each relevant candidate, and every metric below is a closed form of those ranks. ``tests/test_metrics.py``
checks MAP, nDCG@10, Recall@k and MRR against ``pytrec_eval`` on randomized runs.

Definitions (binary relevance; ``R`` relevant candidates for a query; ``r_1 < r_2 < … < r_R`` their 1-based
ranks in the full ranking; ties in score are broken by candidate index, i.e. a stable sort):

* ``map`` — average precision over the full ranking, ``AP = (1/R) Σ_i i / r_i`` (LAReQA; arXiv 2408.10536).
* ``map@20`` — XTREME-R's mAP@20 (Ruder et al., EMNLP 2021): precision at each hit in the top 20,
  summed and divided by ``min(R, 20)``: ``(1/min(R,20)) Σ_{i: r_i ≤ 20} i / r_i``.
* ``ndcg@10`` — ``Σ_{r_i ≤ 10} 1/log2(r_i + 1)`` over the ideal ``Σ_{j=1}^{min(R,10)} 1/log2(j + 1)``
  (Järvelin & Kekäläinen 2002; ``ndcg_cut_10`` of trec_eval).
* ``recall@k`` — ``|{i: r_i ≤ k}| / R`` (trec_eval's ``recall_k``, as BEIR and MTEB report it).
* ``mrr@10`` — ``1/r_1`` if ``r_1 ≤ 10`` else 0 (MS MARCO's MRR@10).
* ``rank distance`` (language bias; Huang et al., "Soft Prompt Decoding for Multilingual Dense Retrieval",
  SIGIR 2023, as used by arXiv 2408.10536): for a query whose relevant passages are translations of one
  another, ``r_R − r_1``, the highest minus the lowest rank among them in the pooled (multilingual) ranking.
  0 means all translations sit together; a large value means the model prefers some languages.
"""

from __future__ import annotations

import math

import numpy as np
import torch

METRIC_NAMES = ("map", "map@20", "ndcg@10", "recall@1", "recall@10", "recall@100", "mrr@10")

# Bytes of boolean comparison tensor allowed per chunk: (queries × relevant × candidates). 64 MiB keeps the
# working set small on a laptop and is still large enough that the device, not Python, sets the pace.
_COMPARE_BUDGET = 1 << 26


def pad_relevant(relevant: list[list[int]] | list[np.ndarray]) -> np.ndarray:
    """Pack per-query lists of relevant candidate indices into a ``(n_queries, R_max)`` array padded with -1."""
    width = max((len(r) for r in relevant), default=0)
    out = np.full((len(relevant), max(width, 1)), -1, dtype=np.int64)
    for i, rel in enumerate(relevant):
        out[i, : len(rel)] = np.asarray(rel, dtype=np.int64)
    return out


def ranks_from_scores(scores: torch.Tensor, relevant: torch.Tensor) -> torch.Tensor:
    """1-based rank of each relevant candidate in each row of ``scores`` (ties broken by candidate index).

    ``scores`` is ``(n, N)``; ``relevant`` is ``(n, R)`` candidate indices padded with -1. Returns ``(n, R)``
    float ranks, ``inf`` where padded, sorted ascending per row.
    """
    valid = relevant >= 0
    idx = relevant.clamp(min=0)
    rel_scores = scores.gather(1, idx)  # (n, R)
    s = scores.unsqueeze(1)  # (n, 1, N)
    t = rel_scores.unsqueeze(2)  # (n, R, 1)
    positions = torch.arange(scores.shape[1], device=scores.device).view(1, 1, -1)
    ahead = (s > t) | ((s == t) & (positions < idx.unsqueeze(2)))
    ranks = ahead.sum(dim=2).to(torch.float64) + 1.0
    ranks = torch.where(valid, ranks, torch.full_like(ranks, math.inf))
    return ranks.sort(dim=1).values


def query_chunk(width: int, n_cand: int, budget: int | None = None) -> int:
    """Queries scored at once so that the ``(chunk, width, n_cand)`` comparison stays within ``budget`` bytes."""
    return max(1, min(4096, (budget or _COMPARE_BUDGET) // max(1, width * n_cand)))


def relevant_ranks(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    relevant: np.ndarray,
    *,
    top_k: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Exact ranks of the relevant candidates for every query, scoring ``queries @ candidates.T`` in chunks.

    Embeddings are expected L2-normalised (dot product = cosine). See :func:`source_ranks`.
    """
    from hf_hybrid.evaluation.scoring import EmbeddingScores

    return source_ranks(EmbeddingScores(queries, candidates), np.arange(queries.shape[0]),
                        np.arange(candidates.shape[0]), relevant, top_k=top_k)


def source_ranks(
    source, q_idx: np.ndarray, c_idx: np.ndarray, relevant: np.ndarray, *, top_k: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Exact ranks of the relevant candidates (``relevant`` indexes ``c_idx``) for queries ``q_idx``, from the
    score blocks of a :class:`~hf_hybrid.evaluation.scoring.ScoreSource` (embeddings or BM25).

    Memory is bounded: each chunk of queries holds one ``(chunk, N)`` score block and one ``(chunk, R, N)``
    comparison. With ``top_k > 0`` also returns the indices (into ``c_idx``) of the ``top_k`` best candidates per
    query (used for language shares of the top-k).
    """
    n, n_cand = len(q_idx), len(c_idx)
    width = relevant.shape[1]
    chunk = query_chunk(width, n_cand)
    rel = torch.from_numpy(relevant)
    out = np.empty((n, width), dtype=np.float64)
    tops = np.empty((n, min(top_k, n_cand)), dtype=np.int64) if top_k else None
    for start in range(0, n, chunk):
        block = source.scores(q_idx[start : start + chunk], c_idx)
        rel_block = rel[start : start + chunk].to(block.device)
        out[start : start + chunk] = ranks_from_scores(block, rel_block).cpu().numpy()
        if tops is not None:
            tops[start : start + chunk] = block.topk(tops.shape[1], dim=1).indices.cpu().numpy()
    return out, tops


def metrics_from_ranks(ranks: np.ndarray) -> dict[str, np.ndarray]:
    """Per-query values of :data:`METRIC_NAMES` from sorted 1-based ranks (``inf`` = padding).

    Queries without any relevant candidate must be dropped by the caller (their metrics are undefined).
    """
    valid = np.isfinite(ranks)
    n_rel = valid.sum(axis=1)
    if (n_rel == 0).any():
        raise ValueError("every query needs at least one relevant candidate")
    hit_index = np.cumsum(valid, axis=1)  # i for the i-th relevant candidate
    precision = np.where(valid, hit_index / np.where(valid, ranks, 1.0), 0.0)
    out = {"map": precision.sum(axis=1) / n_rel}
    in20 = valid & (ranks <= 20)
    out["map@20"] = np.where(in20, precision, 0.0).sum(axis=1) / np.minimum(n_rel, 20)
    gains = np.where(valid & (ranks <= 10), 1.0 / np.log2(np.where(valid, ranks, 1.0) + 1.0), 0.0)
    ideal_cum = np.cumsum(1.0 / np.log2(np.arange(2, 12)))
    out["ndcg@10"] = gains.sum(axis=1) / ideal_cum[np.minimum(n_rel, 10) - 1]
    for k in (1, 10, 100):
        out[f"recall@{k}"] = (valid & (ranks <= k)).sum(axis=1) / n_rel
    first = ranks[:, 0]
    out["mrr@10"] = np.where(first <= 10, 1.0 / first, 0.0)
    return out


def rank_distance(ranks: np.ndarray) -> np.ndarray:
    """Per-query language bias: highest minus lowest rank among the relevant (parallel) candidates.

    Queries with fewer than two relevant candidates get ``nan`` (no spread to measure).
    """
    valid = np.isfinite(ranks)
    n_rel = valid.sum(axis=1)
    last = np.take_along_axis(ranks, np.maximum(n_rel - 1, 0)[:, None], axis=1)[:, 0]
    return np.where(n_rel >= 2, last - ranks[:, 0], np.nan)
