"""Every setting is checked against its declared range before anything runs (issue 31).

The tests are generated from the declarations themselves (:mod:`hf_hybrid.ranges`): for every field of every config
and every flag of every argparse command, a value outside its range (and one of the wrong type) is refused by the
command with one stderr line naming the setting and exit code 2; a field or flag that declares nothing fails here.
Then the three settings the issue found getting through.
"""

import ast
import math
import typing
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from hf_hybrid.build import BuildConfig
from hf_hybrid.commands.quickstart import QuickstartConfig
from hf_hybrid.demo.config import DemoConfig, check_demo_config
from hf_hybrid.errors import UserError
from hf_hybrid.experiments.config import ExperimentConfig
from hf_hybrid.export import ExportConfig
from hf_hybrid.mining.config import MineConfig
from hf_hybrid.pretrain import PretrainConfig
from hf_hybrid.ranges import Declaration, Interval, check_ranges, declarations, undeclared
from hf_hybrid.sampling import PlanConfig
from hf_hybrid.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]

# Each config and the command that parses it (module whose ``main(argv)`` takes its flags), with the flags every
# call needs. DemoConfig is read from the environment and the demo's flags: its fields are checked through
# check_demo_config (what both go through), its flags with the other argparse commands below.
COMMANDS = {
    TrainConfig: ("hf_hybrid.commands.train", []),
    PlanConfig: ("hf_hybrid.commands.build", []),
    BuildConfig: ("hf_hybrid.commands.build", []),
    QuickstartConfig: ("hf_hybrid.commands.quickstart", []),
    PretrainConfig: ("hf_hybrid.commands.pretrain", []),
    MineConfig: ("hf_hybrid.commands.mine", []),
    ExportConfig: ("hf_hybrid.commands.export", ["--model", "org/model"]),
    ExperimentConfig: ("hf_hybrid.commands.experiment", []),
}
CONFIGS = [*COMMANDS, DemoConfig]
# Dataclass configs that are no command's settings: the synthetic world is set through a source string
# ("synthetic:seed=3"), whose options its own validate checks.
NOT_SETTINGS = {"WorldConfig"}


def _main(module: str):
    import importlib

    return importlib.import_module(module).main


def one_line(capsys, code: int, start: str, *needles: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(start) and "; fix: " in lines[0] and "Traceback" not in err, lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def outside(declaration: Declaration, whole: bool, tmp_path: Path) -> list:
    """Values the declaration refuses: both sides of a range, an unknown choice, a path of the wrong kind."""
    if declaration.range is not None:
        r = declaration.range
        values = []
        if not math.isinf(r.low):
            values.append(r.low if r.low_open else r.low - (1 if whole else 0.5))
        if not math.isinf(r.high):
            values.append(r.high if r.high_open else r.high + (1 if whole else 0.5))
        return values or ([] if whole else [float("nan")])
    if declaration.choices is not None:
        return ["no-such-choice"]
    if declaration.kind is None:  # a bool: its type is its range
        return []
    (tmp_path / "a_file").write_text("mine")
    return {"model": ["/nonexistent/model"], "source": ["/nonexistent/data.jsonl"], "folder": ["/nonexistent/dir"],
            "file": ["/nonexistent/file.json"], "path": ["/nonexistent/either"], "output": [str(tmp_path / "a_file" / "sub")],
            "output_file": [str(tmp_path)], "repo_id": ["not a repo id"], "text": []}[declaration.kind]


def _fields(cls):
    hints = typing.get_type_hints(cls)
    return [(cls, f.name, hints[f.name]) for f in fields(cls)]


def _scalar(annotation):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return _scalar(args[0]) if args else annotation


def test_every_config_declares_every_setting():
    """A new field without a range (numbers), choices or a kind (strings) fails here; a bool needs none."""
    missing = {cls.__name__: undeclared(cls) for cls in CONFIGS if undeclared(cls)}
    assert not missing, f"declare a range, choices or kind in the field's metadata (hf_hybrid/ranges.py): {missing}"
    for cls in CONFIGS:
        for name, declaration in declarations(cls).items():
            assert declaration.range is None or _scalar(typing.get_type_hints(cls)[name]) in (int, float), name
        check_ranges(cls(**({"model": "org/model"} if cls is ExportConfig else {})))  # defaults are in range


def test_every_config_of_the_package_is_covered():
    """A dataclass ``*Config`` added anywhere in the package must be in COMMANDS (or be no command's settings)."""
    found = set()
    for path in (ROOT / "hf_hybrid").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Config") and any(
                    "dataclass" in ast.unparse(d) for d in node.decorator_list):
                found.add(node.name)
    assert found - NOT_SETTINGS == {cls.__name__ for cls in CONFIGS}


