"""Hugging Face Space entry point: the cross-lingual search demo.

Deliberately thin: the page, the search and the configuration live in :mod:`hf_hybrid.demo`, so this Space,
``hf-hybrid demo`` and ``python -m hf_hybrid.demo`` are one code path. Settings come from the environment
(``MODEL_ID``, ``BASE_MODEL_ID`` or ``MODELS``, ``CORPUS``, ``PORT``); see README.md.
"""

import sys

from hf_hybrid.demo import main

if __name__ == "__main__":
    sys.exit(main())
