"""Batch-plan generation vs sentence-transformers' NoDuplicatesBatchSampler, same data and batch size, one run.

    python benchmarks/bench_sampling.py [--rows 10000000] [--batch-size 256] [--peer-batches 2000]

Ours: a hybrid plan (α = 0.5) over the whole synthetic world, every step materialized as row indices (the work
the trainer's sampler does). Peer: iterating ``NoDuplicatesBatchSampler`` over the same rows (query/passage
columns) — the sampler sentence-transformers recommends for in-batch-negative losses. The peer is timed on its
first ``--peer-batches`` batches (its rate is steady). Prints rows/s for both, the ratio, and the plan's peak
traced memory at two plan lengths (flat in the number of steps). Appends a section to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

from datasets import Dataset
from sentence_transformers.base.sampler import NoDuplicatesBatchSampler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from results_file import append_section  # noqa: E402

from hf_hybrid.data import make_world  # noqa: E402
from hf_hybrid.sampling import BatchPlan, PlanConfig, PlanIndex  # noqa: E402


def plan_rate(index: PlanIndex, batch_size: int, steps: int) -> tuple[float, float]:
    plan = BatchPlan(index, PlanConfig(strategy="hybrid", alpha=0.5, batch_size=batch_size), steps)
    tracemalloc.start()
    start = time.perf_counter()
    rows = 0
    for batch in plan.batches():
        rows += len(batch.query_rows)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows / elapsed, peak / 2**20


def peer_rate(dataset: Dataset, batch_size: int, batches: int) -> float:
    pairs = dataset.select_columns(["query", "passage"])
    sampler = NoDuplicatesBatchSampler(pairs, batch_size=batch_size, drop_last=True, seed=42)
    start = time.perf_counter()
    rows = 0
    for i, batch in enumerate(sampler):
        rows += len(batch)
        if i + 1 >= batches:
            break
    return rows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--languages", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--peer-batches", type=int, default=2000)
    args = parser.parse_args()
    groups = args.rows // args.languages
    t0 = time.perf_counter()
    world = make_world(high=args.languages, low=0, zero=0, train_groups=groups, dev_groups=0, test_groups=0,
                       concepts=max(4000, int((groups * 2 / 40) ** 0.5) + 200), hard_negatives=False,
                       chunk_groups=250_000)
    train = world.dataset["train"]
    t_world = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = PlanIndex(train)
    t_index = time.perf_counter() - t0
    full_steps = len(train) // args.batch_size
    ours, peak_full = plan_rate(index, args.batch_size, full_steps)
    _, peak_short = plan_rate(index, args.batch_size, max(1, full_steps // 20))
    peer = peer_rate(train, args.batch_size, args.peer_batches)
    ratio = ours / peer
    command = " ".join(["python", "benchmarks/bench_sampling.py", *sys.argv[1:]])
    lines = [
        f"## bench_sampling: hybrid plan vs NoDuplicatesBatchSampler ({date.today()})",
        "",
        f"`{command}` on {platform.machine()}, {len(train):,} rows ({args.languages} languages x {groups:,} groups),"
        f" batch {args.batch_size}. World generated in {t_world:.1f} s; plan index built in {t_index:.1f} s.",
        "",
        "| sampler | rows/s |",
        "| --- | --- |",
        f"| ours: hybrid plan (alpha 0.5), {full_steps:,} steps = every row once | {ours:,.0f} |",
        f"| peer: NoDuplicatesBatchSampler, first {args.peer_batches} batches | {peer:,.0f} |",
        "",
        f"Ratio ours / peer: **{ratio:.1f}x**. Peak traced memory while planning: {peak_short:.1f} MiB for "
        f"{max(1, full_steps // 20):,} steps, {peak_full:.1f} MiB for {full_steps:,} steps (flat in the number of "
        f"steps; the index itself is one groups x languages int32 table, {index.row_of.nbytes / 2**20:.0f} MiB).",
        "",
    ]
    print("\n".join(lines))
    append_section("\n".join(lines))


if __name__ == "__main__":
    main()
