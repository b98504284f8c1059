"""The console script: one subcommand per stage, each the same code as ``python -m <module>``."""

import ast
import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hf_hybrid.cli import COMMANDS, main

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_subcommand_has_a_main(name):
    module = importlib.import_module(f"hf_hybrid.commands.{COMMANDS[name]}")
    assert callable(module.main)


def test_unknown_subcommand_is_one_line_exit_2(capsys):
    assert main(["trian"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown 'trian'" in err


DOCUMENTED = {
    "build": ("--strategy", "--alpha", "--batch_size"),
    "train": ("--strategy", "--alpha", "--switch_step", "--loss", "--resume", "--freeze_embeddings",
              "--exclude_languages"),
    "quickstart": ("--model", "--data", "--steps", "--alpha", "--held_out", "--repo_id"),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_help_documents_every_setting(name):
    out = subprocess.run([str(BIN / "hf-hybrid"), name, "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    missing = [flag for flag in DOCUMENTED[name] if flag not in out.stdout]
    assert not missing, f"`hf-hybrid {name} --help` does not document {missing}"


def test_every_third_party_import_is_declared():
    """Each package the code imports is a dependency (or an extra) in pyproject.toml, not there by accident."""
    root = Path(__file__).resolve().parents[1]
    import tomllib  # stdlib (3.11+)

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    declared = {re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in specs}
    imported = set()
    for path in (root / "hf_hybrid").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    providers = importlib.metadata.packages_distributions()
    third_party = {m for m in imported - set(sys.stdlib_module_names) - {"hf_hybrid"}}
    undeclared = {m: providers.get(m) for m in third_party
                  if not {d.lower().replace("_", "-") for d in providers.get(m, [m])} & declared}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


ARGPARSE_COMMANDS = ["card", "check", "demo", "evaluate", "push", "push_space"]


@pytest.mark.parametrize("name", ARGPARSE_COMMANDS)
def test_every_flag_is_accepted_in_both_spellings(name):
    """``--repo-id`` and ``--repo_id`` (any long option, either way round) reach the same setting."""
    from hf_hybrid.commands.arguments import respell

    parser = importlib.import_module(f"hf_hybrid.commands.{name}").build_parser()
    known = parser._option_string_actions
    for option, action in known.items():
        if option.startswith("--") and ("_" in option or "-" in option[2:]):
            other = "--" + (option[2:].replace("_", "-") if "_" in option else option[2:].replace("-", "_"))
            assert known[respell([other], known)[0]] is action, (name, option, other)


def test_dataclass_commands_take_both_spellings():
    from hf_hybrid.commands.arguments import parse
    from hf_hybrid.sampling import PlanConfig
    from hf_hybrid.training import TrainConfig

    dashed, plan = parse(["--batch-size", "8", "--max-steps", "3"], TrainConfig, PlanConfig)
    snake, _ = parse(["--batch_size", "8", "--max_steps", "3"], TrainConfig, PlanConfig)
    assert (dashed.max_steps, plan.batch_size) == (snake.max_steps, 8) == (3, 8)
