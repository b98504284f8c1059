"""``hf-hybrid mine``: translation-aware hard negatives (per-language pools, the row's group excluded), the
false-negative guards, the group-blind ablation, the grid's +mined / +generic strategies."""

import json

import pytest

from hf_hybrid.commands.mine import main as mine_main
from hf_hybrid.data import load_parallel
from hf_hybrid.errors import UserError
from hf_hybrid.experiments.config import plan_settings
from hf_hybrid.experiments.variants import strategy_options
from hf_hybrid.mining import MineConfig, mine_dataset

# "de" passages are near-copies of the English ones, so a pooled search ranks the translation first (as a real
# multilingual model does with real translations), which is what the group exclusion must catch.
TOPICS = ["The market is by the river.", "The bus leaves at noon.", "The library opens at nine.",
          "The bakery sells fresh bread.", "The museum shows old maps.", "The school has a big garden.",
          "The station is near the bridge.", "The hospital has a new wing."]
QUESTIONS = ["Where is the market?", "When does the bus leave?", "When does the library open?",
             "What does the bakery sell?", "What does the museum show?", "What does the school have?",
             "Where is the station?", "What does the hospital have?"]


@pytest.fixture(scope="module")
def minilm32(minilm_path):
    """MiniLM truncating at 32 tokens (fast on the sample's passages): this module's own, the shared ``minilm`` is
    read-only."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(minilm_path, device="cpu")
    model.max_seq_length = 32
    return model


@pytest.fixture
def local_file(tmp_path):
    rows = []
    for i, (q, p) in enumerate(zip(QUESTIONS, TOPICS, strict=True)):
        rows.append({"id": f"g{i}", "lang": "en", "query": q, "passage": p})
        rows.append({"id": f"g{i}", "lang": "de", "query": q + " bitte", "passage": p + " ja"})
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def group_passages(split):
    groups = {}
    for row in split:
        groups.setdefault(row["id"], set()).add(row["passage"])
    return groups


def lang_passages(split):
    langs = {}
    for row in split:
        langs.setdefault(row["lang"], set()).add(row["passage"])
    return langs


def test_negatives_never_from_the_group_and_in_the_rows_language(local_file, minilm32):
    data, summary = mine_dataset(MineConfig(data=local_file, num_negatives=3), model=minilm32)
    train = data["train"]
    groups, langs = group_passages(train), lang_passages(train)
    for row in train:
        assert len(row["negatives"]) == 3
        assert not set(row["negatives"]) & groups[row["id"]]
        assert set(row["negatives"]) <= langs[row["lang"]]
    counts = summary["mining"]["splits"]["train"]
    assert counts["translations_returned"] == 0 and counts["rows_without"] == 0
    assert counts["translations_excluded"] >= len(train) // 2  # near-copies: a pooled search ranks them high


def test_generic_mode_returns_the_translation_and_counts_it(local_file, minilm32):
    data, summary = mine_dataset(MineConfig(data=local_file, generic=True), model=minilm32)
    groups = group_passages(data["train"])
    hits = [row for row in data["train"] if row["negatives"][0] in groups[row["id"]]]
    assert hits, "the nearest passage of a near-copy translation should be mined by a group-blind miner"
    assert summary["mining"]["splits"]["train"]["translations_returned"] >= len(hits)


@pytest.mark.parametrize("guard", [{"absolute_margin": 0.1}, {"relative_margin": 0.2}])
def test_margin_guard_holds(local_file, minilm32, guard):
    data, _ = mine_dataset(MineConfig(data=local_file, num_negatives=2, **guard), model=minilm32)
    for row in data["train"]:
        q = minilm32.encode([row["query"]], normalize_embeddings=True)
        texts = [row["passage"], *row["negatives"]]
        scores = (q @ minilm32.encode(texts, normalize_embeddings=True).T)[0]
        pos = float(scores[0])
        limit = pos - guard["absolute_margin"] if "absolute_margin" in guard else pos - abs(pos) * 0.2
        assert all(float(s) <= limit + 1e-5 for s in scores[1:])


def test_random_sampling_is_deterministic_for_a_seed(local_file, minilm32):
    cfg = dict(data=local_file, num_negatives=2, sampling="random", seed=3)
    first, _ = mine_dataset(MineConfig(**cfg), model=minilm32)
    second, _ = mine_dataset(MineConfig(**cfg), model=minilm32)
    assert first["train"]["negatives"] == second["train"]["negatives"]


def test_synthetic_and_sample_sources(minilm32):
    synthetic, _ = mine_dataset(MineConfig(data="synthetic:train_groups=12,test_groups=2", num_negatives=2),
                                model=minilm32)
    groups = group_passages(synthetic["train"])
    assert all(not set(r["negatives"]) & groups[r["id"]] for r in synthetic["train"])
    assert synthetic["test"]["negatives"] == load_parallel("synthetic:train_groups=12,test_groups=2")["test"][
        "negatives"]  # splits not asked for are copied unchanged
    sample, summary = mine_dataset(MineConfig(data="sample", languages=["en", "sw"], splits=["test"]), model=minilm32)
    groups = group_passages(sample["test"])
    assert all(r["negatives"] and not set(r["negatives"]) & groups[r["id"]] for r in sample["test"])
    assert summary["mining"]["splits"]["test"]["pools"] == {"en": 100, "sw": 100}


def test_cli_writes_dataset_card_and_summary(local_file, tmp_path, capsys):
    out = tmp_path / "mined"
    assert mine_main(["--data", local_file, "--output", str(out), "--num_negatives", "2"]) == 0
    assert "translations excluded" in capsys.readouterr().out
    mined = load_parallel(str(out / "parallel"))
    assert all(len(n) == 2 for n in mined["train"]["negatives"])
    card = (out / "README.md").read_text()
    assert "## Hard negatives" in card and "all-MiniLM-L6-v2" in card
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mining"]["settings"]["num_negatives"] == 2


@pytest.mark.parametrize("argv, needle", [
    (["--range_min", "5", "--range_max", "5"], "range_max"),
    (["--num_negatives", "0"], "num_negatives"),
    (["--sampling", "best"], "sampling"),
    (["--relative_margin", "1.5"], "relative_margin"),
    (["--splits", "validation"], "splits"),
])
def test_bad_settings_are_one_line_errors(local_file, capsys, argv, needle):
    assert mine_main(["--data", local_file, *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {needle}") and "Traceback" not in err


def test_grid_strategy_suffixes():
    assert plan_settings("hybrid-0.5+mined") == {"strategy": "hybrid", "alpha": 0.5}
    assert strategy_options("hybrid-0.5+mined") == {"negatives": "mined"}
    assert strategy_options("mono+generic") == {"negatives": "generic"}
    assert strategy_options("hybrid-0.5") == {}
    with pytest.raises(UserError, match=r"unknown suffix \+minde"):
        plan_settings("hybrid-0.5+minde")
    with pytest.raises(UserError, match="twice"):
        plan_settings("hybrid-0.5+mined+generic")


def test_language_trap_negatives_follow_the_query_in_cross_pairs(local_file, minilm32, tmp_path):
    """Stored as ``trap_negatives`` (the row's hardest survivors in its own language); the plan gives a cross pair
    the QUERY row's first trap and a mono pair the passage row's first negative."""
    from hf_hybrid.plan_rows import materialize
    from hf_hybrid.sampling import BatchPlan, PlanConfig

    data, _ = mine_dataset(MineConfig(data=local_file, language_trap=1, num_negatives=2), model=minilm32)
    train = data["train"]
    groups = group_passages(train)
    assert all(len(t) == 1 and not set(t) & groups[r["id"]] for t, r in zip(train["trap_negatives"], train,
                                                                             strict=True))
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in train))
    train = load_parallel(str(mined))["train"]  # the column survives a round trip through a local file
    trap_of = {(r["query"]): r["trap_negatives"][0] for r in train}
    neg_of = {(r["passage"]): r["negatives"][0] for r in train}
    rows = materialize(train, BatchPlan(train, PlanConfig(strategy="hybrid", alpha=0.5, batch_size=4, seed=0), 6))
    kinds = set()
    for row in rows:
        kinds.add(row["query_lang"] == row["passage_lang"])
        expected = neg_of[row["positive"]] if row["query_lang"] == row["passage_lang"] else trap_of[row["anchor"]]
        assert row["negative"] == expected
    assert kinds == {True, False}


def test_grid_mines_once_per_experiment_and_mode(tmp_path, minilm_path):
    """``hybrid-0.5+mined`` trains on data mined by the base model, cached in the experiment folder by mode."""
    from hf_hybrid.experiments.config import Context, ExperimentConfig
    from hf_hybrid.experiments.grid import mined_data

    source = "synthetic:train_groups=12,test_groups=2"
    cfg = ExperimentConfig(data=source, output_dir=str(tmp_path), models=["minilm"])
    ctx = Context(cfg, {"minilm": minilm_path}, None, [], {})
    folder = mined_data(ctx, "minilm", "mined")
    stamp = (folder.parent / "summary.json").stat().st_mtime_ns
    assert mined_data(ctx, "minilm", "mined") == folder
    assert (folder.parent / "summary.json").stat().st_mtime_ns == stamp  # reused, not mined again
    generic = mined_data(ctx, "minilm", "generic")
    assert generic != folder and folder.parent.parent == tmp_path / "experiment" / "mined"
    train = load_parallel(str(folder))["train"]
    groups = group_passages(train)
    assert all(not set(r["negatives"]) & groups[r["id"]] for r in train)
    # the world's low-resource languages hold 1 train group here: no other passage in the pool to mine
    assert all(r["negatives"] for r in train if r["lang"] in ("qaa", "qab", "qac"))
