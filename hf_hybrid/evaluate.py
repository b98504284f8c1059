"""``python -m hf_hybrid.evaluate``: the same as ``hf-hybrid evaluate`` (see hf_hybrid/commands/evaluate.py)."""

import sys

from hf_hybrid.commands.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
