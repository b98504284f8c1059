"""Search a large corpus in one byte per dimension: int8 codes in an inverted file (FAISS ``IndexIVFScalarQuantizer``).

Exact search keeps every passage as 384 float32 values (1.5 kB; 1.5 GB for a million passages). Scalar
quantization to int8 (*Embedding Quantization*, Aarsen, Shakir, Yamada, Gao et al., Hugging Face, 2024: the
``int8`` precision of sentence-transformers' ``quantize_embeddings``, ranges calibrated per dimension on the
corpus) keeps one byte per dimension and ranks almost exactly as float32 does. Scanning all codes is no faster
than exact BLAS search, so the codes sit in an inverted file (Jégou, Douze & Schmid, "Product Quantization for
Nearest Neighbor Search", TPAMI 2011, §IV): k-means cells over the corpus, and a query scans only the
``probe_fraction`` of cells whose centroids are nearest to it.

Measured in ``benchmarks/bench_search.py`` against exact FAISS search on the same queries: recall@10 and p95 per
query at a million passages. The binary-candidates + int8-rescoring recipe of the blog was measured first and
stopped at recall@10 0.87 with 4,000 candidates a query (RESULTS.md, 2026-11-29), short of the 0.95 asked for;
FAISS does the inverted file, the int8 codes and the scan in C++, so nothing of it is written here.

Memory: d bytes of code + 8 bytes of id per passage (392 B at d = 384), plus the centroids (cells × d × 4 B).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# The share of cells a query scans. bench_search.py, 1 M synthetic passages from e5 embeddings, 2 loaded cores:
# recall@10 0.914 / 0.938 / 0.957 at 1/16 / 1/8 / 1/4, p95 8.6 / 16.8 / 28.2 ms against 336 ms for exact search;
# 1/4 is the least that reaches the 0.95 asked for.
DEFAULT_PROBE_FRACTION = 1 / 4
MAX_CELLS = 1024  # k-means cells; FAISS wants >= 39 training points per cell
POINTS_PER_CELL = 39


class QuantizedIndex:
    """int8 codes in k-means cells; a query scans the nearest cells (see the module doc). Build with :meth:`add`
    in chunks after the first, so a corpus never has to sit in memory as float32 all at once."""

    def __init__(self, dim: int, calibration: np.ndarray, probe_fraction: float = DEFAULT_PROBE_FRACTION):
        import faiss

        if not 0 < probe_fraction <= 1:
            raise ValueError(f"probe_fraction must be in (0, 1], got {probe_fraction}")
        calibration = np.ascontiguousarray(calibration, dtype=np.float32)
        self.dim = dim
        self.cells = max(1, min(MAX_CELLS, len(calibration) // POINTS_PER_CELL))
        self.probes = max(1, round(self.cells * probe_fraction))
        # the cells' own centroids are searched exactly by inner product (the corpus vectors are unit length)
        self.index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, self.cells,
                                                   faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        self.index.cp.seed = 1234  # k-means initialisation: the same corpus gives the same cells
        self.index.train(calibration)  # k-means cells + per-dimension int8 ranges (min/max, as quantize_embeddings)

    def add(self, embeddings: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(embeddings, dtype=np.float32))

    @classmethod
    def build(cls, chunks: Iterable[np.ndarray], probe_fraction: float = DEFAULT_PROBE_FRACTION) -> QuantizedIndex:
        """An index over ``chunks`` of float32 embeddings; the first chunk trains the cells and the int8 ranges."""
        chunks = iter(chunks)
        first = np.asarray(next(chunks), dtype=np.float32)
        index = cls(first.shape[1], first, probe_fraction)
        index.add(first)
        for chunk in chunks:
            index.add(chunk)
        return index

    def __len__(self) -> int:
        return self.index.ntotal

    @property
    def nbytes(self) -> int:
        """Bytes held for the corpus: the int8 codes and the ids of the inverted lists, and the centroids."""
        return len(self) * (self.index.code_size + 8) + self.cells * self.dim * 4

    def search(self, queries: np.ndarray, k: int, subset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query, best first; ``subset`` restricts the search to those passage ids (the
        demo's language filter). Ids are -1 and scores -inf where fewer than ``k`` passages qualify."""
        import faiss

        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        params = faiss.SearchParametersIVF(nprobe=self.probes)
        if subset is not None:
            # a filter keeps fewer passages per cell: scan proportionally more cells to find k of them
            share = max(len(subset), 1) / max(len(self), 1)
            params = faiss.SearchParametersIVF(nprobe=min(self.cells, max(self.probes, round(self.probes / share))),
                                               sel=faiss.IDSelectorBatch(np.asarray(subset, dtype=np.int64)))
        scores, ids = self.index.search(queries, k, params=params)
        return np.where(ids >= 0, scores, -np.inf).astype(np.float32), ids
