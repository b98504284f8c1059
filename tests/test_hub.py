"""Push and load back for real, through the ordinary clients, against the local Hub endpoint (tests/hub_server.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset, DatasetDict, load_dataset
from huggingface_hub import DatasetCard, HfApi, ModelCard
from huggingface_hub.errors import RepositoryNotFoundError

import hf_hybrid.hub as hub
from hf_hybrid.commands.push import main as push_main
from hf_hybrid.errors import UserError
from tests.hubfixture import local_hub  # noqa: F401  (fixture)
from tests.support.records import RESULTS

SENTENCES = ["Where is the market?", "Der Markt ist am Hafen.", "Η αγορά είναι στο λιμάνι."]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "RETRY_BASE_DELAY_S", 0.01)


def parallel() -> DatasetDict:
    rows = {"id": ["g1", "g1", "g2", "g2"], "lang": ["en", "de", "en", "de"],
            "query": ["Where is the market?", "Wo ist der Markt?", "Who won?", "Wer hat gewonnen?"],
            "passage": ["By the harbour.", "Am Hafen.", "The blue team.", "Das blaue Team."],
            "negatives": [["In the hills."], ["In den Bergen."], [], ["Das rote Team."]]}
    return DatasetDict({"train": Dataset.from_dict(rows), "test": Dataset.from_dict({k: v[:2] for k, v in rows.items()})})


def test_push_model_then_load_gives_identical_embeddings(local_hub, model_dir: Path) -> None:  # noqa: F811
    from sentence_transformers import SentenceTransformer

    url = hub.push_model(model_dir, "org/hybrid-xlmr")
    assert url.startswith(f"{local_hub.url}/org/hybrid-xlmr/commit/")

    loaded = SentenceTransformer("org/hybrid-xlmr", device="cpu", cache_folder=str(local_hub.home / "fresh"))
    original = SentenceTransformer(str(model_dir), device="cpu")
    assert np.array_equal(original.encode(SENTENCES), loaded.encode(SENTENCES))

    api = HfApi()
    files = set(api.list_repo_files("org/hybrid-xlmr"))
    assert {"model.safetensors", "modules.json", "README.md", "hf_hybrid_training.json", "results.json"} <= files
    assert json.loads(local_hub.file_bytes("model", "org/hybrid-xlmr", "results.json")) == RESULTS
    commits = api.list_repo_commits("org/hybrid-xlmr")
    assert commits[0].title.startswith("hf-hybrid: push hybrid-xlmr") and "evaluation results" in commits[0].title
    assert len(commits) == 2  # the repo's initial commit + one atomic push
    card = ModelCard.load("org/hybrid-xlmr")
    assert {(r.dataset_name, r.metric_type): r.metric_value for r in card.data.eval_results}[("xquad-r", "multi.map")] \
        == RESULTS["suites"][0]["metrics"]["multi.map"]


def test_card_update_goes_to_a_branch_and_leaves_main(local_hub, model_dir: Path) -> None:  # noqa: F811
    hub.push_model(model_dir, "org/hybrid-xlmr")
    changed = json.loads(json.dumps(RESULTS))
    changed["suites"][0]["metrics"]["multi.map"] = 0.9
    (model_dir / "results.json").write_text(json.dumps(changed))
    hub.push_model(model_dir, "org/hybrid-xlmr", revision="card-update", commit_message="update the card")

    api = HfApi()
    assert {b.name for b in api.list_repo_refs("org/hybrid-xlmr").branches} == {"main", "card-update"}
    on_branch = ModelCard.load(api.hf_hub_download("org/hybrid-xlmr", "README.md", revision="card-update"))
    on_main = ModelCard.load("org/hybrid-xlmr")
    assert "| multi.map | 0.9000 |" not in on_main.text
    assert any(r.metric_value == 0.9 for r in on_branch.data.eval_results)
    branch_commit = api.list_repo_commits("org/hybrid-xlmr", revision="card-update")[0]
    assert branch_commit.title == "update the card"
    # unchanged weights are not uploaded again: the client skips files whose oid the Hub already has
    assert api.get_paths_info("org/hybrid-xlmr", ["model.safetensors"], revision="card-update")[0].lfs is not None


def test_push_dataset_then_load_dataset_gives_it_back(local_hub) -> None:  # noqa: F811
    data = parallel()
    url = hub.push_dataset(data, "org/hybrid-sample")
    assert "/datasets/org/hybrid-sample/commit/" in url
    back = load_dataset("org/hybrid-sample", "parallel", cache_dir=str(local_hub.home / "ds"))
    assert set(back) == {"train", "test"}
    for split in data:
        assert back[split].to_list() == data[split].to_list()
        assert back[split].features == data[split].features

    card = DatasetCard.load("org/hybrid-sample", repo_type="dataset")
    assert "hf-hybrid" in card.data.tags and card.data.language == ["de", "en"]
    assert card.data.configs[0]["config_name"] == "parallel"  # what datasets wrote for load_dataset is kept
    # A second config (a materialized plan) keeps the card and adds its config.
    plan = DatasetDict({"train": Dataset.from_dict({"batch": [0, 0], "kind": ["mono", "mono"], "anchor": ["a", "b"],
                                                    "positive": ["c", "d"]})})
    hub.push_dataset(plan, "org/hybrid-sample", config_name="hybrid-a0.5-b2-s42")
    card = DatasetCard.load("org/hybrid-sample", repo_type="dataset")
    assert {c["config_name"] for c in card.data.configs} == {"parallel", "hybrid-a0.5-b2-s42"}
    assert "hybrid-batch* dataset" in card.text
    again = load_dataset("org/hybrid-sample", "parallel", cache_dir=str(local_hub.home / "ds2"))
    assert again["train"].to_list() == data["train"].to_list()


def test_two_server_errors_then_success_is_a_successful_push(local_hub, model_dir: Path) -> None:  # noqa: F811
    local_hub.fail(500, times=2, method="POST", path=r"/repos/create$")
    local_hub.fail(503, times=2, method="POST", path=r"/commit/main$")
    url = hub.push_model(model_dir, "org/flaky")
    commits = [status for method, path, status in local_hub.requests if path.endswith("/commit/main")]
    creates = [status for method, path, status in local_hub.requests if path.endswith("/repos/create")]
    assert creates == [500, 500, 200] and commits == [503, 503, 200]
    assert url.endswith(HfApi().model_info("org/flaky").sha)


def test_forbidden_namespace_is_a_one_line_error(local_hub, model_dir: Path) -> None:  # noqa: F811
    local_hub.tokens["hf_someone_else"] = "someone"  # a namespace that exists but is not ours
    with pytest.raises(UserError) as err:
        hub.push_model(model_dir, "someone/hybrid-xlmr")
    assert err.value.field == "repo_id" and "403" in str(err.value) and "\n" not in str(err.value)


def test_forbidden_commit_is_not_retried_and_not_reported(local_hub, model_dir: Path) -> None:  # noqa: F811
    local_hub.fail(403, times=1, method="POST", path=r"/commit/")
    with pytest.raises(UserError, match="403"):
        hub.push_model(model_dir, "org/hybrid-xlmr")
    assert [s for m, p, s in local_hub.requests if "/commit/" in p] == [403]
    assert HfApi().list_repo_files("org/hybrid-xlmr") == [".gitattributes"]  # nothing half-pushed


def test_missing_namespace_and_bad_token(local_hub, model_dir: Path) -> None:  # noqa: F811
    with pytest.raises(UserError, match="404"):
        hub.push_model(model_dir, "no-such-org/m")
    with pytest.raises(UserError) as err:
        hub.push_model(model_dir, "org/m", token="hf_not_a_valid_token")
    assert err.value.field == "token" and "401" in str(err.value)


def test_push_while_offline_is_one_line(local_hub, model_dir: Path, monkeypatch) -> None:  # noqa: F811
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(UserError) as err:
        hub.push_model(model_dir, "org/offline")
    assert err.value.field == "HF_HUB_OFFLINE" and "\n" not in str(err.value)
    assert not [p for m, p, s in local_hub.requests if "offline" in p]  # nothing reached the Hub


def test_private_repo_is_private(local_hub, model_dir: Path) -> None:  # noqa: F811
    hub.push_model(model_dir, "org/secret", private=True)
    assert HfApi().model_info("org/secret").private is True
    with pytest.raises(RepositoryNotFoundError):
        HfApi(token=False).model_info("org/secret")


def test_cli_without_token_says_how_to_log_in(local_hub, model_dir: Path, monkeypatch, capsys) -> None:  # noqa: F811
    monkeypatch.delenv("HF_TOKEN")
    assert push_main([str(model_dir), "--repo-id", "org/m"]) == 2
    assert capsys.readouterr().err.strip() == ("error: token: no Hub token found; fix: run `hf auth login` or set "
                                               "HF_TOKEN")


def test_token_never_appears_in_output_or_files(local_hub, model_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    env = {**os.environ, **local_hub.env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    local_hub.fail(500, times=1, method="POST", path=r"/commit/")  # a retry warning goes to the log
    ok = subprocess.run([sys.executable, "-m", "hf_hybrid.push", str(model_dir), "--repo-id", "org/cli-model",
                         "--revision", "dev"], env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "pushed model to" in ok.stdout and "HTTP 500" in ok.stderr
    local_hub.tokens["hf_someone_else"] = "someone"
    denied = subprocess.run([sys.executable, "-m", "hf_hybrid.push", str(model_dir), "--repo-id", "someone/x"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert denied.returncode == 2 and denied.stderr.strip().count("\n") == 0 and "403" in denied.stderr
    assert HfApi().list_repo_refs("org/cli-model").branches

    token = local_hub.token
    for output in (ok.stdout, ok.stderr, denied.stdout, denied.stderr):
        assert token not in output
    for root in (model_dir, local_hub.home, tmp_path):
        for path in Path(root).rglob("*"):
            if path.is_file():
                assert token.encode() not in path.read_bytes(), path
    for key in local_hub.objects.values():
        assert token.encode() not in key


def test_staged_copy_and_push_leave_out_the_same_files(tmp_path: Path) -> None:
    """One rule (hub.left_out) for what a push uploads and what the quickstart stages as "the repo"."""
    model = tmp_path / "model"
    for name in ("model.safetensors", "1_Pooling/config.json", "hf_hybrid_training.json", "hf_hybrid_run.json",
                 ".lock", "checkpoints/checkpoint-2/model.safetensors", "checkpoint-4/x", "runs/events", "trace/t.json"):
        (model / name).parent.mkdir(parents=True, exist_ok=True)
        (model / name).write_text("x")
    pushed = {p.relative_to(model).as_posix() for p in hub.model_files(model)}
    assert pushed == {"model.safetensors", "1_Pooling/config.json", "hf_hybrid_training.json"}
    shutil.copytree(model, tmp_path / "staged", ignore=hub.left_out)
    staged = {p.relative_to(tmp_path / "staged").as_posix() for p in (tmp_path / "staged").rglob("*") if p.is_file()}
    assert staged == pushed


def test_push_killed_mid_upload_leaves_no_half_commit_and_pushes_again(local_hub, model_dir: Path) -> None:  # noqa: F811
    """Fault injection: SIGKILL while the push is between its uploads and its commit (the Hub answers the commit
    with 503 until the kill). A Hub commit is all or nothing, so the repo holds none of the model's files; the same
    command then pushes everything."""
    import signal
    import time

    env = {**os.environ, **local_hub.env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    local_hub.fail(503, times=1000, method="POST", path=r"/commit/")
    proc = subprocess.Popen([sys.executable, "-m", "hf_hybrid.push", str(model_dir), "--repo-id", "org/killed"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(m == "POST" and "/commit/" in p for m, p, _ in list(local_hub.requests)):
        assert proc.poll() is None and time.monotonic() < deadline, "push ended before its commit was tried"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert HfApi().list_repo_files("org/killed") == [".gitattributes"]
    local_hub.clear_failures()
    assert push_main([str(model_dir), "--repo-id", "org/killed"]) == 0
    assert {"model.safetensors", "hf_hybrid_training.json", "README.md"} <= set(HfApi().list_repo_files("org/killed"))
