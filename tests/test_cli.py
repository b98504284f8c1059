"""The console script: one subcommand per stage, each the same code as ``python -m <module>``."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from hf_hybrid.cli import STAGES, main

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_subcommand_has_a_main(name):
    module = importlib.import_module(STAGES[name])
    assert callable(module.main)


def test_unknown_subcommand_is_one_line_exit_2(capsys):
    assert main(["trian"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown 'trian'" in err


@pytest.mark.parametrize("name", ["build", "train", "quickstart"])
def test_help_documents_every_setting(name):
    out = subprocess.run([str(BIN / "hf-hybrid"), name, "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "--strategy" in out.stdout or name == "quickstart"
    if name == "train":
        for flag in ("--alpha", "--switch_step", "--loss", "--resume", "--freeze_embeddings", "--exclude_languages"):
            assert flag in out.stdout
