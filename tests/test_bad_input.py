"""Hostile but realistic input (issue 16): every bad file, setting or path is one stderr line, exit code 2, and
nothing is written; settings are type-checked alike from flags, YAML and Python; a killed build leaves nothing
half-written."""

import json
import os
import signal
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from hf_hybrid.build import BuildConfig
from hf_hybrid.commands.build import main as build_main
from hf_hybrid.commands.quickstart import QuickstartConfig
from hf_hybrid.config import check_types
from hf_hybrid.errors import UserError
from hf_hybrid.sampling import PlanConfig

ROOT = Path(__file__).resolve().parents[1]

ROWS = [
    {"id": "g1", "lang": "en", "query": "Where is the market?", "passage": "The market is by the river."},
    {"id": "g1", "lang": "sw", "query": "Soko liko wapi?", "passage": "Soko liko karibu na mto."},
    {"id": "g2", "lang": "en", "query": "When does the bus leave?", "passage": "The bus leaves at noon."},
    {"id": "g2", "lang": "sw", "query": "Basi linaondoka lini?", "passage": "Basi linaondoka saa sita mchana."},
]


def jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def one_line_error(capsys, code, *needles) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


FILES = {
    "invalid UTF-8": (jsonl(ROWS[:1]) + b'{"id": "g1", "lang": "sw", "query": "caf\xe9", "passage": "x"}\n',
                      ["line 2 is not valid UTF-8", "b'\\xe9'"]),
    "corrupt middle line": (jsonl(ROWS[:1]) + b"{oops\n" + jsonl(ROWS[1:]), ["data.jsonl", "line 2 is not valid JSON"]),
    "empty file": (b"", ["the file is empty"]),
    "null id": (jsonl([dict(ROWS[0], id=None), *ROWS[1:]]), ["id", "row 1", "no id"]),
    "empty id": (jsonl([*ROWS[:3], dict(ROWS[3], id=" ")]), ["id", "row 4", "no id"]),
    "mixed int and string ids": (jsonl([dict(ROWS[0], id=7), *ROWS[1:]]), ["id", "mixed types", "as a string"]),
    "number as a query": (jsonl([dict(r, query=5) for r in ROWS]), ["query", "not text"]),
    "negatives as a string": (jsonl([dict(r, negatives="wrong") for r in ROWS]), ["negatives", "a list of"]),
    "negatives as numbers": (jsonl([dict(r, negatives=[1, 2]) for r in ROWS]), ["negatives", "int64"]),
    "blank negatives": (jsonl([dict(r, negatives=["", " "]) for r in ROWS]), ["empty negative", "'g1'"]),
    "some rows without negatives": (jsonl([dict(r, negatives=["a wrong passage"] if i else []) for i, r in
                                           enumerate(ROWS)]), ["negatives", "1 of 4 rows", "no hard negative"]),
    "no known language": (jsonl([dict(r, lang="english") for r in ROWS]), ["lang", "'english'", "ISO 639"]),
    "upper-case wide column": (jsonl([{"id": "g1", "query_en": "a", "passage_en": "b", "query_EN": "c",
                                       "passage_EN": "d"}]), ["query_EN", "rename it 'query_en'"]),
}


