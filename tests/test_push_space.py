"""``hf-hybrid push-space`` against the local Hub endpoint: the uploaded Space installs into a fresh virtual
environment from what was uploaded, starts, and answers a query through gradio_client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from hf_hybrid.errors import UserError
from hf_hybrid.push_space import push_space
from tests.hubfixture import local_hub  # noqa: F401  (fixture)
from tests.test_demo import free_port, wait_for, write_corpus

PYTHON = Path(sys.executable)


def fresh_venv(where: Path) -> Path:
    """A new virtual environment whose third-party packages (torch, gradio, …) come from the running one through a
    ``.pth`` line, so nothing is downloaded; hf_hybrid is NOT among them (an editable install is a finder that a
    ``.pth`` path line does not run). Returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=60)
    python = where / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    shared = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "shared_packages.pth").write_text("\n".join(sorted(shared)) + "\n")
    return python


def pip(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """pip for the venv of ``python``, run in ``cwd`` (a Space installs its requirements in the repo folder)."""
    return subprocess.run([sys.executable, "-m", "pip", "--python", str(python), *args], capture_output=True, cwd=cwd,
                          text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})


def test_pushed_space_installs_from_its_wheel_starts_and_answers(local_hub, tiny_trained_model, tmp_path,  # noqa: F811
                                                                  monkeypatch):
    from gradio_client import Client
    from huggingface_hub import snapshot_download

    import hf_hybrid.hub as hub

    monkeypatch.setenv("HF_HYBRID_CACHE", str(tmp_path / "push_cache"))
    hub.push_model(tiny_trained_model, "org/tiny-model")
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    url = push_space("org/tiny-model", "org/demo", corpus=str(corpus))
    assert url.endswith("/spaces/org/demo")

    space = Path(snapshot_download("org/demo", repo_type="space", local_dir=tmp_path / "space"))
    settings = json.loads((space / "space_settings.json").read_text())
    assert settings == {"MODEL_ID": "org/tiny-model", "DEMO_EMBEDDINGS": "demo_embeddings",
                        "CORPUS": "corpus/corpus.jsonl"}
    card = (space / "README.md").read_text()
    assert card.startswith("---\n") and "sdk: gradio" in card and "app_file: app.py" in card
    shipped = list((space / "demo_embeddings").glob("*/*.npz"))
    assert len(shipped) == 1 and shipped[0].relative_to(space).as_posix() in card
    requirements = (space / "requirements.txt").read_text().splitlines()
    wheel = next(space.glob("hf_hybrid-*-py3-none-any.whl"))
    assert f"./{wheel.name}[demo]" in requirements and "gradio==" + __import__("gradio").__version__ in requirements

    python = fresh_venv(tmp_path / "venv")
    dry = pip(python, "install", "--no-index", "--dry-run", "-r", "requirements.txt", cwd=space)
    assert dry.returncode == 0 and "Would install hf-hybrid" in dry.stdout, dry.stderr[-2000:]
    done = pip(python, "install", "--no-deps", "--no-index", wheel.name, cwd=space)
    assert done.returncode == 0, done.stderr[-2000:]
    env = {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MODELS", "MODEL_ID", "CORPUS")},
           **local_hub.env, "HF_HYBRID_CACHE": str(tmp_path / "cache"), "GRADIO_ANALYTICS_ENABLED": "False"}
    where = subprocess.run([str(python), "-c", "import hf_hybrid; print(hf_hybrid.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where

    port = free_port()
    log = (tmp_path / "space.log").open("w")
    app = subprocess.Popen([str(python), "app.py"], cwd=space, stdout=log, stderr=subprocess.STDOUT, text=True,
                           env={**env, "PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"})
    try:
        wait_for(f"http://127.0.0.1:{port}/", app, timeout=90)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        status, deadline = "", time.monotonic() + 120
        while time.monotonic() < deadline:  # the page is up before the model is; it says so until ready
            status, first, *_ = client.predict("Where is the market?", [], 3, api_name="/search")
            if not status.startswith("⏳"):
                break
            time.sleep(0.5)
        assert status.startswith("Top 3 of 40 passages"), status
        assert "market" in json.dumps(first).lower()
    finally:
        app.terminate()
        app.wait(timeout=30)
        log.close()
    console = (tmp_path / "space.log").read_text()
    assert f"40 of 40 passage embeddings read from {space / 'demo_embeddings'}" in console, console[-3000:]
    assert "embedded" not in console


@pytest.mark.parametrize(("model", "space_id", "field"), [
    ("org/tiny-model", "not-an-id", "space-id"),
    (".", "org/demo", "MODEL"),
])
def test_bad_input_is_one_line_before_anything_is_pushed(local_hub, model, space_id, field):  # noqa: F811
    with pytest.raises(UserError) as err:
        push_space(model, space_id)
    assert err.value.field == field
    assert not [key for key in local_hub.repos if key[0] == "space"]


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "hf_hybrid.cli", "push-space", str(tmp_path), "--space-id", "org/x"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HF_TOKEN": "hf_x"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and done.stderr.startswith("error: MODEL:")



def test_space_settings_are_defaults_under_the_environment_with_paths_beside_the_file(tmp_path):
    from hf_hybrid.demo.config import config_from_env

    (tmp_path / "corpus").mkdir()
    write_corpus(tmp_path / "corpus" / "c.jsonl")
    settings = tmp_path / "space_settings.json"
    settings.write_text(json.dumps({"MODEL_ID": "org/a", "CORPUS": "corpus/c.jsonl", "DEMO_EMBEDDINGS": "absent"}))
    config = config_from_env({"DEMO_SETTINGS": str(settings)})
    assert config.models == ["org/a"] and config.corpus == str(tmp_path / "corpus" / "c.jsonl")
    assert config_from_env({"DEMO_SETTINGS": str(settings), "MODEL_ID": "org/b"}).models == ["org/b"]
    settings.write_text("{not json")
    with pytest.raises(UserError) as err:
        config_from_env({"DEMO_SETTINGS": str(settings)})
    assert err.value.field == "DEMO_SETTINGS"
