"""Dataclass configs shared by the CLI, YAML files and the Python API.

``parse(argv, *types)`` is transformers' ``HfArgumentParser`` plus what it lacks: ``--config file.yaml`` with
command-line flags overriding the file, and one-line errors (not a traceback, not a usage block) for an unknown
key, a value of the wrong type in the YAML file (naming the file and the key), or a flag argparse cannot convert.

Why a type check of our own: argparse converts flags, but a YAML value is handed to the dataclass as it is, and so
is a value passed from Python; ``exclude_languages: es`` would become the list ``['e', 's']`` downstream, and
``batch_size: 8.7`` a float. :func:`check_types` checks a value against its field's annotation, for all three
sources alike (each config's ``validate`` calls it). :func:`hf_hybrid.ranges.check_ranges` then checks each value
against the range, choices or kind its field declares, before any data or model is loaded.
"""

from __future__ import annotations

import copy
import difflib
import sys
import types
import typing
from dataclasses import Field, fields
from pathlib import Path

import yaml
from transformers import HfArgumentParser

from hf_hybrid.errors import UserError, read_utf8
from hf_hybrid.ranges import Declaration, argparse_error, check_ranges, numbers_as_values

_KIND = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}
_GOT = {str: "a string", float: "a decimal number", int: "a whole number", bool: "true/false", list: "a list",
        dict: "a mapping", type(None): "empty (null)"}


def _describe(annotation) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("nothing (null)" if a is type(None) else _describe(a) for a in args)
    if origin is list:
        return f"a list of {_describe(args[0]).removeprefix('a ')}s" if args else "a list"
    return _KIND.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _example(annotation, key: str, value, yaml_file: bool) -> str:
    """How to write the value right: ``write exclude_languages: [es]`` in a YAML file, ``['es']`` from Python."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _example(next(a for a in args if a is not type(None)), key, value, yaml_file)
    if origin is list and isinstance(value, str):
        return f"write {key}: [{value}]" if yaml_file else f"pass a list, e.g. {key}=[{value!r}]"
    if annotation is int and isinstance(value, float):
        return f"use a whole number, e.g. {max(1, round(value))}"
    if annotation is bool:
        return f"write {key}: true or {key}: false" if yaml_file else "pass True or False"
    return f"use {_describe(annotation)}"


def check_value(annotation, value, *, field: str, key: str, yaml_file: bool = False):
    """``value`` if it has the type ``annotation`` says (an int is taken where a float is expected), else a
    one-line :class:`UserError` naming ``field``, the value and how to write it."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:  # ``X | None``: the error is X's (it names the offending item of a list)
            return check_value(options[0], value, field=field, key=key, yaml_file=yaml_file)
        for arg in options:
            try:
                return check_value(arg, value, field=field, key=key, yaml_file=yaml_file)
            except UserError:
                pass
    elif origin is list or annotation is list:
        if isinstance(value, (list, tuple)):
            inner = args[0] if args else typing.Any
            return [check_value(inner, v, field=field, key=key, yaml_file=yaml_file) for v in value]
    elif annotation is typing.Any:
        return value
    elif annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
    else:  # a type we do not check (a dict, a nested dataclass): left to the config's own validate
        return value
    got = _GOT.get(type(value), f"a {type(value).__name__}")
    raise UserError(field, f"{value!r} is {got}, not {_describe(annotation)}",
                    _example(annotation, key, value, yaml_file))


def check_types(config) -> None:
    """Check (and normalize: int → float) every field of a dataclass config against its annotation.

    Each config's ``validate`` calls this first, so the Python API refuses ``PlanConfig(exclude_languages="es")``
    exactly as the YAML loader refuses ``exclude_languages: es``."""
    hints = typing.get_type_hints(type(config))
    for f in fields(config):
        value = getattr(config, f.name)
        checked = check_value(hints[f.name], value, field=f.name, key=f.name)
        if type(checked) is not type(value) or checked != value:
            object.__setattr__(config, f.name, checked)


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
    configs = tuple(t(**{f.name: values[f.name] for f in fields(t) if f.init}) for t in types)
    for config in configs:
        check_types(config)
        if ranges:
            check_ranges(config)
    return configs


def load_yaml(path: str, types: tuple) -> dict:
    """The settings of a YAML file, each checked against its field's type (errors name the file and the key)."""
    file = Path(path)
    if not file.is_file():
        problem = "is a folder, not a file" if file.is_dir() else "not found"
        raise UserError("--config", f"{path!r} {problem}", "check the path (configs live in configs/)")
    try:
        data = yaml.safe_load(read_utf8(path)) or {}
    except yaml.YAMLError as err:
        raise UserError("--config", f"{path!r} is not valid YAML ({str(err).splitlines()[0]})", "fix the YAML") from None
    if not isinstance(data, dict):
        raise UserError("--config", f"{path!r} must hold a mapping of setting: value", "write key: value lines")
    hints = {f.name: typing.get_type_hints(t)[f.name] for t in types for f in fields(t)}
    checked = {}
    for key, value in data.items():
        if key not in hints:
            near = difflib.get_close_matches(str(key), sorted(hints), n=1)
            fix = f"did you mean {near[0]!r}?" if near else "remove it (see --help for the settings)"
            raise UserError(f"{path}: {key}", "unknown setting", fix)
        checked[key] = check_value(hints[key], value, field=f"{path}: {key}", key=key, yaml_file=True)
    return checked

