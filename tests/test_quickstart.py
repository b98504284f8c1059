"""The main job end to end at CI size: build → train → evaluate → card → staged repo, through the console script."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from sentence_transformers import SentenceTransformer

from hf_hybrid.commands.quickstart import MARKER, main
from hf_hybrid.evaluation.results import find_suite

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs_end_to_end_offline(tmp_path, local_hub):
    out = tmp_path / "qs"
    out.mkdir()  # an earlier quickstart's folder (our marker): replaced as a whole, stale files and all
    (out / MARKER).write_text("{}")
    (out / "stale.txt").write_text("from an earlier run")
    cmd = [str(Path(os.sys.executable).parent / "hf-hybrid"), "quickstart",
           "--model", "sentence-transformers/all-MiniLM-L6-v2",
           "--data", "synthetic:train_groups=200,dev_groups=20,test_groups=40", "--steps", "4", "--batch_size", "8",
           "--held_out", "qag", "qah", "--output", str(out), "--demo_embeddings", "false",
           "--distill_weight", "384", "--wise_ft", "0.75"]  # the forgetting remedies pass through to training
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("HF_TOKEN", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| multi.map |" in proc.stdout
    assert f"hf-hybrid push {out / 'repo'}" in proc.stdout
    assert "python space/app.py" in proc.stdout
    stages = proc.stdout.splitlines()[-1].split(":", 1)[1].split(" · ")  # where the time went, stage by stage
    assert [s.rsplit(" ", 2)[0].strip() for s in stages] == [
        "check settings, resolve the model", "build the hybrid-batch dataset", "train",
        "evaluate the base and the trained model on held-out groups", "model card", "stage the Hub repo", "total"]
    assert abs(sum(float(s.split()[-2]) for s in stages[:-1]) - float(stages[-1].split()[-2])) < 0.5
    repo = out / "repo"
    assert {"model.safetensors", "README.md", "hf_hybrid_training.json", "results.json"} <= \
        {p.name for p in repo.iterdir()}
    assert not (repo / "checkpoints").exists()
    assert not (out / "stale.txt").exists() and (out / MARKER).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["qs"]  # no staging folder left beside it
    assert json.loads((out / "model" / "results.json").read_text())["model"] == str(out / "model")
    record = json.loads((out / "model" / "hf_hybrid_training.json").read_text())
    assert (record["fine_tuning"]["distill_weight"], record["fine_tuning"]["wise_ft"]) == (384, 0.75), record
    results = json.loads((repo / "results.json").read_text())
    card = ModelCard.load(str(repo / "README.md"))
    value = card.data.to_dict()["model-index"][0]["results"]
    assert value, card.data
    # What a user looks for first: the trained model finds the answer's translations in the pooled set well above
    # chance. A random ranking of L relevant among N candidates scores about L/N (8 / 640 here); this run: 0.114.
    suite = find_suite(results["suites"], "quickstart")
    chance = len(suite["languages"]) / suite["sizes"]["candidates"]
    assert suite["metrics"]["multi.map"] > 3 * chance
    SentenceTransformer(str(repo)).encode(["horila"])

    # With --repo_id and a token the quickstart pushes instead of staging: the same function, on the local Hub.
    from hf_hybrid.commands.quickstart import QuickstartConfig, _push

    line = _push(QuickstartConfig(repo_id="org/hybrid-quickstart"), out / "model")
    assert line.startswith("pushed:") and local_hub.token not in line
    remote = SentenceTransformer("org/hybrid-quickstart", cache_folder=str(tmp_path / "cache"))
    assert (remote.encode(["horila"]) == SentenceTransformer(str(out / "model")).encode(["horila"])).all()


SYNTHETIC = "synthetic:train_groups=200,dev_groups=20,test_groups=40"


def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _one_line_error(capsys, code: int, *needles: str) -> None:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert all(needle in lines[0] for needle in needles), lines[0]


def test_a_folder_of_the_users_own_files_is_refused_untouched(tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "dataset").mkdir(parents=True)
    (out / "dataset" / "notes.txt").write_text("my notes")
    (out / "repo" / ".git").mkdir(parents=True)
    (out / "repo" / ".git" / "HEAD").write_text("ref: refs/heads/main")
    before = _tree(out)
    _one_line_error(capsys, main(["--output", str(out), "--data", SYNTHETIC, "--held_out", "qag"]),
                    "output", "not an earlier quickstart")
    assert _tree(out) == before


@pytest.mark.parametrize("argv, needles", [
    (["--steps", "0"], ["steps", "0 is not a positive number"]),
    (["--held_out", "zz"], ["held_out", "'zz' not in"]),
    (["--batch_size", "1"], ["batch_size"]),
    (["--freeze_layers", "-2"], ["freeze_layers", "negative"]),
    (["--wise_ft", "1.5"], ["wise_ft", "0.75"]),
    (["--distill_weight", "-1"], ["distill_weight"]),
    (["--beta", "1.5"], ["beta", "0.25"]),
])
def test_bad_settings_write_nothing(tmp_path, capsys, argv, needles):
    _one_line_error(capsys, main(["--output", str(tmp_path / "qs"), "--data", SYNTHETIC, *argv]), *needles)
    assert not any(tmp_path.iterdir())


def test_a_failed_run_leaves_the_earlier_quickstart_as_it_was(tmp_path, capsys):
    out = tmp_path / "qs"
    out.mkdir()
    (out / MARKER).write_text("{}")
    (out / "model").mkdir()
    (out / "model" / "weights").write_text("earlier model")
    before = _tree(out)
    _one_line_error(capsys, main(["--output", str(out), "--data", SYNTHETIC, "--held_out", "qag",
                                  "--model", str(tmp_path / "no-such-model")]), "model", "not an existing folder")
    broken = tmp_path / "broken-model"  # exists, so the run starts, builds the dataset, and fails loading it
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    assert main(["--output", str(out), "--data", SYNTHETIC, "--held_out", "qag", "--batch_size", "8", "--steps", "2",
                 "--model", str(broken)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: model: "), errors  # after the dataset's progress bars
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken-model", "qs"]  # no staging folder left


def test_push_without_a_token_is_refused_before_anything_is_written(tmp_path, capsys, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    out = tmp_path / "qs"
    _one_line_error(capsys, main(["--output", str(out), "--data", SYNTHETIC, "--held_out", "qag",
                                  "--repo_id", "org/model"]), "token", "hf auth login")
    assert not out.exists()


def test_the_demo_reads_the_embeddings_the_quickstart_leaves(tmp_path, monkeypatch, minilm_path):
    """The printed demo command must answer without embedding its corpus first: the vectors the quickstart wrote
    pass the demo's own checks and every passage is read back, none embedded."""
    from hf_hybrid.commands.quickstart import demo_embeddings
    from hf_hybrid.demo.cache import corpus_embeddings
    from hf_hybrid.demo.search import Encoder

    monkeypatch.setenv("HF_HYBRID_CACHE", str(tmp_path / "cache"))
    path = minilm_path
    passages = ["horila vopeke vuli goza", "the market opens at dawn", "soko liko wapi", "a fourth passage"]
    demo_embeddings(SentenceTransformer(path, device="cpu"), path, passages, None)
    said: list[str] = []
    vectors = corpus_embeddings(Encoder(path, SentenceTransformer(path, device="cpu")), passages, log=said.append)
    assert vectors.shape == (4, 384) and any("4 of 4 passage embeddings read" in line for line in said), said
    assert not any("cached them" in line for line in said), said  # nothing was embedded again


