"""The quickstart as a new user meets it (issue 28 items 6–7): a fresh clone, ``bash scripts/setup``, ``hf-hybrid
quickstart`` with an empty model and embedding cache, then the demo command the quickstart prints, timed to its first
answer. Beside it, in the same run and on the same clone, the peer: the quickstart at its training settings before
issue 28 (30 steps at lr 3e-5, all 12 layers trained, embeddings frozen, no demo embeddings, plain hybrid batches
without issue 29's translation batches), with its own empty
cache, so that it too converts E5 and fills its caches.

What each setting costs is in the table; the ratio is quickstart / peer (issue 28's goal: the grid's settings within
the old quickstart's time, install included), and the first answer is compared with the goal of 30 s. The clone's
pip installs reuse this machine's pip cache and local wheel folder: a machine without them downloads the wheels.

    .venv/bin/python benchmarks/bench_quickstart.py               # clones this checkout's HEAD into a temp folder
    .venv/bin/python benchmarks/bench_quickstart.py --keep /tmp/q # keep the clone (its hf_hybrid_out, its caches)
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench_demo import first_answer
from results_file import append_section, load_note

ROOT = Path(__file__).resolve().parents[1]
PEER = ["--steps", "30", "--learning_rate", "3e-5", "--freeze_layers", "0", "--no_demo_embeddings", "--beta", "0"]
DEMO_PREFIX = "demo:"  # the quickstart's line with the demo command (hf_hybrid.commands.quickstart)
TIME_PREFIX = "time:"  # its last line: wall seconds per stage (hf_hybrid.commands.quickstart.StageClock)


def timed(cmd: list[str], cwd: Path, env: dict, log: Path) -> tuple[float, str]:
    """Run ``cmd``; its wall seconds and its output (kept in ``log``). A failure stops the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}); see {log}:\n{(proc.stdout + proc.stderr)[-2000:]}")
    return wall, proc.stdout


def demo_command(stdout: str) -> tuple[dict, list[str]]:
    """The environment and command of the quickstart's printed demo line (``MODEL_ID=... python space/app.py``)."""
    line = next(x for x in stdout.splitlines() if x.startswith(DEMO_PREFIX))
    words = shlex.split(line[len(DEMO_PREFIX):])
    env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    return env, [w for w in words if w not in {f"{k}={v}" for k, v in env.items()}]


def stage_seconds(stdout: str) -> dict[str, float]:
    """The quickstart's own wall seconds per stage, from its ``time:`` line (``name 12.3 s · … · total 550.2 s``)."""
    line = next(x for x in stdout.splitlines() if x.startswith(TIME_PREFIX))
    parts = (part.strip().rsplit(" ", 2) for part in line[len(TIME_PREFIX):].split(" · "))
    return {name: float(seconds) for name, seconds, _ in parts}


def run(clone: Path, loads: list[float]) -> dict:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_HYBRID", "VIRTUAL_ENV"))}
    logs = clone / "bench-logs"
    logs.mkdir()
    caches = {name: clone / f"cache-{name}" for name in ("quickstart", "peer")}
    for cache in caches.values():
        cache.mkdir()
    figures = {}
    figures["setup_s"], _ = timed(["bash", "scripts/setup"], clone, base_env, logs / "setup.txt")
    loads.append(os.getloadavg()[0])
    hf_hybrid = str(clone / ".venv" / "bin" / "hf-hybrid")
    env = {**base_env, "HF_HYBRID_CACHE": str(caches["quickstart"])}
    figures["quickstart_s"], stdout = timed([hf_hybrid, "quickstart"], clone, env, logs / "quickstart.txt")
    loads.append(os.getloadavg()[0])
    demo_env, command = demo_command(stdout)
    python = str(clone / ".venv" / "bin" / "python")
    command = [python if word == "python" else word for word in command]
    figures["demo"] = first_answer([], None, "Soko liko wapi?", caches["quickstart"], 900, command=command,
                                   env_extra=demo_env, cwd=clone)
    figures["demo_command"] = " ".join([*(f"{k}={v}" for k, v in demo_env.items()), "python", *command[1:]])
    loads.append(os.getloadavg()[0])
    env = {**base_env, "HF_HYBRID_CACHE": str(caches["peer"])}
    figures["peer_s"], peer_stdout = timed([hf_hybrid, "quickstart", *PEER, "--output", "hf_hybrid_out/quickstart-peer"],
                                 clone, env, logs / "peer.txt")
    loads.append(os.getloadavg()[0])
    figures["summary"] = [line for line in stdout.splitlines() if line.startswith("|")]
    figures["stages"], figures["peer_stages"] = stage_seconds(stdout), stage_seconds(peer_stdout)
    return figures


def report(f: dict, commit: str, loads: list[float]) -> str:
    total, peer_total = f["setup_s"] + f["quickstart_s"], f["setup_s"] + f["peer_s"]
    demo = f["demo"]
    return "\n".join([
        f"## bench_quickstart: a fresh clone, setup, quickstart, the printed demo's first answer "
        f"({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        "Command: `.venv/bin/python benchmarks/bench_quickstart.py`  ",
        f"Commit {commit}. Machine: {platform.platform()}, {os.cpu_count()} CPU cores, no GPU, {load_note(loads)}. "
        "Empty HF_HYBRID_CACHE for each quickstart (E5 converted, frozen prefix and demo embeddings computed); the "
        "pip installs reuse this machine's pip cache and local wheels.",
        "",
        "| step | wall s |",
        "| --- | ---: |",
        f"| `bash scripts/setup` (fresh clone) | {f['setup_s']:.1f} |",
        f"| `hf-hybrid quickstart` (300 steps, top 2 layers, lr 1e-4; demo corpus embedded) | {f['quickstart_s']:.1f} |",
        f"| setup + quickstart | {total:.1f} |",
        f"| peer: `hf-hybrid quickstart {' '.join(PEER)}` (before issue 28) | {f['peer_s']:.1f} |",
        f"| peer: setup + quickstart | {peer_total:.1f} |",
        f"| the printed demo command: page up | {demo['page_s']:.1f} |",
        f"| the printed demo command: first answer | {demo['answer_s']:.1f} |",
        "",
        f"Ratio quickstart / peer = {f['quickstart_s'] / f['peer_s']:.2f}× (setup included: "
        f"{total / peer_total:.2f}×). First answer of `{f['demo_command']}`: {demo['answer_s']:.1f} s "
        f"(goal ≤ 30 s; demo console: {'; '.join(demo['console'][-3:]) or '–'}).",
        "",
        "Where each one's time went (the quickstart's own `time:` line; Python start-up and imports before it are "
        "the rest of the wall time above):",
        "",
        "| stage | quickstart s | peer s |",
        "| --- | ---: | ---: |",
        *(f"| {name} | {seconds:.1f} | {f['peer_stages'].get(name, float('nan')):.1f} |"
          for name, seconds in f["stages"].items()),
        "",
        "The quickstart's table:",
        "",
        *f["summary"],
        "",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="clone into this (new) folder and keep it")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    parent = args.keep or Path(tempfile.mkdtemp(prefix="bench-quickstart-"))
    clone = parent / "hf-hybrid"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    loads = [os.getloadavg()[0]]
    try:
        figures = run(clone, loads)
    finally:
        if args.keep is None:
            shutil.rmtree(parent, ignore_errors=True)
    text = report(figures, commit, loads)
    print(text)
    append_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
