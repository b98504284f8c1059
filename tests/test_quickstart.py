"""The main job end to end at CI size: build → train → evaluate → card → staged repo, through the console script."""

import json
import os
import subprocess
from pathlib import Path

from huggingface_hub import ModelCard
from sentence_transformers import SentenceTransformer

from hf_hybrid.evaluation.results import find_suite

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs_end_to_end_offline(tmp_path, local_hub):
    out = tmp_path / "qs"
    cmd = [str(Path(os.sys.executable).parent / "hf-hybrid"), "quickstart",
           "--model", "sentence-transformers/all-MiniLM-L6-v2",
           "--data", "synthetic:train_groups=200,dev_groups=20,test_groups=40", "--steps", "4", "--batch_size", "8",
           "--held_out", "qag", "qah", "--output", str(out)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("HF_TOKEN", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| multi.map |" in proc.stdout
    assert f"hf-hybrid push {out / 'repo'}" in proc.stdout
    assert "python space/app.py" in proc.stdout
    repo = out / "repo"
    assert {"model.safetensors", "README.md", "hf_hybrid_training.json", "eval_results.json"} <= \
        {p.name for p in repo.iterdir()}
    assert not (repo / "checkpoints").exists()
    results = json.loads((repo / "eval_results.json").read_text())
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
    from hf_hybrid.quickstart import QuickstartConfig, _push

    line = _push(QuickstartConfig(repo_id="org/hybrid-quickstart"), out / "model")
    assert line.startswith("pushed:") and local_hub.token not in line
    remote = SentenceTransformer("org/hybrid-quickstart", cache_folder=str(tmp_path / "cache"))
    assert (remote.encode(["horila"]) == SentenceTransformer(str(out / "model")).encode(["horila"])).all()
