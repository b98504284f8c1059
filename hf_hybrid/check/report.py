"""What a dry run found: every problem (one line each), the files a run would read, and a short summary.

A dry run does not stop at the first problem: a user about to rent a GPU wants the whole list at once. Each
check runs inside :meth:`CheckReport.collect`, which turns the project's one-line
:class:`~hf_hybrid.errors.UserError` into a problem line and goes on with the next check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from hf_hybrid.errors import UserError


@dataclass
class FileEntry:
    """One file a run will read: where from, and its size when it is known (local copy or reachable Hub)."""

    source: str
    path: str
    size: int | None = None
    where: str = "hub"  # "hub" (fetched at run time), "local" (a folder or a --mirror copy), "cache", "bundled"


@dataclass
class CheckReport:
    """The result of a dry run. ``ok`` is True when ``problems`` is empty (exit code 0; otherwise 2)."""

    kind: str
    config: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 2

    def problem(self, setting: str, value: object, fix: str) -> None:
        """Record one problem as the project's one-line error: the setting, the offending value, the fix (once,
        when two checks find the same)."""
        line = str(UserError(setting, str(value), fix))
        if line not in self.problems:
            self.problems.append(line)

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Run one check; a :class:`UserError` becomes a problem line instead of ending the dry run."""
        try:
            yield
        except UserError as err:
            line = str(err).replace("\n", " ")
            if line not in self.problems:
                self.problems.append(line)

    def merge(self, other: CheckReport) -> None:
        for line in other.problems:
            if line not in self.problems:
                self.problems.append(line)
        self.notes += [n for n in other.notes if n not in self.notes]
        self.files += [f for f in other.files if f not in self.files]
        self.summary.update(other.summary)

    def render(self) -> str:
        """The summary (on success) or one line per problem, as ``hf-hybrid check`` prints them."""
        lines = [f"{self.kind} config {self.config}".strip()]
        for key, value in self.summary.items():
            lines.append(f"  {key}: {value}")
        if self.files:
            lines.append("  files:")
            for entry in self.files:
                size = "size unknown" if entry.size is None else f"{entry.size / 1e6:,.1f} MB" \
                    if entry.size >= 1e5 else f"{entry.size:,} bytes"
                lines.append(f"    [{entry.where}] {entry.source}: {entry.path} ({size})")
        lines += [f"  note: {note}" for note in self.notes]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"error: {line}" for line in self.problems]
        else:
            lines.append("ok: nothing found that would fail after training starts")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok}, indent=2, default=str)
