"""The bundled real-language sample: complete, distinct, in the right scripts, split by group, shipped as data."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from hf_hybrid.data import load_parallel
from hf_hybrid.data.sample import (
    LOW_RESOURCE,
    SAMPLE_LANGUAGES,
    load_sample,
    sample_path,
)
from hf_hybrid.errors import UserError
from hf_hybrid.languages import resource_level, script

ROOT = Path(__file__).resolve().parent.parent
UNICODE_SCRIPT = {"Latin": "LATIN", "Arabic": "ARABIC", "Cyrillic": "CYRILLIC", "Ethiopic": "ETHIOPIC"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with sample_path().open("r", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def groups(rows) -> dict[str, dict[str, dict]]:
    by_id: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in rows:
        by_id[row["id"]][row["lang"]] = row
    return by_id


def test_size_languages_resource_levels_and_scripts(groups):
    assert len(groups) >= 150
    assert len(SAMPLE_LANGUAGES) >= 10
    assert set(LOW_RESOURCE) == {code for code in SAMPLE_LANGUAGES if resource_level(code) == "low"}
    assert len(LOW_RESOURCE) >= 4
    assert len({script(code) for code in SAMPLE_LANGUAGES} - {"Latin"}) >= 2


def test_every_group_has_every_language(groups):
    incomplete = {gid: sorted(set(SAMPLE_LANGUAGES) - set(langs)) for gid, langs in groups.items()
                  if set(langs) != set(SAMPLE_LANGUAGES)}
    assert incomplete == {}


def _trigrams(text: str) -> set[str]:
    text = " ".join(text.lower().split())
    return {text[i:i + 3] for i in range(len(text) - 2)}


@pytest.mark.parametrize("lang", SAMPLE_LANGUAGES)
def test_no_duplicate_or_near_duplicate_texts(rows, lang):
    """A near-duplicate passage would be a false negative for in-batch contrastive training."""
    mine = [row for row in rows if row["lang"] == lang]
    assert len({row["passage"] for row in mine}) == len(mine)
    assert len({row["query"] for row in mine}) == len(mine)
    grams = [(row["id"], _trigrams(row["passage"])) for row in mine]
    worst = max(((len(a & b) / len(a | b), ia, ib) for (ia, a), (ib, b) in itertools.combinations(grams, 2)))
    assert worst[0] < 0.5, f"passages {worst[1]} and {worst[2]} in {lang} are near-duplicates ({worst[0]:.2f})"


def _share_in_script(text: str, unicode_prefix: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(unicodedata.name(c, "").startswith(unicode_prefix) for c in letters) / len(letters)


@pytest.mark.parametrize("lang", SAMPLE_LANGUAGES)
def test_each_language_is_written_in_its_script(rows, lang):
    prefix = UNICODE_SCRIPT[script(lang)]
    shares = [_share_in_script(row["query"] + " " + row["passage"], prefix) for row in rows if row["lang"] == lang]
    assert min(shares) >= 0.9, f"{lang}: a row has only {min(shares):.0%} {prefix} letters"


def test_split_is_by_group_without_leakage(groups):
    split_of = {}
    for gid, langs in groups.items():
        splits = {row["split"] for row in langs.values()}
        assert len(splits) == 1, f"group {gid} is in several splits: {splits}"
        split_of[gid] = splits.pop()
    test = {g for g, s in split_of.items() if s == "test"}
    train = {g for g, s in split_of.items() if s == "train"}
    assert train.isdisjoint(test)
    assert len(test) >= 30 and len(train) >= 100
    loaded = load_sample()
    assert set(loaded["train"]["id"]).isdisjoint(loaded["test"]["id"])
    assert set(loaded["test"]["id"]) == test


def test_load_sample_splits_and_languages():
    both = load_sample()
    assert list(both) == ["train", "test"]
    assert both["train"].column_names == ["id", "lang", "query", "passage"]
    test = load_sample("test", languages=["en", "sw", "am"])
    assert sorted(set(test["lang"])) == ["am", "en", "sw"]
    assert len(test) == 3 * len(set(test["id"]))
    # the same data by name, as every CLI reads it
    by_name = load_parallel("sample", split="test", languages=["en", "sw", "am"])["test"]
    assert sorted(zip(by_name["id"], by_name["lang"], strict=True)) == sorted(zip(test["id"], test["lang"], strict=True))


@pytest.mark.parametrize(("kwargs", "field", "value"), [
    ({"split": "dev"}, "split", "'dev'"),
    ({"languages": ["en", "zu"]}, "languages", "'zu'"),
])
def test_bad_input_is_one_line_naming_field_value_and_fix(kwargs, field, value):
    with pytest.raises(UserError) as err:
        load_sample(**kwargs)
    message = str(err.value)
    assert err.value.field == field and value in message and "fix:" in message and "\n" not in message


def test_data_card_states_origin_licence_and_limits():
    card = (sample_path().parent / "DATA_CARD.md").read_text(encoding="utf-8")
    for needed in ("AI assistant", "not reviewed by native speakers", "CC BY 4.0", "Limits"):
        assert needed in card


def test_installed_wheel_finds_the_sample(tmp_path):
    """Build the wheel from a copy of the sources, unpack it, and load the sample from there in a fresh process."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "hf_hybrid", src / "hf_hybrid", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(src),
                    "-w", str(tmp_path / "dist")], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("hf_hybrid-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "hf_hybrid/data/sample/sample.jsonl" in names and "hf_hybrid/data/sample/DATA_CARD.md" in names
    assert "hf_hybrid/templates/model_card.md" in names and "hf_hybrid/templates/dataset_card.md" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import hf_hybrid, sys; from hf_hybrid.data import load_sample; d = load_sample();"
            "print(hf_hybrid.__file__); print(len(d['train']), len(d['test']))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": ""},
                         check=True, capture_output=True, text=True).stdout.split("\n")
    assert out[0].startswith(str(site))
    assert out[1] == f"{len(load_sample('train'))} {len(load_sample('test'))}"


def test_shipped_file_matches_its_sources(rows):
    """sample.jsonl is generated by scripts/build_sample.py; editing one without the other fails here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_sample", ROOT / "scripts" / "build_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, shipped in (("sample", rows), ("howto", None)):
        source_dir, target, prefix = module.SETS[name]
        expected = []
        for path in sorted(source_dir.glob("part*.txt")):
            expected.extend(module.parse(path.read_text(encoding="utf-8"), path.name, prefix))
        shipped = shipped or [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
        assert shipped == expected, name
    assert {row["split"] for row in expected} == {"test"}  # the how-to set is evaluation only
