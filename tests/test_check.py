"""``hf-hybrid check``: the dry run of every shipped config, against local copies laid out as the Hub repositories.

The copies (``tests/hub_layouts.py``, layouts documented in ``tests/fixtures/hub_layouts/README.md``) hold the
same paths, file names and formats as the real repositories, with generated texts and, for models, only
config.json and a tokenizer. A config added to ``configs/`` without a passing dry run fails here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from hf_hybrid.check import check_config, check_evaluate, kind_of
from hf_hybrid.cli import main as cli
from tests.hub_layouts import write_mirror

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
RUN_CONFIGS = sorted(CONFIGS.glob("*.yaml")) + sorted((CONFIGS / "experiments").glob("*.yaml"))
ACCELERATE = sorted((CONFIGS / "accelerate").glob("*.yaml"))


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    return write_mirror(tmp_path_factory.mktemp("hub"))


@pytest.fixture(autouse=True)
def _outputs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # output_dir is relative in every config: check writability under tmp


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_shipped_config_passes_its_dry_run(path, mirror):
    report = check_config(str(path), mirror=str(mirror), online=False)
    assert report.ok, report.render()
    assert report.kind == kind_of(yaml.safe_load(path.read_text()))
    drawn = [key for key in report.summary if key == "first steps" or key.startswith("plan ")]
    assert drawn, f"no plan steps drawn on the rows read:\n{report.render()}"


def test_train_dry_run_flag_is_the_same_check(mirror, monkeypatch, capsys, tmp_path):
    """`hf-hybrid train --config configs/xlmr-hybrid.yaml --dry_run`: the command a user runs before renting a GPU,
    on the local copies ($HF_HYBRID_MIRROR), exits 0 and writes nothing; a bad setting is one line and exit 2."""
    monkeypatch.setenv("HF_HYBRID_MIRROR", str(mirror))
    assert cli(["train", "--config", str(CONFIGS / "xlmr-hybrid.yaml"), "--dry_run"]) == 0
    assert "ok: nothing found" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    assert cli(["train", "--config", str(CONFIGS / "xlmr-hybrid.yaml"), "--dry_run", "--exclude_languages", "zz"]) == 2
    problems = [line for line in capsys.readouterr().out.splitlines() if line.startswith("error:")]
    assert len(problems) == 1 and "zz" in problems[0], problems


def test_experiment_and_evaluate_dry_run_flags(mirror, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HF_HYBRID_MIRROR", str(mirror))
    assert cli(["experiment", "--config", str(CONFIGS / "experiments" / "xlmr.yaml"), "--dry_run"]) == 0
    assert "ok: nothing found" in capsys.readouterr().out
    assert cli(["evaluate", "--model", "sentence-transformers/all-MiniLM-L6-v2", "--data", "sample", "--output",
                str(tmp_path / "eval"), "--dry_run"]) == 0
    assert "ok: nothing found" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ACCELERATE, ids=lambda p: p.name)
def test_accelerate_configs_parse_as_accelerate_configs(path):
    report = check_config(str(path))
    assert report.ok and report.kind == "accelerate", report.render()
    paper_batch = yaml.safe_load((CONFIGS / "xlmr-hybrid.yaml").read_text())["batch_size"]
    assert paper_batch % report.summary["num_processes"] == 0, "the recipes' global batch must split over it"


def test_single_runs_are_cells_of_their_experiment_grid():
    """Same data, languages and hyper-parameters as configs/experiments/<model>.yaml."""
    shared = ("data", "train_languages", "learning_rate", "batch_size", "max_steps", "max_seq_length",
              "warmup_ratio", "query_prompt", "passage_prompt", "use_negatives")
    for key in ("xlmr", "labse"):
        grid = yaml.safe_load((CONFIGS / "experiments" / f"{key}.yaml").read_text())
        for strategy in ("hybrid", "sequential", "mono", "cross"):
            run = yaml.safe_load((CONFIGS / f"{key}-{strategy}.yaml").read_text())
            assert {k: run[k] for k in shared} == {k: grid[k] for k in shared}, (key, strategy)
            assert run["model"] == grid["models"][0] and run["exclude_languages"] == grid["zero_shot"]
            assert run["seed"] in grid["seeds"]


OLD_RECIPE = """model: FacebookAI/xlm-roberta-base
data: xquad
output_dir: {out}
strategy: hybrid
batch_size: 100
max_steps: 20000
precision: auto
train_languages: [en, ar, zh, de, es, ru, th, tr, hi]
eval_steps: 1000
eval_split: validation
"""


def test_the_old_recipe_fails_with_every_problem_on_its_own_line(tmp_path, mirror, capsys):
    """The issue's case: XQuAD has no train split. All problems are reported at once, each on one line."""
    (tmp_path / "blocked").write_text("a file where the output folder should go")
    path = tmp_path / "old.yaml"
    path.write_text(OLD_RECIPE.format(out=tmp_path / "blocked" / "run"))
    code = cli(["check", str(path), "--mirror", str(mirror), "--num_processes", "3"])
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("error: ")]
    assert code == 2
    assert any("xquad has no train split" in e and "mmarco" in e for e in errors), out
    assert any(e.startswith("error: batch_size:") and "3 processes" in e for e in errors), out
    assert any(e.startswith("error: output_dir:") and "cannot be created" in e for e in errors), out
    assert all("fix: " in e for e in errors)


