"""Dataclass configs shared by the CLI, YAML files and the Python API.

``parse(argv, *types)`` is transformers' ``HfArgumentParser`` plus two things it lacks: ``--config file.yaml``
with command-line flags overriding the file, and a one-line error (not a traceback) for an unknown key in the
YAML file, with the nearest valid name.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import fields
from pathlib import Path

import yaml
from transformers import HfArgumentParser

from hf_hybrid.errors import UserError


def parse(argv: list[str] | None, *types, description: str = "") -> tuple:
    argv = list(sys.argv[1:] if argv is None else argv)
    # allow_abbrev=False: a typo such as --learning_rat must be an error, not silently taken as --learning_rate
    parser = HfArgumentParser(types, description=description, allow_abbrev=False)
    parser.add_argument("--config", default=None, help="YAML file with any of these settings; flags override it")
    config_path = None
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
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
    return tuple(t(**{f.name: values[f.name] for f in fields(t) if f.init}) for t in types)


def load_yaml(path: str, types: tuple) -> dict:
    file = Path(path)
    if not file.exists():
        raise UserError("--config", f"file {path!r} not found", "check the path (configs live in configs/)")
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as err:
        raise UserError("--config", f"{path!r} is not valid YAML ({str(err).splitlines()[0]})", "fix the YAML") from None
    if not isinstance(data, dict):
        raise UserError("--config", f"{path!r} must hold a mapping of setting: value", "write key: value lines")
    known = {f.name for t in types for f in fields(t)}
    for key in data:
        if key not in known:
            near = difflib.get_close_matches(key, sorted(known), n=1)
            fix = f"did you mean {near[0]!r}?" if near else "remove it (see --help for the settings)"
            raise UserError(f"{path}: {key}", "unknown setting", fix)
    return data