def test_csv_row_with_more_fields_than_the_header(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("id,lang,query,passage\ng1,en,Where?,By the river, to the east\n")
    one_line_error(capsys, build_main(["--data", str(tmp_path / "data.csv")]), "data.csv", "more fields than the header")


@pytest.mark.parametrize("case", sorted(FILES))
def test_bad_data_file_is_one_line_and_nothing_is_written(case, tmp_path, capsys):
    raw, needles = FILES[case]
    (tmp_path / "data.jsonl").write_bytes(raw)
    code = build_main(["--data", str(tmp_path / "data.jsonl"), "--plan_steps", "1", "--batch_size", "2",
                       "--output", str(tmp_path / "out")])
    one_line_error(capsys, code, *needles)
    assert os.listdir(tmp_path) == ["data.jsonl"]


YAML = {
    "a string for a list": ("exclude_languages: es\n", ["c.yaml: exclude_languages", "write exclude_languages: [es]"]),
    "a float for an int": ("batch_size: 8.7\n", ["c.yaml: batch_size", "not a whole number"]),
    "a string for a bool": ("private: 'yes'\n", ["c.yaml: private", "write private: true or private: false"]),
    "a string for a float": ("alpha: half\n", ["c.yaml: alpha", "not a number"]),
}


@pytest.mark.parametrize("case", sorted(YAML))
def test_yaml_values_are_checked_against_the_field_types(case, tmp_path, capsys):
    text, needles = YAML[case]
    (tmp_path / "c.yaml").write_text(f"data: {tmp_path / 'data.jsonl'}\n{text}")
    (tmp_path / "data.jsonl").write_bytes(jsonl(ROWS))
    one_line_error(capsys, build_main(["--config", str(tmp_path / "c.yaml")]), *needles)


def test_config_flag_forms(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("exclude_languages: es\n")
    one_line_error(capsys, build_main([f"--config={tmp_path / 'c.yaml'}"]), "write exclude_languages: [es]")
    one_line_error(capsys, build_main(["--config", "a.yaml", "--config", "b.yaml"]), "--config", "more than once")
    one_line_error(capsys, build_main(["--config", "--plan_steps", "1"]), "--config", "no file given")


def test_yaml_that_is_not_utf8_names_file_and_line(tmp_path, capsys):
    (tmp_path / "c.yaml").write_bytes(b"data: sample\n# caf\xe9\n")
    one_line_error(capsys, build_main(["--config", str(tmp_path / "c.yaml")]), "c.yaml", "line 2", "UTF-8")


@pytest.mark.parametrize("argv, needles", [
    (["--exclude_languages", "zz"], ["exclude_languages", "'zz' not in", "it has en, sw"]),
    (["--train_languages", "en", "de"], ["train_languages", "'de' not in"]),
    (["--plan_steps", "-3"], ["plan_steps", "-3 is negative"]),
    (["--batch_size", "8.7"], ["--batch_size", "invalid int value: '8.7'", "whole number"]),
    (["--private", "maybe"], ["--private"]),
])
def test_bad_settings_against_the_data(argv, needles, tmp_path, capsys):
    (tmp_path / "data.jsonl").write_bytes(jsonl(ROWS))
    one_line_error(capsys, build_main(["--data", str(tmp_path / "data.jsonl"), *argv]), *needles)


def test_paths_missing_or_unusable(tmp_path, capsys):
    one_line_error(capsys, build_main(["--data", str(tmp_path / "nope.jsonl")]), "not found")
    (tmp_path / "a_file").write_text("mine")
    for output in (tmp_path / "a_file", tmp_path / "a_file" / "sub"):
        one_line_error(capsys, build_main(["--data", "sample", "--output", str(output)]), "output", "is a file")
    assert (tmp_path / "a_file").read_text() == "mine"


def test_unwritable_output_is_refused_before_loading(tmp_path, capsys):
    """A folder the user may not write to. Root writes anywhere that permissions guard, so under root (CI) the
    folder is one the kernel refuses to everyone (/proc/sys); otherwise a folder without write permission."""
    if os.geteuid() == 0:
        locked = Path("/proc/sys")
        assert not os.access(locked, os.W_OK), "this kernel lets root write /proc/sys: pick another read-only place"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    one_line_error(capsys, build_main(["--data", "sample", "--output", str(locked / "hf-hybrid-out")]),
                   "not writable")
    assert not (locked / "hf-hybrid-out").exists()


def test_python_api_checks_types_as_the_yaml_loader_does():
    with pytest.raises(UserError, match=r"exclude_languages: 'es' is a string, not a list"):
        PlanConfig(exclude_languages="es").validate()
    with pytest.raises(UserError, match="plan_steps"):
        BuildConfig(plan_steps=1.5).validate()
    with pytest.raises(UserError, match="freeze_embeddings"):
        QuickstartConfig(freeze_embeddings="no").validate()
    config = PlanConfig(alpha=1)
    config.validate()
    assert isinstance(config.alpha, float)


def test_every_config_default_passes_its_own_type_check():
    from hf_hybrid.experiments import ExperimentConfig
    from hf_hybrid.pretrain import PretrainConfig
    from hf_hybrid.training import TrainConfig

    for cls in (BuildConfig, PlanConfig, QuickstartConfig, TrainConfig, ExperimentConfig, PretrainConfig):
        check_types(cls())
        assert typing.get_type_hints(cls)  # annotations resolve, so every field is checked


def test_cli_exit_code_and_single_stderr_line(tmp_path):
    (tmp_path / "c.yaml").write_text("exclude_languages: es\n")
    proc = subprocess.run([sys.executable, "-m", "hf_hybrid.cli", "build", "--config", str(tmp_path / "c.yaml")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'c.yaml'}: exclude_languages: 'es' is a string, not a list of strings; "
        "fix: write exclude_languages: [es]"]


# ``hf-hybrid build`` killed by SIGKILL in the middle of writing its output: inside the last write step (the
# dataset card), after the data, the plan and summary.json are written, and with the card half written.
KILLED_MID_WRITE = """
import os, signal, sys
from pathlib import Path
from hf_hybrid import dataset_folder
from hf_hybrid.commands.build import main

def half_a_card_then_killed(summary):
    out = Path(sys.argv[sys.argv.index("--output") + 1])
    (folder,) = out.parent.glob(f".{out.name}.new-*")  # the folder the build is writing into
    (folder / "README.md").write_text("---\\nlicense:")
    os.kill(os.getpid(), signal.SIGKILL)

dataset_folder.render_dataset_card = half_a_card_then_killed
sys.exit(main(sys.argv[1:]))
"""


def test_build_killed_mid_write_leaves_no_half_written_output(tmp_path):
    """SIGKILL while the build is writing, at a point fixed in advance (inside its last write, see KILLED_MID_WRITE),
    not raced against a poll: the process must die by that signal with the half-written folder on disk, else the
    test fails. Then ``out`` does not exist (no half-written output under the name a reader uses), the partial
    write sits only in one hidden ``.out.new-*`` folder beside it, and a rerun writes the complete output."""
    from datasets import load_from_disk

    out = tmp_path / "out"
    argv = ["--data", "synthetic:train_groups=40,dev_groups=4,test_groups=4", "--plan_steps", "20",
            "--batch_size", "8", "--output", str(out)]
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, *argv], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    [partial] = [p for p in tmp_path.iterdir() if p != out]
    assert partial.name.startswith(".out.new-")
    assert {"parallel", "plans", "summary.json", "README.md"} == {p.name for p in partial.iterdir()}
    assert not out.exists()
    assert build_main(argv) == 0
    assert {"parallel", "plans", "summary.json", "README.md"} <= {p.name for p in out.iterdir()}
    assert (out / "README.md").read_text() != (partial / "README.md").read_text()
    assert len(load_from_disk(str(out / "plans" / "hybrid-a0.5-b8-s42"))["train"]) == 20 * 8


def test_invalid_utf8_inside_parquet_is_caught_by_the_schema_check(tmp_path, capsys):
    """Parquet is not decoded by us, so the schema check validates every string column (as for Hub data)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = pa.array([b"fine", b"caf\xe9"], pa.binary())
    queries = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers())  # bytes Arrow takes unchecked
    pq.write_table(pa.table({"id": ["g1", "g1"], "lang": ["en", "sw"], "query": queries, "passage": ["a", "b"]}),
                   tmp_path / "data.parquet")
    one_line_error(capsys, build_main(["--data", str(tmp_path / "data.parquet")]), "query", "invalid text")


@pytest.mark.parametrize("stage", ["train", "evaluate"])
def test_unwritable_output_of_train_and_evaluate_is_one_line(stage, tmp_path, capsys):
    """The same class as build's: an output folder the user cannot write is refused before anything loads."""
    from hf_hybrid.cli import main as cli

    locked = Path("/proc/sys") if os.geteuid() == 0 else tmp_path / "locked"
    if os.geteuid() != 0:
        locked.mkdir(mode=0o500)
    target = str(locked / "hf-hybrid-out")
    argv = (["train", "--config", str(ROOT / "configs" / "quickstart-test.yaml"), "--output_dir", target]
            if stage == "train" else
            ["evaluate", "--model", "sentence-transformers/all-MiniLM-L6-v2", "--data", "sample", "--output", target])
    one_line_error(capsys, cli(argv), "not writable")


def test_one_rule_for_every_output_folder(tmp_path):
    """build, mine, train, evaluate, quickstart and check share :func:`output_folder_problem`: a file, a path through
    a file and a folder the user cannot write are named; a new folder under a writable one is fine."""
    from hf_hybrid.atomic import output_folder_problem

    (tmp_path / "f").write_text("a file")
    assert "is a file, not a folder" in output_folder_problem(tmp_path / "f")
    assert "cannot be created" in output_folder_problem(tmp_path / "f" / "run")
    locked = Path("/proc/sys") if os.geteuid() == 0 else tmp_path / "locked"
    if os.geteuid() != 0:
        locked.mkdir(mode=0o500)
    assert "is not writable" in output_folder_problem(locked / "run")
    assert output_folder_problem(tmp_path / "new" / "run") is None and output_folder_problem(tmp_path) is None
