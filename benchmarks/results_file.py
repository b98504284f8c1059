"""Appending a section to benchmarks/RESULTS.md: the one place every benchmark script writes its figures."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEach section is appended by the script it names.\n"


def append_section(text: str) -> None:
    """Append ``text`` (a Markdown section) after a blank line, creating the file with its header if needed."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    RESULTS.write_text(current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n", encoding="utf-8")
