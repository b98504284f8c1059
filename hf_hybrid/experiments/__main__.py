"""``python -m hf_hybrid.experiments``: the same as ``hf-hybrid experiment``."""

import sys

from hf_hybrid.commands.experiment import main

sys.exit(main())
