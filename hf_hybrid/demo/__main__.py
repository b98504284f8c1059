"""``python -m hf_hybrid.demo``."""

import sys

from hf_hybrid.commands.demo import main

sys.exit(main())
