"""The ``hf-hybrid`` console script: one subcommand per stage, each the same as ``python -m hf_hybrid.<stage>``."""

from __future__ import annotations

import importlib
import sys

# subcommand -> module whose ``main(argv) -> int`` it runs
STAGES = {
    "build": "hf_hybrid.build",
    "models": "hf_hybrid.models",
    "check": "hf_hybrid.check",
    "train": "hf_hybrid.train",
    "evaluate": "hf_hybrid.evaluation.cli",
    "push": "hf_hybrid.hub",
    "push-space": "hf_hybrid.push_space",
    "card": "hf_hybrid.cards",
    "demo": "hf_hybrid.demo",
    "experiment": "hf_hybrid.experiments",
    "export": "hf_hybrid.export",
    "mine": "hf_hybrid.mining.cli",
    "quickstart": "hf_hybrid.quickstart",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: hf-hybrid {" + ",".join(STAGES) + "} [options]\n")
        print("Each subcommand is also `python -m <module>`; add --help after it for its options.")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in STAGES:
        print(f"error: subcommand: unknown {name!r}; fix: use one of {', '.join(STAGES)}", file=sys.stderr)
        return 2
    module = importlib.import_module(STAGES[name])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
