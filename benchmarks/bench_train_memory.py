"""Training memory vs the number of steps: peak RSS of a training process for a 1 k-step and a 1 M-step plan.

    python benchmarks/bench_train_memory.py [--steps 1000 1000000] [--run 5] [--batch-size 8]

Each plan size trains in its own fresh process, the same tiny XLM-R (from ``bench_train.py``), the same data and
batch, and stops after ``--run`` optimizer steps; the process reports its peak resident set size
(``getrusage``). Before the lazy feed, training materialized the whole plan (``max_steps × batch_size`` rows of
text) before its first step, so the peak grew with ``max_steps``; the goal is a ratio (largest / smallest plan)
of at most 1.2. Appends to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from results_file import append_section  # noqa: E402

DATA = "synthetic:train_groups=2000,dev_groups=10,test_groups=10"


def child(model: str, steps: int, run: int, batch: int, out: str) -> None:
    """What ``train()`` does up to and through training (the same functions), stopped after ``run`` steps."""
    from transformers import TrainerCallback

    from hf_hybrid.sampling import PlanConfig
    from hf_hybrid.training import TrainConfig
    from hf_hybrid.training.checks import check_inputs
    from hf_hybrid.training.run import build_trainer, load_base_model
    from hf_hybrid.training.run_folder import claim, inspect_output

    class StopAfter(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            control.should_training_stop = state.global_step >= run
            return control

    train_cfg = TrainConfig(model=model, data=DATA, output_dir=out, max_steps=steps, max_seq_length=64,
                            report_to=["none"], logging_steps=1000, use_negatives=False)
    plan_cfg = PlanConfig(strategy="hybrid", alpha=0.5, batch_size=batch, seed=42)
    inputs = check_inputs(train_cfg, plan_cfg)
    folder = inspect_output(train_cfg, plan_cfg, inputs.data_fingerprint)
    model_ = load_base_model(train_cfg, inputs.model_path)
    claim(folder, train_cfg, plan_cfg, inputs.data_fingerprint)
    trainer = build_trainer(inputs, folder, model_, rank=0)
    trainer.add_callback(StopAfter())
    trainer.train()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"steps": steps, "trained": trainer.state.global_step, "peak_rss_mib": round(peak_mib, 1)}))


def measure(model: str, steps: int, run: int, batch: int, work: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", model, str(steps), str(run), str(batch), str(work / f"out-{steps}")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
                                                                   "TOKENIZERS_PARALLELISM": "false",
                                                                   **_path_env()})
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _path_env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "HF_HOME", "HF_HYBRID_CACHE")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 1_000_000], help="plan sizes (max_steps)")
    parser.add_argument("--run", type=int, default=5, help="optimizer steps actually trained per plan")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    from bench_train import tiny_xlmr

    with tempfile.TemporaryDirectory(prefix="bench-train-memory-") as tmp:
        work = Path(tmp)
        model = tiny_xlmr(work / "model")
        results = [measure(model, steps, args.run, args.batch_size, work) for steps in args.steps]
    for r in results:
        print(f"plan of {r['steps']:>9,} steps ({r['trained']} trained): peak RSS {r['peak_rss_mib']:.1f} MiB")
    ratio = results[-1]["peak_rss_mib"] / results[0]["peak_rss_mib"]
    print(f"ratio {args.steps[-1]:,} / {args.steps[0]:,} steps: {ratio:.3f} (goal <= 1.2)")
    command = "python benchmarks/bench_train_memory.py " + " ".join(sys.argv[1:])
    rows = "\n".join(f"| {r['steps']:,} | {r['trained']} | {r['peak_rss_mib']:.1f} |" for r in results)
    append_section(
        f"## bench_train_memory: peak RSS of training vs plan length ({date.today()})\n\n"
        f"`{command.strip()}` — tiny XLM-R (bench_train.py), batch {args.batch_size}, each plan in a fresh "
        f"process, {args.run} steps trained; {platform.processor() or platform.machine()}.\n\n"
        f"| plan steps | trained | peak RSS (MiB) |\n| ---: | ---: | ---: |\n{rows}\n\n"
        f"Ratio largest / smallest plan: **{ratio:.3f}** (goal ≤ 1.2).")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    else:
        main()
