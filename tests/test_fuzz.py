"""Fuzzing the commands' settings and the data files (issue 31), with Hypothesis.

The property, for any settings of any command and any data file given to ``hf-hybrid build``: the command ends with
exit code 0, or with exit code 2 and one stderr line ``error: <name>: <problem>; fix: <fix>`` naming a setting (for
data: a column or the file; for a stray ``-x``: that token); never a traceback; never a change to a file of the
user's. The settings are drawn from the declarations (:mod:`hf_hybrid.ranges`): values inside, at and past each
range's ends, NaN and infinities, unknown choices, missing paths, files where folders belong, wrong types in the YAML
file, free text. Each command runs in-process up to the work its checks guard (loading data or a model, training,
pushing), which is stubbed: reaching it counts as exit code 0, since every check before it passed. The data files
are long or wide JSONL, CSV or Parquet with missing, empty, wrong-typed and duplicated fields and bytes that are not
UTF-8, read by ``hf-hybrid build`` through the data stage's loader and schema check.

Budget: CI runs ``HF_HYBRID_FUZZ_EXAMPLES`` settings examples (default 300, over every command) and half as many data
files, from the fixed seed ``HF_HYBRID_FUZZ_SEED`` (default 0): about 20 s after the imports. A longer hunt::

    HF_HYBRID_FUZZ_EXAMPLES=5000 HF_HYBRID_FUZZ_SEED=random .venv/bin/python -m pytest -q tests/test_fuzz.py

A failure prints the seed (rerun with it to reproduce) and the smallest failing example Hypothesis found.
"""

import contextlib
import csv
import importlib
import io
import json
import os
import random
import re
import typing
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

from hf_hybrid.ranges import Declaration

