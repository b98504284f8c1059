"""The ``hf-hybrid`` console script: one subcommand per command module of :mod:`hf_hybrid.commands`."""

from __future__ import annotations

import importlib
import sys

# subcommand -> the module of hf_hybrid.commands whose ``main(argv) -> int`` it runs
COMMANDS = {
    "build": "build",
    "models": "models",
    "check": "check",
    "train": "train",
    "evaluate": "evaluate",
    "push": "push",
    "push-space": "push_space",
    "card": "card",
    "demo": "demo",
    "experiment": "experiment",
    "export": "export",
    "mine": "mine",
    "quickstart": "quickstart",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: hf-hybrid {" + ",".join(COMMANDS) + "} [options]\n")
        print("Each subcommand is also `python -m <module>`; add --help after it for its options.")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: subcommand: unknown {name!r}; fix: use one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"hf_hybrid.commands.{COMMANDS[name]}")
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