@pytest.mark.parametrize("cls, name, annotation", [f for cls in COMMANDS for f in _fields(cls)],
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_out_of_range_and_wrong_type_are_one_line_from_the_cli(cls, name, annotation, tmp_path, capsys):
    module, base = COMMANDS[cls]
    main = _main(module)
    declaration = Declaration.of(next(f.metadata for f in fields(cls) if f.name == name))
    scalar = _scalar(annotation)
    for value in outside(declaration, scalar is int, tmp_path):
        code = main([*base, f"--{name}", str(value)])
        shown = repr(value) if isinstance(value, str) else str(value)
        one_line(capsys, code, f"error: {name}: ", shown, *([str(declaration.range)] if declaration.range else []))
    wrong = {int: "many", float: "half", bool: "maybe", str: [1, 2]}[scalar]
    if typing.get_origin(annotation) is list or list in map(typing.get_origin, typing.get_args(annotation)):
        wrong = {"a": 1}
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({name: wrong}))
    one_line(capsys, main([*base, "--config", str(config)]), f"error: {config}: {name}: ")


@pytest.mark.parametrize("name", [f.name for f in fields(DemoConfig)])
def test_demo_settings_out_of_range_and_wrong_type(name, tmp_path):
    declaration = Declaration.of(next(f.metadata for f in fields(DemoConfig) if f.name == name))
    annotation = typing.get_type_hints(DemoConfig)[name]
    for value in outside(declaration, _scalar(annotation) is int, tmp_path):
        with pytest.raises(UserError) as err:
            check_demo_config(DemoConfig(**{"models": ["org/model"], name: [value] if name == "models" else value}))
        assert err.value.field.lower() == name and "\n" not in str(err.value)  # PORT names the variable
    from hf_hybrid.config import check_types

    with pytest.raises(UserError, match=name):
        check_types(DemoConfig(**{name: {"a": 1}}))


def _parsers(tmp_path: Path) -> dict:
    """Each argparse command: its parser, its main and the arguments every call needs."""
    from hf_hybrid.commands import card as cards
    from hf_hybrid.commands import check, demo, evaluate, push_space
    from hf_hybrid.commands import push as hub

    (tmp_path / "c.yaml").write_text("model: org/model\n")
    return {
        "evaluate": (evaluate.build_parser(), evaluate.main,
                     {"--model": "org/model", "--output": str(tmp_path / "out")}),
        "push": (hub.build_parser(), hub.main, {"path": str(tmp_path), "--repo-id": "org/model"}),
        "push-space": (push_space.build_parser(), push_space.main, {"model": "org/model", "--space-id": "org/space"}),
        "demo": (demo.build_parser(), demo.main, {}),
        "check": (check.build_parser(), check.main, {"config": str(tmp_path / "c.yaml")}),
        "card": (cards.build_parser(), cards.main, {"model_dir": str(tmp_path)}),
    }


# Modules that add argparse flags: each command is in _parsers, except models.py (two on/off flags, nothing to
# range); arguments.py adds --config to every dataclass command, whose file the YAML loader checks.
ARGPARSE_MODULES = {"commands/evaluate.py", "commands/push.py", "commands/push_space.py", "commands/demo.py",
                    "commands/check.py", "commands/card.py", "commands/models.py", "commands/arguments.py"}


