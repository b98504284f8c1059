"""Pytest fixtures that point the real Hub clients at a :class:`tests.hub_server.LocalHub` on 127.0.0.1.

Use ``pytest_plugins = ["tests.hubfixture"]`` in a conftest (or ``from tests.hubfixture import local_hub``).
The fixture ``local_hub`` yields a started :class:`LocalHub` with one user, ``tester``, member of the ``org``
organisation, whose token is ``local_hub.token`` (also in ``HF_TOKEN``).

The clients read ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, ``HF_HUB_DISABLE_XET`` and the cache folders once, at import,
into module constants; setting the environment is enough for subprocesses (``local_hub.env``), and the fixture
also patches those constants for the current process, restored after the test.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub_server import LocalHub

USER, ORG = "tester", "org"


def hub_environment(hub: LocalHub, token: str, home: Path) -> dict[str, str]:
    """The environment that makes a fresh process use ``hub`` with ``token`` and an empty cache in ``home``."""
    return {
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": token,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "TRANSFORMERS_OFFLINE": "0",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_DATASETS_CACHE": str(home / "datasets"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }


def _patch_loaded_clients(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Mirror ``env`` into the constants ``huggingface_hub`` and ``datasets`` computed at import time."""
    import datasets.config
    import huggingface_hub
    from huggingface_hub import constants

    home = Path(env["HF_HOME"])
    for name, value in {
        "ENDPOINT": env["HF_ENDPOINT"],
        "HUGGINGFACE_CO_URL_TEMPLATE": env["HF_ENDPOINT"] + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_XET": True,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": env["HF_HUB_CACHE"],
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
    }.items():
        monkeypatch.setattr(constants, name, value)
    # ``huggingface_hub.create_repo`` & co. are methods of a module-level HfApi built with the import-time endpoint.
    monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", env["HF_ENDPOINT"])
    for name, value in {
        "HF_ENDPOINT": env["HF_ENDPOINT"],
        "HUB_DATASETS_URL": env["HF_ENDPOINT"] + "/datasets/{repo_id}/resolve/{revision}/{path}",
        "HF_HUB_OFFLINE": False,
        "HF_DATASETS_OFFLINE": False,
        "HF_CACHE_HOME": str(home),
        "HF_DATASETS_CACHE": Path(env["HF_DATASETS_CACHE"]),
        "DOWNLOADED_DATASETS_PATH": Path(env["HF_DATASETS_CACHE"]) / "downloads",
        "EXTRACTED_DATASETS_PATH": Path(env["HF_DATASETS_CACHE"]) / "downloads" / "extracted",
        "HF_UPDATE_DOWNLOAD_COUNTS": False,
    }.items():
        monkeypatch.setattr(datasets.config, name, value)


@pytest.fixture
def local_hub(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    """A started local Hub, with the environment and the loaded clients pointed at it and a fresh HF_HOME.

    Attributes added for tests: ``token`` (the user's token), ``user``, ``org``, ``home`` (the HF_HOME folder)
    and ``env`` (the full environment for a subprocess: ``{**os.environ, **local_hub.env}``).
    """
    token = "hf_" + secrets.token_hex(16)
    home = tmp_path_factory.mktemp("hf_home")
    hub = LocalHub(tokens={token: USER}, orgs={USER: [ORG]})
    env = hub_environment(hub, token, home)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _patch_loaded_clients(monkeypatch, env)
    hub.token, hub.user, hub.org, hub.home, hub.env = token, USER, ORG, home, env
    with hub:
        yield hub
