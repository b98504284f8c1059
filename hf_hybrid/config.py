"""Dataclass configs shared by the CLI, YAML files and the Python API: their type check and the YAML reader.

The command line (``--config file.yaml`` with flags overriding it) is :func:`hf_hybrid.commands.arguments.parse`;
this module is what every stage needs whichever way its config arrived.

Why a type check of our own: argparse converts flags, but a YAML value is handed to the dataclass as it is, and so
is a value passed from Python; ``exclude_languages: es`` would become the list ``['e', 's']`` downstream, and
``batch_size: 8.7`` a float. :func:`check_types` checks a value against its field's annotation, for all three
sources alike (each config's ``validate`` calls it). :func:`hf_hybrid.ranges.check_ranges` then checks each value
against the range, choices or kind its field declares, before any data or model is loaded.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import fields
from pathlib import Path

import yaml

from hf_hybrid.errors import UserError, read_utf8

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


def from_values(values: dict, *types, ranges: bool = True) -> tuple:
    """The configs ``types`` built from ``values`` (settings by name; a setting no type has is ignored, a missing one
    takes its default), each checked against its annotations and, unless ``ranges`` is False (a dry run that
    reports every problem, not the first), its declared ranges."""
    from hf_hybrid.ranges import check_ranges

    configs = tuple(t(**{f.name: values[f.name] for f in fields(t) if f.init and f.name in values}) for t in types)
    for config in configs:
        check_types(config)
        if ranges:
            check_ranges(config)
    return configs
