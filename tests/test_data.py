"""The parallel schema, its validation on every path, local/wide loading and the synthetic world."""

import hashlib
import json

import pyarrow.compute as pc
import pytest
from datasets import Dataset

from hf_hybrid.commands.build import main as build_main
from hf_hybrid.data import load_parallel, make_world, validate_parallel
from hf_hybrid.errors import UserError

ROWS = [
    {"id": "g1", "lang": "en", "query": "Where is the market?", "passage": "The market is by the river."},
    {"id": "g1", "lang": "sw", "query": "Soko liko wapi?", "passage": "Soko liko karibu na mto."},
    {"id": "g2", "lang": "en", "query": "When does the bus leave?", "passage": "The bus leaves at noon."},
    {"id": "g2", "lang": "sw", "query": "Basi linaondoka lini?", "passage": "Basi linaondoka saa sita mchana."},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return str(path)


def run_cli(argv, capsys):
    code = build_main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet"])
def test_local_long_files_load_in_every_format(tmp_path, suffix):
    source = tmp_path / f"pairs.{suffix}"
    ds = Dataset.from_list(ROWS)
    {"jsonl": lambda p: ds.to_json(p), "csv": lambda p: ds.to_csv(p, index=False),
     "parquet": lambda p: ds.to_parquet(p)}[suffix](str(source))
    data = load_parallel(str(source))
    assert list(data) == ["train"]
    assert sorted(data["train"]["lang"]) == ["en", "en", "sw", "sw"]


def test_wide_form_becomes_long(tmp_path):
    wide = [{"id": "g1", "query_en": "Where is the market?", "passage_en": "By the river.",
             "query_sw": "Soko liko wapi?", "passage_sw": "Karibu na mto."},
            {"id": "g2", "query_en": "When?", "passage_en": "At noon.", "query_sw": "", "passage_sw": ""}]
    data = load_parallel(write_jsonl(tmp_path / "wide.jsonl", wide))["train"]
    assert sorted(zip(data["id"], data["lang"], strict=True)) == [("g1", "en"), ("g1", "sw"), ("g2", "en")]


def test_split_column_and_language_filter(tmp_path):
    rows = [dict(r, split="train" if r["id"] == "g1" else "test") for r in ROWS]
    data = load_parallel(write_jsonl(tmp_path / "s.jsonl", rows), languages=["sw"])
    assert set(data) == {"train", "test"}
    assert data["test"]["lang"] == ["sw"]


def test_save_to_disk_folder_round_trip(tmp_path):
    data = load_parallel(write_jsonl(tmp_path / "a.jsonl", ROWS))
    data.save_to_disk(str(tmp_path / "saved"))
    again = load_parallel(str(tmp_path / "saved"))
    assert again["train"].to_list() == data["train"].to_list()


BAD_CASES = {
    "missing column": ([{k: v for k, v in r.items() if k != "passage"} for r in ROWS], ["passage", "column missing"]),
    "misnamed column": ([{("text" if k == "passage" else k): v for k, v in r.items()} for r in ROWS],
                        ["passage", "column missing"]),
    "empty text": ([dict(ROWS[0], query="  "), *ROWS[1:]], ["query", "empty text", "g1"]),
    "unknown language": ([dict(ROWS[0], lang="xx"), *ROWS[1:]], ["lang", "'xx'", "ISO 639"]),
    "query but no passage": ([dict(ROWS[1], passage=""), ROWS[0], *ROWS[2:]],
                             ["passage", "has a query but no passage", "'sw'"]),
    "duplicate id/lang": ([*ROWS, ROWS[0]], ["duplicate (id, lang)", "'g1'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, case):
    rows, needles = BAD_CASES[case]
    out = tmp_path / "out"
    code, _, err = run_cli(["--data", write_jsonl(tmp_path / "bad.jsonl", rows), "--output", str(out)], capsys)
    assert_one_line_error(code, err, *needles)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.jsonl"]


def test_too_few_groups_for_one_batch(tmp_path, capsys):
    code, _, err = run_cli(["--data", write_jsonl(tmp_path / "a.jsonl", ROWS), "--plan_steps", "2",
                            "--batch_size", "8", "--strategy", "mono"], capsys)
    assert_one_line_error(code, err, "batch_size", "'en' has 2 training groups", "lower batch_size")


@pytest.mark.parametrize("argv, needles", [
    (["--strategy", "zigzag"], ["strategy", "'zigzag'"]),
    (["--alpha", "1.5"], ["alpha", "outside [0, 1]"]),
    (["--alpah", "0.3"], ["--alpah", "did you mean --alpha"]),
    (["--data", "no-such-source"], ["data", "unknown source"]),
])
def test_bad_settings(capsys, argv, needles):
    code, _, err = run_cli(["--data", "synthetic:train_groups=100,dev_groups=10,test_groups=10", *argv], capsys)
    assert_one_line_error(code, err, *needles)


def test_unknown_yaml_key_names_nearest(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: synthetic\nbatch_sise: 8\n")
    code, _, err = run_cli(["--config", str(cfg)], capsys)
    assert_one_line_error(code, err, "batch_sise", "did you mean 'batch_size'")


def test_synthetic_world_is_seeded_split_by_group_and_has_resource_levels():
    a = make_world(train_groups=300, dev_groups=20, test_groups=40, seed=5)
    b = make_world(train_groups=300, dev_groups=20, test_groups=40, seed=5)
    c = make_world(train_groups=300, dev_groups=20, test_groups=40, seed=6)
    assert a.dataset["train"].to_list() == b.dataset["train"].to_list()
    assert a.dataset["train"]["query"] != c.dataset["train"]["query"]
    train = a.dataset["train"]
    counts = dict(zip(*pc.value_counts(train.data.table["lang"]).flatten(), strict=True))
    counts = {k.as_py(): v.as_py() for k, v in counts.items()}
    for lang in a.languages:
        got = counts.get(lang.code, 0)
        assert {"high": got == 300, "low": 0 < got < 150, "zero": got == 0}[lang.resource], (lang, got)
    test_ids = set(a.dataset["test"]["id"])
    assert not test_ids & set(train["id"])
    assert len(set(a.dataset["test"]["lang"])) == len(a.languages)  # every language is evaluated
    scripts = {lang.script for lang in a.languages}
    assert {"Latin", "Cyrillic", "Ethiopic"} <= scripts
    validate_parallel(train)


def test_synthetic_cognates_share_words_and_other_scripts_do_not():
    world = make_world(train_groups=50, dev_groups=0, test_groups=0)
    lex = {lang.code: set(world.lexicons[lang.code].to_pylist()) for lang in world.languages}
    by_family = {}
    for lang in world.languages:
        by_family.setdefault(lang.family, []).append(lang.code)
    same = by_family[0][:2]
    assert len(lex[same[0]] & lex[same[1]]) > 100  # cognates: identical surface forms for many concepts
    assert not lex[by_family[0][0]] & lex[by_family[2][0]]  # disjoint scripts share nothing


def test_shared_names_are_written_alike_in_every_script_and_change_nothing_when_off():
    world = make_world(train_groups=50, dev_groups=0, test_groups=0, shared_names=0.1)
    words = {lang.code: world.lexicons[lang.code].to_pylist() for lang in world.languages}
    n = len(words["qaa"])
    alike = [i for i in range(n) if len({w[i] for w in words.values()}) == 1]
    nouns = world.config.concepts - world.config.relations - 2
    assert len(alike) == round(0.1 * nouns)  # the names, and nothing else, shared by all 8 languages
    assert all(i >= 2 + world.config.relations for i in alike)  # names are nouns, never relations
    for lang in world.languages:  # each language keeps its words unique (no two concepts look alike)
        assert len(set(words[lang.code])) == n
    ethiopic = next(lang.code for lang in world.languages if lang.script == "Ethiopic")
    assert all(words[ethiopic][i].isascii() == (i in alike) for i in range(n))
    # Off (the default), the world is exactly the one made before the setting existed (digest taken from that
    # version's code): names have their own random stream, so every earlier config still means the same data.
    plain = make_world(train_groups=50, dev_groups=0, test_groups=0)
    digest = hashlib.sha256("\n".join(plain.dataset["train"]["passage"]).encode()).hexdigest()
    assert digest == "f78ba1da1c66d5f0754f41b512606f971364956bb742d518f499f29cc23297f8"
    with pytest.raises(UserError, match="shared_names"):
        make_world(shared_names=1.0)


@pytest.mark.parametrize("source, message", [
    ("synthetic:shared_names=abc", "error: shared_names: 'abc' is not a number"),
    ("synthetic:train_groups=1.5", "error: train_groups: 1.5 is not an integer"),
    ("synthetic:hard_negatives=maybe", "error: hard_negatives: 'maybe' is not true or false"),
])
def test_synthetic_options_of_the_wrong_kind_are_one_line_errors(source, message, tmp_path, capsys):
    assert build_main(["--data", source, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)
    assert not any(tmp_path.iterdir())  # nothing written
    assert make_world(train_groups=5, dev_groups=0, test_groups=0, hard_negatives=0).config.hard_negatives is False


def test_synthetic_world_scales_without_python_rows():
    world = make_world(train_groups=200_000, dev_groups=0, test_groups=0, high=3, low=0, zero=0,
                       concepts=4000, chunk_groups=50_000, hard_negatives=False)
    assert len(world.dataset["train"]) == 600_000


def test_build_saves_parallel_plan_and_card(tmp_path, capsys):
    out = tmp_path / "built"
    code, stdout, _ = run_cli(["--data", "synthetic:train_groups=200,dev_groups=10,test_groups=20",
                               "--plan_steps", "5", "--batch_size", "8", "--output", str(out)], capsys)
    assert code == 0, stdout
    assert "plan hybrid-a0.5-b8-s42" in stdout
    from datasets import load_from_disk

    plan = load_from_disk(str(out / "plans" / "hybrid-a0.5-b8-s42"))["train"]
    assert len(plan) == 40
    assert set(plan.column_names) >= {"batch", "kind", "query_lang", "passage_lang", "anchor", "positive"}
    assert (out / "README.md").read_text().startswith("---")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["built"]  # no temp folder left behind


def test_build_push_to_hub_round_trips_through_load_dataset(tmp_path, local_hub):
    import subprocess
    import sys

    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    source = "synthetic:train_groups=120,dev_groups=10,test_groups=20"
    proc = subprocess.run([sys.executable, "-m", "hf_hybrid.cli", "build", "--data", source, "--plan_steps", "3",
                           "--batch_size", "8", "--push_to_hub", "org/hybrid-synthetic"],
                          env={**__import__("os").environ, **local_hub.env}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = load_parallel(source)
    back = load_dataset("org/hybrid-synthetic", "parallel", cache_dir=str(tmp_path / "c1"))
    for split in expected:
        assert back[split].to_list() == expected[split].to_list()
    plan = load_dataset("org/hybrid-synthetic", "hybrid-a0.5-b8-s42", cache_dir=str(tmp_path / "c2"))["train"]
    assert len(plan) == 24 and plan.column_names[:4] == ["batch", "kind", "query_lang", "passage_lang"]
    card = DatasetCard.load("org/hybrid-synthetic", repo_type="dataset")
    assert {c["config_name"] for c in card.data.configs} == {"parallel", "hybrid-a0.5-b8-s42"}
    # ...and our own loader reads the Hub dataset's parallel config back as validated parallel data
    again = load_parallel("org/hybrid-synthetic")
    assert again["test"].to_list() == expected["test"].to_list()


def test_registered_source_options_reach_the_loader_and_miracl_is_mono_only(capsys):
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures" / "sources"
    miracl = next(p for p in fixtures.iterdir() if "miracl" in p.name)
    code, _, err = run_cli(["--data", f"miracl:data_dir={miracl}", "--plan_steps", "2", "--batch_size", "2"], capsys)
    assert_one_line_error(code, err, "strategy", "monolingual", "--strategy mono")
