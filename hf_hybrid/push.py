"""``python -m hf_hybrid.push``: the same command as ``hf-hybrid push`` (:mod:`hf_hybrid.commands.push`)."""

import sys

from hf_hybrid.commands.push import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