def test_every_argparse_command_is_covered():
    found = {str(p.relative_to(ROOT / "hf_hybrid")) for p in (ROOT / "hf_hybrid").rglob("*.py")
             if "add_argument(" in p.read_text(encoding="utf-8")}
    assert found <= ARGPARSE_MODULES, found - ARGPARSE_MODULES


@pytest.mark.parametrize("command", ["evaluate", "push", "push-space", "demo", "check", "card"])
def test_every_flag_is_declared_and_checked(command, tmp_path, capsys):
    parser, main, base = _parsers(tmp_path)[command]
    for action in parser._actions:
        if action.nargs == 0 or action.dest == "help":  # on/off flags: their type is their range
            continue
        name = action.option_strings[0] if action.option_strings else action.dest
        declaration = getattr(action.type, "declaration", None)
        assert action.choices is not None or declaration is not None and declaration.declared, \
            f"{command} {name}: declare it with type=flag(...) (hf_hybrid.ranges) or choices="
        to = getattr(action.type, "to", str)
        values = outside(declaration, to is int, tmp_path) if declaration else ["no-such-choice"]
        for value in values + (["many"] if to is not str else []):
            args = {**base, name: str(value)}
            argv = [v for k, v in args.items() if not k.startswith("-")]
            argv += [part for k, v in args.items() if k.startswith("-") for part in (k, v)]
            one_line(capsys, main(argv), f"error: {name}: ", str(value))


def test_interval_notation():
    r = Interval.parse("(0, 1]")
    assert 0 not in r and 1 in r and 0.5 in r and float("nan") not in r and 10**400 not in r
    assert str(r) == "(0, 1]" and Interval.parse("[1, inf)").advice(whole=True) == "use a whole number >= 1"
    with pytest.raises(ValueError):
        Interval.parse("0..1")
    with pytest.raises(ValueError):
        Declaration.of({"kind": "colour"})


def test_trackers_are_transformers_own():
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    from hf_hybrid.training.config import TRACKERS

    assert set(TRACKERS) == {"none", "all", *INTEGRATION_TO_CALLBACK}


# -- the issue's three cases --------------------------------------------------------------------------------
@pytest.fixture
def nothing_loads(monkeypatch):
    """Fail the test if the data or the model is reached: the settings must be refused before."""
    def reached(*args, **kwargs):
        raise AssertionError("data or model loaded before the settings were checked")

    monkeypatch.setattr("hf_hybrid.training.checks._load_data", reached)
    monkeypatch.setattr("hf_hybrid.models.resolve_model", reached)


@pytest.mark.parametrize("flag, value, needles", [
    ("--learning_rate", "-0.1", ["learning_rate: -0.1 is not a positive number, outside (0, inf)"]),
    ("--save_steps", "-5", ["save_steps: -5 is negative, outside [0, inf)"]),
])
def test_train_refuses_the_issues_settings_before_loading(flag, value, needles, nothing_loads, tmp_path, capsys):
    from hf_hybrid.cli import main as cli

    code = cli(["train", "--config", str(ROOT / "configs" / "quickstart-test.yaml"), "--output_dir",
                str(tmp_path / "run"), flag, value])
    one_line(capsys, code, "error: ", *needles)
    assert not any(tmp_path.iterdir())


def test_check_of_a_model_path_that_does_not_exist_is_one_line(tmp_path, capsys):
    from hf_hybrid.cli import main as cli

    config = tmp_path / "c.yaml"
    config.write_text("model: /nonexistent/model\ndata: synthetic:train_groups=200,dev_groups=20,test_groups=40\n"
                      "max_steps: 2\nbatch_size: 8\nexclude_languages: [qag, qah]\n"
                      f"output_dir: {tmp_path / 'run'}\n")
    code = cli(["check", str(config)])
    out = capsys.readouterr()
    errors = [line for line in out.out.splitlines() if line.startswith("error: ")]
    assert code == 2 and "Traceback" not in out.err, out.err
    assert errors == ["error: model: '/nonexistent/model' is not an existing folder; fix: check the path, or give "
                      "a Hub id such as intfloat/multilingual-e5-small"], out.out
