"""``accelerate launch -m hf_hybrid.train`` (or ``python -m hf_hybrid.train``): the same command as ``hf-hybrid
train`` (:mod:`hf_hybrid.commands.train`). The training stage itself is the package :mod:`hf_hybrid.training`."""

import sys

from hf_hybrid.commands.train import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