def test_unknown_settings_are_all_named_with_the_nearest_valid_one(tmp_path):
    path = tmp_path / "typos.yaml"
    path.write_text("model: x\nlearning_rat: 0.1\nbatchsize: 4\n")
    report = check_config(str(path))
    assert report.exit_code == 2 and len(report.problems) == 2
    assert "did you mean 'learning_rate'?" in report.problems[0] and "'batch_size'" in report.problems[1]


def test_offline_without_a_copy_lists_what_would_be_fetched_and_names_the_offline_models(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))  # as on a fresh machine
    report = check_config(str(CONFIGS / "labse-mono.yaml"), online=False)
    fetched = [f.path for f in report.files if f.where == "hub"]
    assert "hf://datasets/unicamp-dl/mmarco@4f069e4665db5e0b74b9fc4fdf64faf55b69e685/data/triples.train.ids.small.tsv" in fetched
    assert any(p.endswith("google/collections/hindi_collection.tsv") for p in fetched)
    (model,) = [p for p in report.problems if p.startswith("model:")]
    assert "sentence-transformers/LaBSE" in model and "hf-hybrid models" in model


def test_experiment_dry_run_resolves_mteb_names_and_the_evaluation_data(tmp_path, mirror):
    config = yaml.safe_load((CONFIGS / "experiments" / "xlmr.yaml").read_text())
    config.update(mteb_tasks=["BelebeleRetrieval", "NoSuchTask"], zero_shot=["el", "vi", "sw"])
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(config))
    report = check_config(str(path), mirror=str(mirror), online=False)
    assert any("NoSuchTask" in p for p in report.problems), report.render()
    assert any(p.startswith("eval_data:") and "xquad has no language 'sw'" in p for p in report.problems)
    assert any(f.source == "mteb BelebeleRetrieval" and "@" in f.path for f in report.files)
    assert report.summary["plan seq-mono-cross"].startswith("mono")


def test_evaluate_dry_run_checks_its_arguments(tmp_path):
    from hf_hybrid.commands.evaluate import build_parser

    args = build_parser().parse_args(["--model", str(tmp_path), "--ciral", "zz", "--mteb", "XQuADRetrieval",
                                      "--output", str(tmp_path / "out")])
    report = check_evaluate(args, online=False)
    assert any(p.startswith("--model:") for p in report.problems)
    assert any(p.startswith("--ciral: 'zz'") for p in report.problems)
    assert not any("XQuADRetrieval" in p for p in report.problems)
    assert isinstance(args, argparse.Namespace)


def test_train_dry_run_from_python_checks_precision_against_the_device(tmp_path, mirror):
    """What ``hf-hybrid train --dry_run`` calls: bf16 on a machine without a GPU is found before any loading."""
    import torch

    from hf_hybrid.check import check_train
    from hf_hybrid.sampling import PlanConfig
    from hf_hybrid.training import TrainConfig

    train = TrainConfig(model="sentence-transformers/all-MiniLM-L6-v2", data="synthetic:train_groups=200",
                        output_dir=str(tmp_path / "run"), precision="bf16", max_steps=5)
    report = check_train(train, PlanConfig(batch_size=8, exclude_languages=["qag", "qah"]), mirror=str(mirror),
                         online=False)
    assert any(p.startswith("precision:") for p in report.problems) != torch.cuda.is_available()
    assert report.summary["first steps"] and report.summary["examples seen"] == "40"
    assert not (tmp_path / "run").exists()  # a dry run writes nothing
