"""``python -m hf_hybrid.push``: the same command as ``hf-hybrid push`` (see :mod:`hf_hybrid.hub`)."""

import sys

from hf_hybrid.hub import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
