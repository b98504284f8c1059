"""One exception type for mistakes a user can fix.

Every stage raises :class:`UserError` with a single line that names the field, the offending value and
the fix. The CLI turns it into that line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem with the user's input or configuration, explained in one line."""

    def __init__(self, field: str, problem: str, fix: str):
        self.field, self.problem, self.fix = field, problem, fix
        super().__init__(f"{field}: {problem}; fix: {fix}")


def cli_entry(main: Callable[[list[str] | None], int | None]) -> Callable[[list[str] | None], int]:
    """Wrap a stage's ``main(argv)`` so a :class:`UserError` becomes one stderr line and exit code 2."""

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        try:
            return int(main(argv) or 0)
        except UserError as err:
            print(f"error: {err}".replace("\n", " "), file=sys.stderr)
            return 2

    return wrapper
