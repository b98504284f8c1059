"""``python -m hf_hybrid.demo``."""

import sys

from hf_hybrid.demo.cli import main

sys.exit(main())
