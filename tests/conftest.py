"""Test-wide settings: everything runs offline, with caches in a per-session temp folder."""

import os
import tempfile

_CACHE = tempfile.mkdtemp(prefix="hf-hybrid-tests-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_CACHE", os.path.join(_CACHE, "datasets"))

# The local Hub-compatible endpoint (tests/hub_server.py) and its fixtures, for every test that pushes or pulls.
pytest_plugins = ["tests.hubfixture"]
