"""The commands' argument parsing, in one place: every ``hf-hybrid`` subcommand reads its flags through here.

- :func:`parse` is transformers' ``HfArgumentParser`` for the stages whose settings are dataclasses, plus what it
  lacks: ``--config file.yaml`` with command-line flags overriding the file, and one-line errors (not a traceback,
  not a usage block) for an unknown key, a value of the wrong type in the YAML file (naming the file and the key),
  or a flag argparse cannot convert.
- :class:`ArgumentParser` is argparse for the other commands, with the same one-line errors.
- Both accept every flag as ``--snake_case`` and as ``--dashed-form`` (``HfArgumentParser`` adds the dashed alias
  itself; :class:`ArgumentParser` adds the missing spelling of each), so no command has its own spelling.
- :func:`flag` converts a flag's text and checks it against a range, choices or kind declared as a config field
  declares them (:mod:`hf_hybrid.ranges`), so a flag and a YAML key get the same message.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import re
import sys
import types
from collections.abc import Callable
from dataclasses import Field, fields

from transformers import HfArgumentParser

from hf_hybrid.config import from_values, load_yaml
from hf_hybrid.errors import UserError
from hf_hybrid.ranges import Declaration


class _Parser(HfArgumentParser):
    """``HfArgumentParser`` that keeps the declarations (``range``, ``choices``, ``kind``, ``fix``) out of argparse,
    which would take them as keywords: :func:`check_ranges` checks them, with one message for a flag, a YAML key
    and a Python argument alike. ``--help`` shows the range or the choices after the help text."""

    @staticmethod
    def _parse_dataclass_field(parser, field: Field):
        declaration = Declaration.of(field.metadata)
        metadata = {k: v for k, v in field.metadata.items() if k not in ("range", "choices", "kind", "fix")}
        help_text = metadata.get("help", "")
        if declaration.range is not None:
            metadata["help"] = f"{help_text} (valid: {declaration.range})".strip()
        elif declaration.choices and not all(choice in help_text for choice in declaration.choices):
            metadata["help"] = f"{help_text} (one of: {', '.join(declaration.choices)})".strip()
        field = copy.copy(field)
        field.metadata = types.MappingProxyType(metadata)
        HfArgumentParser._parse_dataclass_field(parser, field)


def parse(argv: list[str] | None, *types, description: str = "", ranges: bool = True) -> tuple:
    """The configs ``types`` from ``argv`` (and its ``--config`` file), each checked against its annotations and,
    unless ``ranges`` is False (a dry run that reports every problem, not the first), its declared ranges."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # allow_abbrev=False: a typo such as --learning_rat must be an error, not silently taken as --learning_rate
    parser = numbers_as_values(_Parser(types, description=description, allow_abbrev=False))
    parser.add_argument("--config", default=None, help="YAML file with any of these settings; flags override it")
    parser.error = argparse_error
    config_path = None
    argv = [part for arg in argv for part in (arg.split("=", 1) if arg.startswith("--config=") else [arg])]
    if argv.count("--config") > 1:
        raise UserError("--config", "given more than once", "pass one YAML file (flags override its settings)")
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
            raise UserError("--config", "no file given", "pass --config path/to/config.yaml")
        config_path = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    defaults: dict = {}
    if config_path:
        defaults = load_yaml(config_path, types)
    known = {f.name for t in types for f in fields(t)}
    parser.set_defaults(**{k: v for k, v in defaults.items() if k in known})
    namespace, unknown = parser.parse_known_args(argv)
    if unknown:
        flag = unknown[0]
        names = [f"--{n}" for n in known]
        near = difflib.get_close_matches(flag.split("=")[0].replace("-", "_").replace("__", "--", 1), names, n=1)
        raise UserError(flag, "unknown option", f"did you mean {near[0]}?" if near else "see --help")
    values = vars(namespace)
    values.pop("config", None)
    return from_values(values, *types, ranges=ranges)


_CONVERT = {int: ("a whole number", int), float: ("a number", float), str: ("a string", str)}


def flag(to: type = str, /, **declared) -> Callable[[str], object]:
    """An argparse ``type=`` that converts the flag's text ``to`` int, float or str and checks the value against
    the declaration (``range=``, ``choices=`` or ``kind=`` as in a field's metadata, optionally ``fix=``)."""
    declaration = Declaration.of(declared)
    noun, convert = _CONVERT[to]

    def check(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}; fix: pass {noun}") from None
        found = declaration.problem(value, whole=to is int)
        if found is not None:
            raise argparse.ArgumentTypeError(f"{found[0]}; fix: {found[1]}")
        return value

    check.declaration = declaration
    check.to = to
    check.__name__ = to.__name__  # argparse names the type in some of its own messages
    return check


_ARGPARSE_KIND = {"int": int, "float": float, "string_to_bool": bool}
_KIND_WORDS = {int: "a whole number", float: "a number", bool: "true or false"}
_REQUIRED = "the following arguments are required: "


def argparse_error(message: str):
    """argparse's own ``error`` prints a usage block and exits; ours raises the one line every stage prints."""
    if message.startswith(_REQUIRED):
        missing = message.removeprefix(_REQUIRED)
        raise UserError(missing.split(", ")[0], "required but not given", f"pass {missing} (see --help)")
    head, _, problem = message.partition(": ")
    name = head.removeprefix("argument ").split("/")[0] if head.startswith("argument ") else "options"
    problem, _, fix = problem.partition("; fix: ")
    if not fix:
        kind = next((k for word, k in _ARGPARSE_KIND.items() if f"invalid {word} value" in problem), None)
        fix = f"pass {_KIND_WORDS[kind]}" if kind else "see --help"
    raise UserError(name, problem or head, fix)


# What argparse takes for a negative number rather than an option: its own pattern (-1, -.5) misses -1e-09 and -inf,
# which then become "unknown option" instead of a value to check against its range.
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$|^-inf(inity)?$", re.IGNORECASE)


def numbers_as_values(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Let ``parser`` read ``-1e-09`` and ``-inf`` as values (none of our options looks like a number)."""
    parser._negative_number_matcher = NEGATIVE_NUMBER
    return parser


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one :class:`UserError` line (exit code 2 through
    :func:`hf_hybrid.errors.cli_entry`), not a usage block, which reads ``-1e-09`` as a number, and which takes
    every long option in both spellings (``--repo-id`` and ``--repo_id``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # a typo must be an error, not a silently taken longer option
        super().__init__(*args, **kwargs)
        numbers_as_values(self)

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(respell(args, self._option_string_actions), namespace)

    def error(self, message: str):
        argparse_error(message)



def respell(argv: list[str], known) -> list[str]:
    """``argv`` with each long option that ``known`` lacks in the given spelling but has in the other (``--a_b`` ↔
    ``--a-b``) written the known way; values, and options known as given, are left alone."""
    spelled = []
    for arg in argv:
        name, eq, value = arg.partition("=")
        if arg.startswith("--") and name not in known:
            stem = name[2:]
            other = next((f"--{o}" for o in (stem.replace("_", "-"), stem.replace("-", "_")) if f"--{o}" in known),
                         None)
            if other:
                arg = other + eq + value
        spelled.append(arg)
    return spelled