EXAMPLES = int(os.environ.get("HF_HYBRID_FUZZ_EXAMPLES", "300"))
_SEED = os.environ.get("HF_HYBRID_FUZZ_SEED", "0")
SEED = random.SystemRandom().getrandbits(32) if _SEED == "random" else int(_SEED)
HYPOTHESIS = {"deadline": None, "database": None, "print_blob": True,
              "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large]}
LINE = re.compile(r"^error: .+?: .+; fix: .+$")


class Reached(Exception):
    """The stubbed work after a command's checks was reached: the settings passed them."""


def reached(*args, **kwargs):
    raise Reached


# -- the user's files and the property ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """The working directory of every example, with the user's files: a data file, notes, a folder of their own.
    The test's own files (a YAML config) go beside it."""
    root = tmp_path_factory.mktemp("fuzz") / "home"
    user = root / "mine"
    (user / "folder").mkdir(parents=True)
    (user / "folder" / "keep.txt").write_text("my notes")
    (user / "notes.txt").write_text("do not touch")
    rows = [{"id": f"g{i}", "lang": lang, "query": f"q{i} {lang}", "passage": f"p{i} {lang}"}
            for i in range(4) for lang in ("en", "sw")]
    (user / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def run(main, argv: list[str], names: set[str], root: Path) -> None:
    """Run one command in-process and check the property."""
    note(f"fuzz seed {SEED} (rerun: HF_HYBRID_FUZZ_SEED={SEED}); argv {argv!r}")
    before = snapshot(root)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except Reached:
            code = 0
        except SystemExit as exit_:  # --help
            code = exit_.code
        except Exception as error:
            raise AssertionError(f"traceback instead of one line (fuzz seed {SEED}): {error!r}") from error
    assert "Traceback" not in err.getvalue(), err.getvalue()
    assert snapshot(root) == before, f"a file of the user's changed (fuzz seed {SEED})"
    assert code in (0, 2), (code, err.getvalue())
    if code == 0:
        return
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1 and LINE.match(lines[0]), f"not one error line (fuzz seed {SEED}): {err.getvalue()}"
    parts = lines[0].removeprefix("error: ").split(": ")
    name = parts[1] if parts[0].endswith(".yaml") else parts[0]  # a YAML file's error: "<file>: <key>: ..."
    flag = name.lstrip("-").replace("-", "_")
    stray = name in argv and name.startswith("-")  # an option argparse does not know: the token as typed
    assert stray or {name, flag, flag.lower()} & names, f"{name!r} is no setting (fuzz seed {SEED}): {lines[0]}"


# -- settings --------------------------------------------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


def _kinds(root: Path) -> dict[str, tuple[list, list]]:
    """Per string kind: values it accepts (in this home) and values it refuses."""
    user = root / "mine"
    folder, file, data = str(user / "folder"), str(user / "notes.txt"), str(user / "data.jsonl")
    return {
        "model": (["org/model", "bm25", "mlm", folder], ["bad id!", "/nonexistent/model", "./missing", "", file]),
        "source": (["synthetic:train_groups=20,dev_groups=4,test_groups=4", "org/data", data],
                   ["/nonexistent/d.jsonl", "./missing.csv", "synthetic:nope=1", "a/b/c"]),
        "folder": ([folder], [file, "/nonexistent/dir"]),
        "file": ([file, data], [folder, "/nonexistent/file.json"]),
        "path": ([file, folder], ["/nonexistent/either", "./missing"]),
        "output": ([str(root / "new"), str(root / "new" / "deeper")], [file, str(user / "notes.txt" / "sub")]),
        "output_file": ([str(root / "new.md")], [folder, str(user / "notes.txt" / "sub")]),
        "repo_id": (["org/name"], ["name", "org/na me", "a/b/c", ""]),
        "text": (["en", "sw", "qaa", "test", "dev"], []),
    }


def values(declaration: Declaration, to: type, root: Path) -> st.SearchStrategy:
    """Typed values for one setting: half of them accepted by its declaration, the others at, past or far from its
    bounds, or anything at all."""
    if to is bool:
        return st.booleans()
    if declaration.range is not None:
        r = declaration.range
        edges = [e for e in (r.low, r.high) if abs(e) != float("inf")]
        if to is int:
            near = [int(e) + d for e in edges for d in (-1, 0, 1)] + [2**32, 2**63, -(2**63)]
            inside = [int(r.low) + 1 if edges else 1] * 3
            return st.one_of(st.sampled_from(inside + near), st.integers(-10**6, 10**12))
        near = [e + d for e in edges for d in (-0.5, -1e-9, 0.0, 1e-9, 0.5)]
        inside = [(r.low + r.high) / 2 if len(edges) == 2 else (edges or [0])[0] + 1] * 3
        return st.one_of(st.sampled_from(inside + near + [float("nan"), float("inf"), -float("inf")]), st.floats())
    if declaration.choices is not None:
        return st.one_of(st.sampled_from(declaration.choices), st.sampled_from(declaration.choices), TEXT)
    good, bad = _kinds(root)[declaration.kind]
    return st.one_of(st.sampled_from(good), st.sampled_from(good), *([st.sampled_from(bad)] if bad else []), TEXT)


def as_flag(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _scalar(annotation):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return _scalar(args[0]) if args else annotation


def _is_list(annotation) -> bool:
    return typing.get_origin(annotation) is list or list in map(typing.get_origin, typing.get_args(annotation))


def _experiment(cfg, *args, **kwargs):
    cfg.validate()  # what run_grid does first
    raise Reached


# dataclass command -> (module, its configs as (module, class), fields never drawn: actions, not settings)
DATACLASS_COMMANDS = {
    "build": ("hf_hybrid.commands.build", [("hf_hybrid.build", "BuildConfig"), ("hf_hybrid.sampling", "PlanConfig")], set()),
    "train": ("hf_hybrid.commands.train", [("hf_hybrid.training.config", "TrainConfig"), ("hf_hybrid.sampling", "PlanConfig")],
              {"dry_run"}),
    "quickstart": ("hf_hybrid.commands.quickstart", [("hf_hybrid.commands.quickstart", "QuickstartConfig")], set()),
    "mine": ("hf_hybrid.commands.mine", [("hf_hybrid.mining.config", "MineConfig")], set()),
    "export": ("hf_hybrid.commands.export", [("hf_hybrid.export", "ExportConfig")], set()),
    "experiment": ("hf_hybrid.commands.experiment", [("hf_hybrid.experiments.config", "ExperimentConfig")], set()),
    "pretrain": ("hf_hybrid.commands.pretrain", [("hf_hybrid.pretrain", "PretrainConfig")], set()),
}
# argparse command -> (module with build_parser and main, flags never drawn, flags always given)
ARGPARSE_COMMANDS = {
    "evaluate": ("hf_hybrid.commands.evaluate", {"dry_run"}, []),
    "push": ("hf_hybrid.commands.push", set(), []),
    "push-space": ("hf_hybrid.commands.push_space", set(), []),
    "demo": ("hf_hybrid.commands.demo", {"check"}, ["--check"]),  # --check: load and print, never serve
    "check": ("hf_hybrid.commands.check", set(), []),
    "card": ("hf_hybrid.commands.card", set(), []),
}
# The work after each command's checks, stubbed (see the module docstring).
STUBS = {
    "hf_hybrid.build.load_parallel": reached,
    "hf_hybrid.training.checks._load_data": reached,
    "hf_hybrid.models.resolve_model": reached,  # the quickstart's last check before it builds
    "hf_hybrid.commands.mine.mine_dataset": reached,
    "hf_hybrid.models.load_model": reached,
    "hf_hybrid.commands.experiment.run_experiment": _experiment,
    "hf_hybrid.commands.experiment.combine": reached,
    "hf_hybrid.commands.experiment.write_experiment_report": reached,
    "hf_hybrid.commands.pretrain.pretrain": _experiment,
    "hf_hybrid.commands.evaluate.load_inputs": reached,
    "hf_hybrid.evaluation.mteb_runner.resolve_tasks": lambda names: names,
    "hf_hybrid.hub.push_dataset": reached,
    "hf_hybrid.hub.push_model": reached,
    "hf_hybrid.hub.write_demo_embeddings": reached,
    "hf_hybrid.commands.push.push_dataset": reached,
    "hf_hybrid.commands.push.push_model": reached,
    "hf_hybrid.commands.push.write_demo_embeddings": reached,
    "hf_hybrid.commands.push_space.push_space": reached,
    "hf_hybrid.commands.demo.load_corpus": reached,
    "hf_hybrid.commands.check.check_config": reached,
    "hf_hybrid.commands.card.render_model_card": reached,
    "hf_hybrid.commands.card.write_model_card": reached,
}
# Names an error may give besides the settings: what a stage calls a value it checks against something else.
OTHER_NAMES = {"token", "options", "config", "languages", "model", "data", "output", "repo_id", "split", "quantize",
               "held_out", "strategies", "africlirmatrix_dir", "space_id", "MODEL", "PORT", "GRADIO_SERVER_NAME",
               "backend", "models", "corpus", "CORPUS", "path", "concurrency_limit", "push_space", "evaluate", "mteb",
               "beir", "resource_levels"}


@st.composite
def dataclass_argv(draw, command: str, root: Path) -> tuple[list[str], dict]:
    """Flags and YAML settings for a command parsed from dataclasses: up to four settings, one in ten of a wrong
    type (in the YAML file, where a type can be wrong)."""
    _, configs, skip = DATACLASS_COMMANDS[command]
    settable = [(f, typing.get_type_hints(cls)[f.name]) for cls in
                (getattr(importlib.import_module(module), name) for module, name in configs)
                for f in fields(cls) if f.name not in skip]
    argv, config = [], {}
    for f, annotation in draw(st.lists(st.sampled_from(settable), max_size=4, unique_by=lambda x: x[0].name)):
        to, declaration = _scalar(annotation), Declaration.of(f.metadata)
        if draw(st.integers(0, 9)) == 0:
            config[f.name] = {int: "many", float: "half", bool: "maybe", str: [1, 2]}[to]
            continue
        many = _is_list(annotation)
        value = draw(st.lists(values(declaration, to, root), min_size=1, max_size=3) if many
                     else values(declaration, to, root))
        if draw(st.booleans()):
            argv += [f"--{f.name}", *map(as_flag, value if many else [value])]
        else:
            config[f.name] = value
    if command == "export" and draw(st.integers(0, 9)):  # its one required setting, mostly given
        argv = ["--model", draw(values(Declaration(kind="model"), str, root)), *argv]
    return argv, config


@st.composite
def argparse_argv(draw, parser, skip: set, root: Path) -> list[str]:
    """Arguments for an argparse command: its required ones (one time in twenty one is left out) and up to three
    of its other flags."""
    actions = [a for a in parser._actions if a.dest != "help" and a.dest not in skip]
    required = [a for a in actions if a.required or not a.option_strings]
    optional = draw(st.lists(st.sampled_from([a for a in actions if a not in required]), max_size=3, unique=True))
    positional, options = [], []
    for action in required + optional:
        if action in required and draw(st.integers(0, 19)) == 0:
            continue  # a required argument left out
        if action.nargs == 0:
            options.append(action.option_strings[0])
            continue
        declaration = getattr(action.type, "declaration", None) or Declaration(choices=tuple(action.choices or ()))
        to = getattr(action.type, "to", str)
        many = action.nargs in ("*", "+")
        items = draw(st.lists(values(declaration, to, root), min_size=0 if many else 1, max_size=3 if many else 1))
        if to is not str and draw(st.integers(0, 9)) == 0:
            items = ["many"]
        if action.option_strings:
            options += [action.option_strings[0], *map(as_flag, items)]
        else:
            positional += map(as_flag, items)
    return positional + options


def test_settings_of_every_command(home, monkeypatch):
    monkeypatch.chdir(home)
    for name in ("MODELS", "MODEL_ID", "BASE_MODEL_ID", "CORPUS", "PORT", "BACKEND"):
        monkeypatch.delenv(name, raising=False)
    for target, stub in STUBS.items():
        monkeypatch.setattr(target, stub)
    commands = {}
    for command, (module, configs, _) in DATACLASS_COMMANDS.items():
        names = {f.name for m, c in configs for f in fields(getattr(importlib.import_module(m), c))}
        commands[command] = (importlib.import_module(module).main, None, names | OTHER_NAMES)
    for command, (module, _, _) in ARGPARSE_COMMANDS.items():
        parser = importlib.import_module(module).build_parser()
        names = {a.dest for a in parser._actions} | OTHER_NAMES
        commands[command] = (importlib.import_module(module).main, parser, names)
    config = home.parent / "fuzz-config.yaml"

    @seed(SEED)
    @settings(max_examples=EXAMPLES, **HYPOTHESIS)
    @given(st.sampled_from(sorted(commands)), st.data())
    def check(command, data):
        main, parser, names = commands[command]
        if parser is None:
            argv, settings_file = data.draw(dataclass_argv(command, home))
            if settings_file:
                config.write_text(yaml.safe_dump(settings_file, allow_unicode=True))
                argv += ["--config", str(config)]
        else:
            _, skip, always = ARGPARSE_COMMANDS[command]
            argv = data.draw(argparse_argv(parser, skip, home)) + always
        run(main, argv, names, home)

    check()


# -- data files ----------------------------------------------------------------------------------------------
LANGS = ["en", "sw", "yo", "qaa", "EN", "english", "", " "]  # four codes, four that are not
TEXTS = st.one_of(st.sampled_from(["", " ", "a passage", "ŋgɔ̃ ʋɛ", "line\nbreak", "comma, inside", '"quoted"']), TEXT)
CELL = st.one_of(TEXTS, st.none(), st.integers(-5, 5), st.floats(allow_nan=True), st.booleans(),
                 st.lists(TEXTS, max_size=2))


@st.composite
def tables(draw) -> tuple[str, list[str], list[dict]]:
    """Rows in the long (id, lang, query, passage[, negatives]) or the wide (id, query_<lang>, …) layout: some
    files clean, the others with up to one field in seven anything at all, missing columns and fields, extra and
    misnamed columns, a duplicated row."""
    chaos = draw(st.sampled_from([0, 0, 1, 3]))  # in twenty: the share of fields that are anything at all
    wide = draw(st.booleans())
    langs = draw(st.lists(st.sampled_from(LANGS if chaos else LANGS[:4]), min_size=1, max_size=3, unique=True))
    if wide:
        columns = ["id"] + [f"{kind}_{lang}" for lang in langs for kind in ("query", "passage")]
    else:
        columns = ["id", "lang", "query", "passage"]
    if draw(st.booleans()):
        columns.append(f"negatives_{langs[0]}" if wide else "negatives")
    if chaos and draw(st.integers(0, 4)) == 0:
        columns.remove(draw(st.sampled_from(columns)))  # a required column missing
    if chaos and draw(st.integers(0, 4)) == 0:
        columns.append(draw(st.sampled_from(["Query", "split", "extra", "query_EN", "lang"])))
    rows = []
    for group in range(draw(st.integers(1, 6))):
        for lang in [None] if wide else langs:
            row = {}
            for column in columns:
                good = {"id": f"g{group}", "lang": lang, "split": "train"}.get(column)
                if column.startswith(("query", "passage")) and good is None:
                    good = f"{column} {group}"
                if column.startswith("negatives"):
                    good = [f"wrong passage {group}"]
                row[column] = draw(CELL) if draw(st.integers(0, 19)) < chaos else good
            if chaos and row and draw(st.integers(0, 9)) == 0:
                del row[draw(st.sampled_from(sorted(row)))]  # a field missing from one row
            rows.append(row)
    if chaos and draw(st.integers(0, 5)) == 0:
        rows.append(dict(draw(st.sampled_from(rows))))  # a duplicated row
    return draw(st.sampled_from(["jsonl", "csv", "parquet"])), columns, rows


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def write(path: Path, fmt: str, columns: list[str], rows: list[dict], broken: int) -> None:
    """The rows as the format stores them; ``broken`` 1 puts a byte that is not UTF-8 into a text, 2 appends a line
    that is not JSON (JSONL)."""
    if fmt == "jsonl":
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
        if broken == 2:
            data += b"{oops\n"
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows([["" if r.get(c) is None else _text(r[c]) for c in columns] for r in rows])
        data = buffer.getvalue().encode()
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = {}
        for column in columns:  # one Arrow type a column: the lists a negatives column holds, integers, or text
            cells = [r.get(column) for r in rows]
            if column.startswith("negatives") and all(c is None or isinstance(c, list) for c in cells):
                table[column] = pa.array([None if c is None else [_text(x) for x in c] for c in cells],
                                         pa.list_(pa.string()))
            elif cells and all(isinstance(c, int) and not isinstance(c, bool) for c in cells):
                table[column] = pa.array(cells, pa.int64())
            else:
                table[column] = pa.array([None if c is None else _text(c) for c in cells], pa.string())
        sink = io.BytesIO()
        pq.write_table(pa.table(table) if table else pa.table({"x": [1]}), sink)
        data = sink.getvalue()
    if broken == 1 and fmt != "parquet":
        data = data.replace(b"passage", b"pass\xe9age", 1)
    path.write_bytes(data)


def test_data_files_for_build(home, monkeypatch):
    from hf_hybrid.commands.build import main

    monkeypatch.chdir(home)
    names = {"id", "lang", "query", "passage", "negatives", "rows", "data", "split", "languages", "batch_size",
             "plan_steps", "strategy", "train_languages", "exclude_languages", "Query",
             *(f"{kind}_{lang}" for kind in ("query", "passage", "negatives") for lang in LANGS)}
    count = iter(range(10**9))

    @seed(SEED)
    @settings(max_examples=max(1, EXAMPLES // 2), **HYPOTHESIS)
    @given(tables(), st.sampled_from([0, 0, 0, 1, 2]), st.booleans())
    def check(table, broken, plan):
        fmt, columns, rows = table
        path = home / "mine" / f"fuzz-{next(count)}.{fmt}"  # the user's file: it must stay as it is
        write(path, fmt, columns, rows, broken)
        try:
            argv = ["--data", str(path)] + (["--plan_steps", "2", "--batch_size", "2"] if plan else [])
            run(main, argv, names | set(columns) | {str(path)}, home)
        finally:
            path.unlink()

    check()
