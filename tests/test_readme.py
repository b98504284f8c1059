"""Every command README.md shows runs, at CI size: a command added to the README without a case here fails."""

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command:
                commands.append(command)
    return commands


# README command → how the test runs it at CI size (extra flags override the shipped defaults).
CI_SIZE = {
    "bash scripts/setup && .venv/bin/hf-hybrid quickstart": "quickstart",
    "bash scripts/setup --test && .venv/bin/python -m pytest -q": "ci",
    "hf-hybrid models": [],
    "hf-hybrid build --data sample --plan_steps 100 --output out/ds": ["--batch_size", "8"],
    "accelerate launch -m hf_hybrid.train --config configs/quickstart.yaml --output_dir out/model":
        ["--model", MINILM, "--max_steps", "2", "--batch_size", "8", "--report_to", "none"],
    "hf-hybrid evaluate --model out/model --data sample --output out/eval": ["--no-plots"],
    "hf-hybrid export out/model --backend onnx --quantize q8": [],
    "hf-hybrid push out/model --repo-id org/hybrid-e5-small": "hub",
    # a 12-row corpus instead of the bundled 1,500 passages: the model embeds it before the push
    "hf-hybrid push-space org/hybrid-e5-small --space-id org/hybrid-demo":
        ("hub", ["--corpus", str(ROOT / "tests" / "fixtures" / "eval" / "parallel_test.jsonl")]),
    "MODEL_ID=out/model python space/app.py": "demo",
    "hf-hybrid experiment --config configs/experiments/readme.yaml": "experiment",
    "hf-hybrid mine --data sample --languages en sw --model intfloat/multilingual-e5-small --relative_margin 0.05 "
    "--output out/mined": ["--model", MINILM],
    "python scripts/make_source_fixtures.py --mirror out/hub": [],
    "hf-hybrid check configs/xlmr-hybrid.yaml --mirror out/hub": [],
    "HF_HYBRID_MIRROR=out/hub hf-hybrid train --config configs/xlmr-hybrid.yaml --dry_run": [],
}


def test_every_readme_command_has_a_ci_size_case():
    assert set(readme_commands()) == set(CI_SIZE)


def test_the_test_command_is_what_ci_runs():
    assert "bash scripts/setup --test && .venv/bin/python -m pytest -q" in (ROOT / ".ci" / "run").read_text()


def test_quickstart_command_is_the_console_script_tested_end_to_end():
    assert '"quickstart"' in (ROOT / "tests" / "test_quickstart.py").read_text()


def test_experiment_command_runs_at_ci_size_and_its_readme_config_parses():
    """``hf-hybrid experiment`` runs end to end in tests/test_experiments.py on configs/experiments/ci.yaml; the
    README's config parses with the same parser and names valid strategies."""
    from hf_hybrid.commands.arguments import parse
    from hf_hybrid.experiments import ExperimentConfig, plan_settings

    assert '"experiment", "--config"' in (ROOT / "tests" / "test_experiments.py").read_text()
    (config,) = parse(["--config", str(ROOT / "configs" / "experiments" / "readme.yaml")], ExperimentConfig)
    assert len(config.seeds) >= 3
    for strategy in config.strategies:
        plan_settings(strategy)


def _argv(command: str, out: Path) -> tuple[dict, list[str]]:
    env_prefix, argv = {}, []
    for token in shlex.split(command.replace("out/", f"{out}/")):
        if "=" in token and not argv and not token.startswith("-"):
            key, value = token.split("=", 1)
            env_prefix[key] = value
        else:
            argv.append(token)
    first = argv[0]
    if first in ("hf-hybrid", "accelerate"):
        argv[0] = str(BIN / first)
    elif first == "python":
        argv[0] = sys.executable
    return env_prefix, argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_stage_commands_run_in_order(tmp_path, local_hub):
    out = tmp_path / "out"
    base_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    for command in readme_commands():
        case = CI_SIZE[command]
        if case in ("quickstart", "ci", "experiment"):
            continue
        env_prefix, argv = _argv(command, out)
        env = {**base_env, **env_prefix}
        if case == "hub" or isinstance(case, tuple):
            env.update(local_hub.env)
            extra = case[1] if isinstance(case, tuple) else []
            proc = subprocess.run(argv + extra, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, (command, proc.stderr[-2000:])
            continue
        if case == "demo":
            env.update(GRADIO_SERVER_PORT=str(_free_port()), GRADIO_ANALYTICS_ENABLED="False")
            proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                url = f"http://127.0.0.1:{env['GRADIO_SERVER_PORT']}/"
                deadline = time.time() + 300
                while True:
                    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                    try:
                        with urllib.request.urlopen(url, timeout=5) as response:
                            assert response.status == 200
                            break
                    except OSError:
                        assert time.time() < deadline, "demo did not start"
                        time.sleep(1)
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            continue
        proc = subprocess.run(argv + case, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, (command, proc.stderr[-2000:])
    assert (out / "model" / "hf_hybrid_training.json").exists()
    assert (out / "eval" / "results.json").exists()
    assert (out / "ds" / "parallel").exists()


@pytest.mark.parametrize("argv, needle", [
    (["train", "--model", "FacebookAI/xlm-roberta-base", "--max_steps", "1"], "offline"),
    (["train", "--precision", "bf16"], "needs a GPU"),
    (["push", "out/model", "--repo-id", "org/x"], "token"),
    (["train", "--learning_rat", "1e-4"], "did you mean --learning_rate"),
])
def test_first_errors_a_newcomer_hits_are_one_line_with_the_fix(tmp_path, argv, needle):
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "home"))
    argv = [a.replace("out/", f"{tmp_path}/") for a in argv]
    if argv[0] == "push":
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "config.json").write_text("{}")
    proc = subprocess.run([str(BIN / "hf-hybrid"), *argv, "--output_dir" if argv[0] == "train" else "--private",
                           *([str(tmp_path / "o")] if argv[0] == "train" else [])],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-1500:]
    assert needle in lines[0] and "fix:" in lines[0]
