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

    def __reduce__(self):
        """Pickled by its three parts (the demo's model process raises it in the page's process)."""
        return type(self), (self.field, self.problem, self.fix)


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


def utf8_error(path: str, data: bytes, err: UnicodeDecodeError, *, line_offset: int = 0, field: str | None = None,
               fix: str | None = None) -> UserError:
    """The one-line error for invalid UTF-8 in ``data`` (a file, or the chunk of it that starts after
    ``line_offset`` lines): the file, the line and the bad bytes (``field``: the setting that named the file)."""
    line = line_offset + data.count(b"\n", 0, err.start) + 1
    bad = data[err.start:err.end]
    where = f"{path!r} line {line}" if field else f"line {line}"
    return UserError(field or path, f"{where} is not valid UTF-8 (bytes {bad!r})",
                     fix or "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 in > out)")


def read_utf8(path: str) -> str:
    """A small text file (a YAML config), decoded strictly: invalid UTF-8 is a :class:`UserError`, not a
    traceback or silently replaced characters."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise utf8_error(path, data, err) from None


def check_utf8(path: str, chunk_size: int = 1 << 24, *, field: str | None = None, fix: str | None = None) -> bool:
    """Decode a text file strictly in chunks (flat memory on big files; C-speed decoding): readers such as
    Arrow's JSON reader would otherwise keep invalid bytes in string columns, to fail only when read back, or fail
    deep inside pyarrow. Returns whether the file holds any text besides whitespace (an empty JSONL file is an
    ``IndexError`` in ``datasets``)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines, blank = 0, True
    with open(path, "rb") as fh:
        while True:
            data = fh.read(chunk_size)
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError as err:
                raise utf8_error(path, data, err, line_offset=lines, field=field, fix=fix) from None
            blank = blank and not text.strip()
            if not data:
                return not blank
            lines += data.count(b"\n")
