"""Appending a section to benchmarks/RESULTS.md: the one place every benchmark script writes its figures."""

from __future__ import annotations

import os
from pathlib import Path

from hf_hybrid.atomic import write_text

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEach section is appended by the script it names.\n"


def append_section(text: str) -> None:
    """Append ``text`` (a Markdown section) after a blank line, creating the file with its header if needed."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    write_text(RESULTS, current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")  # temp file, then rename


def load_note(loads: list[float]) -> str:
    """What the 1-minute load averages read during a run say of its wall times: above the core count, threads
    waited for a core (other jobs', or the benchmark's own clients') and wall times are stretched. Said from the
    readings, where the scripts used to call every machine shared."""
    cores = os.cpu_count() or 1
    low, high = min(loads), max(loads)
    span = f"1-minute load average {high:.1f}" if low == high else f"1-minute load average {low:.1f} to {high:.1f}"
    if high > cores:
        return f"busy ({span}, above its {cores} cores: wall times are stretched)"
    return f"quiet ({span}, within its {cores} cores)"
