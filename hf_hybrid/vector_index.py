"""Search a large corpus in about one byte per dimension: binary candidates, int8 rescoring.

Exact search keeps every passage as 384 float32 values (1.5 kB; 1.5 GB for a million passages). Following
*Embedding Quantization* (Aarsen, Shakir, Yamada, Gao et al., Hugging Face, 2024; binary retrieval as in Yamada et al.,
"Efficient Passage Retrieval with Hashing for Open-domain QA", ACL 2021):

1. every embedding is kept twice, quantized with sentence-transformers' ``quantize_embeddings``: as bits (``ubinary``,
   sign of each dimension: 48 bytes) in a FAISS ``IndexBinaryFlat``, searched by Hamming distance, and as ``int8``
   (one byte per dimension, ranges calibrated on the corpus). The bits are the signs of the embedding minus the
   corpus mean: real sentence embeddings share a large common direction (anisotropy), so raw signs are nearly
   constant and Hamming distance ranks at chance; centering does not change the ranking by dot product
   (q·x = q·(x − μ) + q·μ, the last term the same for every passage) and gives each bit information;
2. a query (kept in float32) takes ``k × rescore_multiplier`` Hamming candidates, which are rescored exactly against
   their int8 vectors (dequantized: ``value = start + (q + 128) · step``), and the best ``k`` returned.

Memory: (d / 8 + d) bytes per passage (432 B at d = 384), against 4·d for float32. ``semantic_search_faiss`` in
sentence-transformers does step 2 against the *binary* vectors or a separate uint8 index; the int8 rescoring of
binary candidates is the blog's recipe, written here in ~20 lines of numpy. ``benchmarks/bench_search.py`` measures
recall@10 against exact search and the per-query latency at a million passages.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# bench_search.py, 1 M synthetic passages from e5 embeddings: recall@10 0.65 / 0.80 / 0.87 at x25 / x100 / x400,
# p95 4.0 / 4.8 / 9.8 ms against 154 ms for exact float32 search; x100 keeps p95 within a few ms
DEFAULT_RESCORE_MULTIPLIER = 100


def _int8_ranges(calibration: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension start and step of the int8 grid (sentence-transformers' rule: min/max over a calibration set)."""
    low, high = calibration.min(axis=0), calibration.max(axis=0)
    return low.astype(np.float32), ((high - low) / 255).astype(np.float32)


class QuantizedIndex:
    """Binary Hamming candidates + int8 rescoring (see the module doc). Build with :meth:`add` in chunks, so a
    corpus never has to sit in memory as float32 all at once."""

    def __init__(self, dim: int, calibration: np.ndarray, rescore_multiplier: int = DEFAULT_RESCORE_MULTIPLIER):
        import faiss

        if dim % 8:
            raise ValueError(f"binary search needs a dimension divisible by 8, got {dim}")
        self.dim, self.rescore_multiplier = dim, rescore_multiplier
        self.binary = faiss.IndexBinaryFlat(dim)
        calibration = np.asarray(calibration, dtype=np.float32)
        self.start, self.step = _int8_ranges(calibration)
        self.center = calibration.mean(axis=0)
        self._int8_chunks: list[np.ndarray] = []
        self._int8: np.ndarray | None = None

    def add(self, embeddings: np.ndarray) -> None:
        from sentence_transformers.util import quantize_embeddings

        embeddings = np.asarray(embeddings, dtype=np.float32)
        self.binary.add(quantize_embeddings(embeddings - self.center, precision="ubinary"))
        ranges = np.vstack([self.start, self.start + 255 * self.step])
        self._int8_chunks.append(quantize_embeddings(embeddings, precision="int8", ranges=ranges))
        self._int8 = None

    @classmethod
    def build(cls, chunks: Iterable[np.ndarray], rescore_multiplier: int = DEFAULT_RESCORE_MULTIPLIER
              ) -> QuantizedIndex:
        """An index over ``chunks`` of float32 embeddings; the first chunk calibrates the int8 ranges."""
        chunks = iter(chunks)
        first = np.asarray(next(chunks), dtype=np.float32)
        index = cls(first.shape[1], first, rescore_multiplier)
        index.add(first)
        for chunk in chunks:
            index.add(chunk)
        return index

    @property
    def int8(self) -> np.ndarray:
        if self._int8 is None:
            self._int8 = np.concatenate(self._int8_chunks) if len(self._int8_chunks) > 1 else self._int8_chunks[0]
            self._int8_chunks = [self._int8]
        return self._int8

    def __len__(self) -> int:
        return self.binary.ntotal

    @property
    def nbytes(self) -> int:
        """Bytes held for the corpus (bits + int8 codes)."""
        return len(self) * self.dim // 8 + self.int8.nbytes

    def search(self, queries: np.ndarray, k: int, subset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query; ``subset`` restricts the search to those passage ids (the demo's
        language filter). Ids are -1 where fewer than ``k`` passages qualify."""
        import faiss
        from sentence_transformers.util import quantize_embeddings

        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        params = None if subset is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(
            np.asarray(subset, dtype=np.int64)))
        _, candidates = self.binary.search(quantize_embeddings(queries - self.center, precision="ubinary"),
                                           k * self.rescore_multiplier, params=params)
        valid = candidates >= 0
        codes = self.int8[np.where(valid, candidates, 0)].astype(np.float32)  # (queries, candidates, dim)
        # q · (start + (c + 128) · step) = (q ⊙ step) · (c + 128) + q · start
        scores = np.einsum("qcd,qd->qc", codes + 128, queries * self.step) + (queries @ self.start)[:, None]
        scores = np.where(valid, scores, -np.inf)
        order = np.argsort(-scores, axis=1)[:, :k]
        top_ids = np.take_along_axis(candidates, order, axis=1)
        top_scores = np.take_along_axis(scores, order, axis=1)
        return top_scores, np.where(np.isfinite(top_scores), top_ids, -1)
