"""hf_hybrid.vector_index: int8 codes in an inverted file find what exact search finds, in ~1 byte/dimension."""

from __future__ import annotations

import numpy as np

from hf_hybrid.vector_index import QuantizedIndex


def _embeddings(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    """Clustered, anisotropic unit vectors (a shared offset, like real sentence embeddings)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(size=(50, dim)) + 1.5  # the same clusters for corpus and queries
    x = centres[rng.integers(0, 50, n)] + rng.normal(scale=0.6, size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_quantized_search_recalls_the_exact_top_10():
    corpus, queries = _embeddings(20_000), _embeddings(50, seed=1)
    exact = np.argsort(-(queries @ corpus.T), axis=1)[:, :10]
    index = QuantizedIndex.build([corpus[:5000], corpus[5000:]])
    scores, ids = index.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, ids, strict=True)])
    assert recall >= 0.9, recall
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first
    np.testing.assert_allclose(scores[:, 0], np.sort(queries @ corpus.T, axis=1)[:, -1], atol=0.02)  # ~ the cosine
    assert index.cells == 128 and index.probes == 32  # 5,000 training points; a quarter of the cells scanned
    assert index.nbytes == len(corpus) * (64 + 8) + 128 * 64 * 4


def test_the_same_corpus_gives_the_same_index():
    corpus = _embeddings(4000)
    first, second = (QuantizedIndex.build([corpus]).search(corpus[:5], 10)[1] for _ in range(2))
    np.testing.assert_array_equal(first, second)


def test_subset_restricts_the_search_and_pads_with_minus_one():
    corpus = _embeddings(1000)
    index = QuantizedIndex.build([corpus])
    subset = np.arange(0, 1000, 250)  # four passages
    scores, ids = index.search(corpus[:2], 10, subset=subset)
    assert set(ids[ids >= 0].ravel()) <= set(subset.tolist())
    assert (ids[:, 4:] == -1).all() and np.isneginf(scores[:, 4:]).all()
    assert ids[0, 0] == 0  # a passage that is in the subset finds itself first
