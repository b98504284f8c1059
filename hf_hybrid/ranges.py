"""What every setting accepts, declared where the setting is defined, and the one check that enforces it.

A config field says what it accepts in its dataclass ``metadata``, next to its help text:

* ``"range": "[0, 1)"``: a number (or each number of a list) in that interval; a square bracket closes an end,
  a round one opens it, ``inf`` leaves a side unbounded. NaN is never in range;
* ``"choices": ("mnrl", "cached_mnrl")``: one of these strings (or a list of them);
* ``"kind": "model"``: a string of one of the :data:`KINDS` (a model, a data source, a path to read or to write,
  a Hub repo id, or free text that a later check or nothing constrains);
* ``"fix"`` (optional): the advice the error gives instead of the generated one.

A ``bool`` needs none of them: its type is its range. :func:`check_ranges` checks every field of a config against
its declaration; :func:`hf_hybrid.config.parse` calls it right after the type check, and so does every config's
``validate`` (the Python API), so a bad value is one line (setting, value, range, fix) and exit code 2 before any
data or model is loaded. ``None``, the default of an optional setting, always passes; an empty string passes a
path kind (it means "the default" where a field allows it).

Commands parsed with argparse declare their flags the same way, ``type=flag(int, range="[1, inf)")``, and use
:class:`ArgumentParser`, whose errors are the same one line instead of a usage block.
"""

from __future__ import annotations

import math
import os
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from hf_hybrid.errors import UserError
from hf_hybrid.hub_names import REPO_ID, looks_like_path

# A Hub repo id, namespace/name (the Hub's own limits: 96 characters each, starting with a letter or digit); the one
# test of "is this a Hub id" in the package (hub, cards and the settings use it; it says nothing of existence).
SEED = "[0, 4294967295]"  # numpy's legacy seeding (transformers' set_seed) takes 32-bit seeds
EXAMPLE_MODEL = "intfloat/multilingual-e5-small"
_INTERVAL = re.compile(r"^([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])$")
_NAMED_SOURCE = re.compile(r"^[A-Za-z_][\w-]*:")  # ``synthetic:seed=3``, ``xquad:data_dir=/copy``


@dataclass(frozen=True)
class Interval:
    """``[low, high]`` with either end open: ``Interval.parse("(0, inf)")``."""

    low: float
    high: float
    low_open: bool
    high_open: bool
    text: str

    @classmethod
    def parse(cls, text: str) -> Interval:
        match = _INTERVAL.match(text.strip())
        if not match:
            raise ValueError(f"range {text!r} is not an interval such as '[0, 1)' or '(0, inf)'")
        low, high = (_number(match.group(i)) for i in (2, 3))
        if not low <= high:
            raise ValueError(f"range {text!r} is empty")
        return cls(low, high, match.group(1) == "(", match.group(4) == ")", text.strip())

    def __contains__(self, value: float) -> bool:
        if _is_nan(value):
            return False
        above_low = value > self.low if self.low_open else value >= self.low
        below_high = value < self.high if self.high_open else value <= self.high
        return above_low and below_high

    def __str__(self) -> str:
        return self.text

    def problem(self, value: float, whole: bool) -> str:
        """Why ``value`` is outside, in words, then the interval."""
        if _is_nan(value):
            why = "is not a number (NaN)"
        elif value < self.low or value == self.low and self.low_open:
            if self.low == 0 and not self.low_open:
                why = "is negative"
            elif self.low == 0 or whole and self.low == 1 and not self.low_open:
                why = "is not a positive number"
            else:
                why = f"is {'not above' if self.low_open else 'below'} {_show(self.low)}"
        else:
            why = f"is {'not below' if self.high_open else 'above'} {_show(self.high)}"
        return f"{value!r} {why}, outside {self.text}"

    def advice(self, whole: bool) -> str:
        noun = "a whole number" if whole else "a number"
        low, high = math.isinf(self.low), math.isinf(self.high)
        if low and high:
            return f"use a finite {noun.removeprefix('a ')}"
        if high:
            return f"use {noun} {'>' if self.low_open else '>='} {_show(self.low)}"
        if low:
            return f"use {noun} {'<' if self.high_open else '<='} {_show(self.high)}"
        return f"use {noun} in {self.text}"


def _is_nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)  # an int has no NaN (and may be too big for a float)


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _show(value: float) -> str:
    return str(int(value)) if isinstance(value, int) else repr(value)


# -- string kinds ---------------------------------------------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    return next(p for p in (path, *path.parents) if p.exists())


def _writable_place(value: str, want_folder: bool) -> tuple[str, str] | None:
    target = Path(value).expanduser()
    if target.exists():
        if target.is_dir() == want_folder:
            return None
        return (f"{value!r} is a {'file, not a folder' if want_folder else 'folder, not a file'}",
                f"choose a {'folder' if want_folder else 'file'} path")
    parent = _nearest_existing(target.absolute())
    if not parent.is_dir():
        return f"{str(parent)!r} (in {value!r}) is a file, not a folder", "choose another path"
    return None


def _model(value: str) -> tuple[str, str] | None:
    if not value.strip():
        return "empty model name", f"give a Hub id such as {EXAMPLE_MODEL} or a local folder"
    if Path(value).expanduser().exists():
        return None
    if looks_like_path(value):
        return f"{value!r} is not an existing folder", f"check the path, or give a Hub id such as {EXAMPLE_MODEL}"
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(value)
    except HFValidationError:
        return (f"{value!r} is neither an existing folder nor a Hub id (name or namespace/name)",
                f"check the path (start a relative one with ./), or give a Hub id such as {EXAMPLE_MODEL}")
    return None


