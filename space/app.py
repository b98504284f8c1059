"""Hugging Face Space entry point: the cross-lingual search demo.

Deliberately thin: the page, the search and the configuration live in :mod:`hf_hybrid.demo`, so this Space,
``hf-hybrid demo`` and ``python -m hf_hybrid.demo`` are one code path. Settings come from the environment
(``MODEL_ID``, ``BASE_MODEL_ID`` or ``MODELS``, ``CORPUS``, ``PORT``); see docs/pipeline.md (the demo). A Space made by
``hf-hybrid push-space`` also carries ``space_settings.json`` beside this file: defaults the Space's variables override.
"""

import os
import sys
from pathlib import Path

from hf_hybrid.commands.demo import main

if __name__ == "__main__":
    settings = Path(__file__).resolve().with_name("space_settings.json")
    if settings.is_file():
        os.environ.setdefault("DEMO_SETTINGS", str(settings))
    sys.exit(main())