def test_the_benchmark_reads_the_stage_times_the_quickstart_prints():
    """bench_quickstart's stage table comes from the quickstart's own ``time:`` line."""
    import sys

    from hf_hybrid.commands.quickstart import StageClock

    ticks = iter([0.0, 2.0, 2.0, 2.5, 2.5, 9.0])
    clock = StageClock(now=lambda: next(ticks))
    clock.start("== 1/5 build the hybrid-batch dataset")
    clock.start("== 2/5 train")
    clock.stop()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_quickstart import stage_seconds

    assert stage_seconds(f"other output\n{clock.line()}") == {
        "check settings, resolve the model": 2.0, "build the hybrid-batch dataset": 0.5, "train": 6.5, "total": 9.0}


def test_the_forgetting_remedies_reach_the_plan_and_the_training(tmp_path, minilm_path):
    from hf_hybrid.commands.quickstart import QuickstartConfig, _checked

    _, plan, train = _checked(QuickstartConfig(model=minilm_path, data=SYNTHETIC, output=str(tmp_path / "qs"),
                                               beta=0.25, distill_weight=384.0, wise_ft=0.75))
    assert (plan.beta, train.distill_weight, train.wise_ft) == (0.25, 384.0, 0.75)
    assert "translation" in plan.describe() and not (tmp_path / "qs").exists()  # checked, nothing written