def _source(value: str) -> tuple[str, str] | None:
    if _NAMED_SOURCE.match(value) or not looks_like_path(value) or Path(value).expanduser().exists():
        return None
    return f"file or folder {value!r} not found", f"check the path (relative paths start from {os.getcwd()})"


def _existing(value: str, folder: bool | None) -> tuple[str, str] | None:
    """An existing folder (``folder`` True), file (False) or either (None)."""
    path = Path(value).expanduser()
    noun = {True: "folder", False: "file", None: "file or folder"}[folder]
    if not path.exists():
        return f"{noun} {value!r} not found", f"check the path (relative paths start from {os.getcwd()})"
    if folder is not None and path.is_dir() != folder:
        return f"{value!r} is a {'file' if folder else 'folder'}, not a {noun}", f"give a {noun}"
    return None


def _repo_id(value: str) -> tuple[str, str] | None:
    if REPO_ID.match(value):
        return None
    return f"{value!r} is not a Hub repo id", "use namespace/name, e.g. org/hybrid-xlmr"


# kind -> its check: None when the string is one, else (problem, fix). A path kind takes "" (the default).
KINDS: dict[str, Callable[[str], tuple[str, str] | None]] = {
    "text": lambda value: None,  # any text: checked where it is used (a language code, a split), if at all
    "model": _model,  # a Hub model id, an offline model name or a local model folder
    "source": _source,  # a registered source[:options], a local file or folder, or a Hub dataset id
    "folder": lambda value: _existing(value, folder=True),  # an existing folder
    "file": lambda value: _existing(value, folder=False),  # an existing file
    "path": lambda value: _existing(value, folder=None),  # an existing file or folder
    "output": lambda value: _writable_place(value, want_folder=True),  # a folder to write (created if missing)
    "output_file": lambda value: _writable_place(value, want_folder=False),  # a file to write
    "repo_id": _repo_id,  # a Hub repo id, namespace/name
}
PATH_KINDS = ("source", "folder", "file", "path", "output", "output_file")


def kind_problem(kind: str, value: str) -> tuple[str, str] | None:
    """``None`` if ``value`` is a string of this kind, else ``(problem, fix)`` (for a check that reports rather
    than raises, such as ``hf-hybrid check``)."""
    return KINDS[kind](value)


@dataclass(frozen=True)
class Declaration:
    """What one setting accepts: a range (numbers), choices or a kind (strings); ``fix`` overrides the advice."""

    range: Interval | None = None
    choices: tuple[str, ...] | None = None
    kind: str | None = None
    fix: str | None = None

    @classmethod
    def of(cls, metadata: typing.Mapping) -> Declaration:
        """From a field's metadata (or :func:`flag`'s keywords); a malformed declaration is a programming error."""
        interval = Interval.parse(metadata["range"]) if "range" in metadata else None
        choices = tuple(metadata["choices"]) if "choices" in metadata else None
        kind = metadata.get("kind")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if sum(x is not None for x in (interval, choices, kind)) > 1:
            raise ValueError("declare one of range, choices or kind")
        return cls(interval, choices, kind, metadata.get("fix"))

    @property
    def declared(self) -> bool:
        return any(x is not None for x in (self.range, self.choices, self.kind))

    def problem(self, value, whole: bool = False) -> tuple[str, str] | None:
        """``None`` if one value (an item of a list field) is acceptable, else ``(problem, fix)``."""
        if value is None:
            return None
        if self.range is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            if value not in self.range:
                return self.range.problem(value, whole), self.fix or self.range.advice(whole)
        elif self.choices is not None and isinstance(value, str):
            if value not in self.choices:
                return f"{value!r} is not one of {', '.join(self.choices)}", self.fix or "use one of them"
        elif self.kind is not None and isinstance(value, str):
            if value == "" and self.kind in PATH_KINDS:
                return None
            found = KINDS[self.kind](value)
            if found is not None:
                return found[0], self.fix or found[1]
        return None


def _scalar(annotation) -> type | None:
    """``int`` for ``int``, ``int | None`` and ``list[int]``; likewise float, str, bool; None for anything else."""
    args = typing.get_args(annotation)
    if args:
        inner = [a for a in args if a is not type(None)]
        return _scalar(inner[0]) if len(inner) == 1 else None
    return annotation if annotation in (int, float, str, bool) else None


def declarations(config_type: type) -> dict[str, Declaration]:
    """Every field's declaration (an empty one where the field declares nothing)."""
    return {f.name: Declaration.of(f.metadata) for f in fields(config_type)}


def undeclared(config_type: type) -> list[str]:
    """Fields that say nothing of their valid values: every number needs a range, every string choices or a
    kind (a bool's type is its range). The generated test (tests/test_ranges.py) fails on any."""
    hints = typing.get_type_hints(config_type)
    found = declarations(config_type)
    return [name for name, declaration in found.items()
            if not declaration.declared and _scalar(hints[name]) is not bool]


def check_ranges(config) -> None:
    """Check every field of a dataclass config (after :func:`hf_hybrid.config.check_types`) against its
    declaration; the first value outside is a one-line :class:`UserError` naming the setting, the value, the
    valid range or choices and the fix."""
    hints = typing.get_type_hints(type(config))
    for name, declaration in declarations(type(config)).items():
        value = getattr(config, name)
        whole = _scalar(hints[name]) is int
        for item in value if isinstance(value, (list, tuple)) else [value]:
            found = declaration.problem(item, whole)
            if found is not None:
                raise UserError(name, *found)


# -- argparse -------------------------------------------------------------------------------------------------
