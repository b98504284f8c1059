"""Exact top-k search over one model's corpus embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Hit:
    index: int
    score: float


class PassageIndex:
    """Exact top-k by inner product over L2-normalised embeddings, i.e. cosine similarity.

    Small corpora use one numpy matrix-vector product (exact, no extra dependency); from
    ``faiss_min_passages`` on, FAISS ``IndexFlatIP`` does the same exact search with SIMD and threads.
    A language filter restricts the candidates before ranking, so top-k is the top-k *within* the chosen
    languages, not a post-filtered global top-k that could come back short.
    """

    def __init__(self, embeddings: np.ndarray, langs: Sequence[str], faiss_min_passages: int = 20_000):
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self.langs = np.asarray(langs)
        self._by_lang = {code: np.flatnonzero(self.langs == code) for code in set(langs)}
        self._faiss = None
        if len(self.embeddings) >= faiss_min_passages:
            import faiss

            self._faiss = faiss.IndexFlatIP(self.embeddings.shape[1])
            self._faiss.add(self.embeddings)

    @property
    def uses_faiss(self) -> bool:
        return self._faiss is not None

    def _candidates(self, languages: Sequence[str] | None) -> np.ndarray | None:
        if not languages:
            return None
        return np.sort(np.concatenate([self._by_lang.get(code, np.empty(0, dtype=np.int64)) for code in languages]))

    def search(self, query: np.ndarray, k: int, languages: Sequence[str] | None = None) -> list[Hit]:
        """The ``k`` best passages for one normalised query vector, best first."""
        candidates = self._candidates(languages)
        if candidates is not None and len(candidates) == 0:
            return []
        if self._faiss is not None:
            return self._search_faiss(query, k, candidates)
        pool = self.embeddings if candidates is None else self.embeddings[candidates]
        scores = pool @ query.astype(np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        ids = top if candidates is None else candidates[top]
        return [Hit(int(i), float(scores[j])) for i, j in zip(ids, top, strict=True)]

    def _search_faiss(self, query: np.ndarray, k: int, candidates: np.ndarray | None) -> list[Hit]:
        import faiss

        params = None if candidates is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(candidates.astype(np.int64)))
        scores, ids = self._faiss.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [Hit(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
