"""Search over a million passages: int8 codes in an inverted file (hf_hybrid.vector_index) vs exact float32
search (FAISS IndexFlatIP, the peer), in the same run: memory per passage, per-query latency (p50 / p95, one query at
a time, as the demo asks) and recall@10 of the quantized search against the exact one on the same queries.

The passages are synthetic embeddings shaped like real ones: the bundled sample's passages and queries are encoded
with a real model (default: the offline multilingual-e5-small), and each synthetic passage is a random mixture of
two real passage embeddings plus a little noise, normalized — so the corpus keeps the real embeddings' common
direction and spread (what binary codes are sensitive to), which isotropic random vectors would not. The queries
are the sample's real query embeddings.

    .venv/bin/python benchmarks/bench_search.py [--passages 1000000] [--queries 200] [--model NAME]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from results_file import append_section  # noqa: E402

from hf_hybrid.data import load_parallel  # noqa: E402
from hf_hybrid.models import E5_ID, load_model  # noqa: E402
from hf_hybrid.vector_index import DEFAULT_PROBE_FRACTION, QuantizedIndex  # noqa: E402

CHUNK = 100_000


def real_embeddings(model_name: str) -> tuple[np.ndarray, np.ndarray]:
    data = load_parallel("sample")
    passages = sorted({p for split in data.values() for p in split["passage"]})
    queries = sorted({q for split in data.values() for q in split["query"]})
    model = load_model(model_name, device="cpu")
    return (model.encode_document(passages, batch_size=64, convert_to_numpy=True),
            model.encode_query(queries, batch_size=64, convert_to_numpy=True))


def synthetic_chunks(real: np.ndarray, total: int, noise: float, seed: int = 0):
    """``total`` passage embeddings in chunks: mixtures of two real ones plus Gaussian noise, unit length."""
    rng = np.random.default_rng(seed)
    for start in range(0, total, CHUNK):
        n = min(CHUNK, total - start)
        pick = rng.integers(0, len(real), (n, 2))
        weight = rng.random((n, 1), dtype=np.float32)
        mixed = real[pick[:, 0]] * weight + real[pick[:, 1]] * (1 - weight)
        mixed += rng.normal(scale=noise, size=mixed.shape).astype(np.float32)
        yield (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def timed_search(search, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    search(queries[:1], k)  # warm-up
    ids, seconds = [], []
    for query in queries:
        start = time.perf_counter()
        ids.append(search(query[None, :], k)[1][0])
        seconds.append(time.perf_counter() - start)
    return np.vstack(ids), seconds


def pct(seconds: list[float]) -> tuple[float, float]:
    return float(np.percentile(seconds, 50) * 1000), float(np.percentile(seconds, 95) * 1000)


def recall_at(exact: np.ndarray, approx: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(exact, approx, strict=True)]))


def main() -> int:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--model", default=E5_ID)
    parser.add_argument("--noise", type=float, default=0.02, help="std of the noise added to each mixture")
    parser.add_argument("--probe-fractions", default="0.0625,0.125,0.25",
                        help="shares of the k-means cells a query scans, to measure")
    args = parser.parse_args()
    k = 10
    real_passages, real_queries = real_embeddings(args.model)
    queries = real_queries[np.random.default_rng(1).permutation(len(real_queries))[:args.queries]]

    exact = faiss.IndexFlatIP(real_passages.shape[1])
    for chunk in synthetic_chunks(real_passages, args.passages, args.noise):
        exact.add(chunk)
    exact_ids, exact_s = timed_search(exact.search, queries, k)
    rows = [("exact float32, FAISS IndexFlatIP (peer)", exact.ntotal * exact.d * 4 / exact.ntotal, *pct(exact_s),
             1.0)]
    for fraction in (float(f) for f in args.probe_fractions.split(",")):
        started = time.perf_counter()
        index = QuantizedIndex.build(synthetic_chunks(real_passages, args.passages, args.noise), fraction)
        built = time.perf_counter() - started
        ids, seconds = timed_search(index.search, queries, k)
        rows.append((f"int8 IVF ({'default, ' if fraction == DEFAULT_PROBE_FRACTION else ''}scans {index.probes} of "
                     f"{index.cells} cells; built in {built:.0f} s)", index.nbytes / len(index), *pct(seconds),
                     recall_at(exact_ids, ids)))
        del index
    peer_p95 = rows[0][3]
    command = "python benchmarks/bench_search.py " + " ".join(sys.argv[1:])
    lines = [f"## bench_search: {args.passages:,} passages, one query at a time ({date.today()})", "",
             f"`{command.strip()}` on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"faiss {faiss.__version__}; embeddings of dimension {real_passages.shape[1]} from {args.model} "
             f"(synthetic passages: mixtures of two of the sample's {len(real_passages)} real passage embeddings, "
             f"noise {args.noise}); {len(queries)} real queries; recall@{k} against the exact search.", "",
             "| index | bytes / passage | p50 ms | p95 ms | recall@10 | p95 speed-up vs exact |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {name} | {size:.0f} | {p50:.1f} | {p95:.1f} | {rec:.3f} | {peer_p95 / p95:.1f}x |"
              for name, size, p50, p95, rec in rows]
    print("\n".join(lines))
    append_section("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
