"""Where the scorers get their scores: embeddings (dense models) or a BM25 index (the lexical baseline).

Every scorer of the package (LAReQA pools, BEIR folders, BEIR pairs, translation retrieval) needs only one thing
from a model: the score of some queries against some candidates. :class:`ScoreSource` is that one question, so
BM25 is scored by the same metric code as a dense model, not by faking embeddings (a BM25 score is not a dot
product of two fixed vectors: its document frequencies belong to the collection searched).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch


class ScoreSource(Protocol):
    """Scores of queries ``q_idx`` against candidates ``c_idx`` (indices into the texts the source was built
    on), higher is better: a ``(len(q_idx), len(c_idx))`` tensor."""

    def scores(self, q_idx: np.ndarray, c_idx: np.ndarray) -> torch.Tensor: ...


class EmbeddingScores:
    """Cosine scores from L2-normalised embeddings (dot product), on the embeddings' device."""

    def __init__(self, queries: torch.Tensor, candidates: torch.Tensor):
        self.queries, self.candidates = queries, candidates
        self._last: tuple[bytes, torch.Tensor] | None = None

    def scores(self, q_idx: np.ndarray, c_idx: np.ndarray) -> torch.Tensor:
        key = np.asarray(c_idx).tobytes()
        if self._last is None or self._last[0] != key:  # scorers ask chunk by chunk for one candidate subset
            self._last = (key, self.candidates[torch.as_tensor(c_idx, dtype=torch.long, device=self.candidates.device)])
        q = self.queries[torch.as_tensor(q_idx, dtype=torch.long, device=self.queries.device)]
        return q @ self._last[1].T


def score_source(model, queries: list[str], query_langs: list, candidates: list[str], cand_langs: list, *,
                 query_role: str = "query", cand_role: str = "passage", **encode_kwargs) -> ScoreSource:
    """The score source of ``model`` for these texts: a BM25 index for the ``bm25`` pseudo-model, else the
    texts encoded once (:func:`~hf_hybrid.evaluation.embeddings.encode_unique`, with ``encode_kwargs``)."""
    from hf_hybrid.bm25 import BM25Model, BM25Scores

    if isinstance(model, BM25Model):
        return BM25Scores(model, queries, query_langs, candidates, cand_langs)
    from hf_hybrid.evaluation.embeddings import encode_unique, model_fingerprint

    encode_kwargs.setdefault("fingerprint", model_fingerprint(model))
    q_emb = encode_unique(model, queries, role=query_role, **encode_kwargs)
    c_emb = encode_unique(model, candidates, role=cand_role, **encode_kwargs)
    return EmbeddingScores(q_emb, c_emb)
