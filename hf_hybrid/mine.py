"""``python -m hf_hybrid.mine``: translation-aware hard-negative mining (see :mod:`hf_hybrid.mining`)."""

import sys

from hf_hybrid.commands.mine import main

if __name__ == "__main__":
    sys.exit(main())
