"""``python -m hf_hybrid.commands.pretrain``: pre-train the tiny from-scratch encoder of the synthetic world
(:mod:`hf_hybrid.pretrain`)."""

from __future__ import annotations

from hf_hybrid.commands.arguments import parse
from hf_hybrid.errors import cli_entry
from hf_hybrid.pretrain import PretrainConfig, pretrain


@cli_entry
def main(argv: list[str] | None = None) -> int:
    (cfg,) = parse(argv, PretrainConfig, description=__doc__)
    folder = pretrain(cfg)
    print(f"pre-trained encoder: {folder}")
    return 0



if __name__ == "__main__":
    import sys

    sys.exit(main())
