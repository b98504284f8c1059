"""The one Markdown table writer: model and dataset cards, evaluation reports, the experiment report and the
quickstart's before/after table all write their tables through :func:`md_table`, so every table in the project is
spelled the same way (GitHub-flavoured Markdown, which the Hub renders)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def md_table(header: list[str], rows: Iterable[list[Any]], cell: Callable[[Any], str] = str, *,
             right_align: bool = False) -> str:
    """A Markdown table of ``rows`` under ``header``, each value written by ``cell``. ``right_align`` aligns every
    column but the first (the row names) to the right, as numbers read best."""
    rule = " --- |" + (" ---: |" if right_align else " --- |") * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + rule]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)
