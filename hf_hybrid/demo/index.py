"""Top-k search over one model's corpus embeddings: exact for ordinary corpora, quantized for large ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Hit:
    index: int
    score: float


class PassageIndex:
    """Top-k by inner product over L2-normalised embeddings, i.e. cosine similarity.

    Small corpora use one numpy matrix-vector product (exact, no extra dependency); from
    ``faiss_min_passages`` on, FAISS ``IndexFlatIP`` does the same exact search with SIMD and threads; from
    ``quantized_min_passages`` on, :class:`hf_hybrid.vector_index.QuantizedIndex` keeps int8 codes in k-means
    cells (392 bytes a passage at d = 384 instead of 1,536; the float32 matrix is not kept) and scans the cells
    nearest to the query (``benchmarks/bench_search.py`` measures its recall and latency at 1 M passages against
    exact search). Its scores are int8 approximations of the cosine.
    A language filter restricts the candidates before ranking, so top-k is the top-k *within* the chosen
    languages, not a post-filtered global top-k that could come back short.
    """

    def __init__(self, embeddings: np.ndarray, langs: Sequence[str], faiss_min_passages: int = 20_000,
                 quantized_min_passages: int = 200_000):
        embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self.langs = np.asarray(langs)
        self._by_lang = {code: np.flatnonzero(self.langs == code) for code in set(langs)}
        self.embeddings: np.ndarray | None = None
        self._faiss = self._quantized = None
        if len(embeddings) >= quantized_min_passages:
            from hf_hybrid.vector_index import QuantizedIndex

            self._quantized = QuantizedIndex.build([embeddings])
            return
        self.embeddings = embeddings
        if len(embeddings) >= faiss_min_passages:
            import faiss

            self._faiss = faiss.IndexFlatIP(embeddings.shape[1])
            self._faiss.add(embeddings)

    @property
    def uses_faiss(self) -> bool:
        return self._faiss is not None

    @property
    def kind(self) -> str:
        """How this index searches, for the console: ``quantized``, ``faiss`` or ``exact numpy``."""
        return "quantized" if self._quantized is not None else "faiss" if self._faiss is not None else "exact numpy"

    def _candidates(self, languages: Sequence[str] | None) -> np.ndarray | None:
        if not languages:
            return None
        return np.sort(np.concatenate([self._by_lang.get(code, np.empty(0, dtype=np.int64)) for code in languages]))

    def search(self, query: np.ndarray, k: int, languages: Sequence[str] | None = None) -> list[Hit]:
        """The ``k`` best passages for one normalised query vector, best first."""
        candidates = self._candidates(languages)
        if candidates is not None and len(candidates) == 0:
            return []
        if self._quantized is not None:
            scores, ids = self._quantized.search(query, k, subset=candidates)
            return [Hit(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
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
