"""Translation retrieval, BEIR folders per language pair, and the bundled out-of-domain how-to set."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import Dataset

from hf_hybrid.data import load_parallel
from hf_hybrid.data.howto import load_howto
from hf_hybrid.data.sample import SAMPLE_LANGUAGES
from hf_hybrid.evaluation.beir import load_beir_folder
from hf_hybrid.evaluation.beir_pairs import evaluate_beir_pairs, export_beir_pairs
from hf_hybrid.evaluation.suites import evaluate_data, load_suite
from hf_hybrid.evaluation.translation import (
    TranslationSet,
    embedding_source,
    from_parallel,
    score_translation,
)

ROWS = [("g0", "en", "Where is the market?", "The market is next to the old church."),
        ("g0", "de", "Wo ist der Markt?", "Der Markt ist neben der alten Kirche."),
        ("g1", "en", "When does the train leave?", "The train leaves at seven in the morning."),
        ("g1", "de", "Wann fährt der Zug ab?", "Der Zug fährt um sieben Uhr morgens ab."),
        ("g2", "en", "What do cats eat?", "Cats eat fish and meat."),
        ("g2", "de", "Was fressen Katzen?", "Katzen fressen Fisch und Fleisch.")]


@pytest.fixture(scope="module")
def data() -> Dataset:
    return Dataset.from_list([dict(zip(("id", "lang", "query", "passage"), r, strict=True)) for r in ROWS])


@pytest.fixture(scope="module")
def model(minilm):
    return minilm


def test_translation_scores_follow_the_embeddings():
    """One relevant per query (its translation): a perfect embedding scores 1, a swapped one ranks it second."""
    tset = TranslationSet("t", "test", {"a": {"en": "a", "de": "A"}, "b": {"en": "b", "de": "B"}})
    eye = np.eye(2, dtype=np.float32)
    perfect = score_translation(tset, embedding_source(tset, {"en": eye, "de": eye}), {"en": "high", "de": "low"})
    assert perfect["metrics"]["cross.map"] == 1.0 and perfect["metrics"]["en_to_low.recall@1"] == 1.0
    swapped = score_translation(tset, embedding_source(tset, {"en": eye, "de": eye[::-1].copy()}), {"en": "high", "de": "low"})
    assert swapped["metrics"]["cross.map"] == 0.5 and swapped["metrics"]["cross.recall@1"] == 0.0
    assert swapped["by_resource"]["low"]["cross.map"] == 0.5  # en↔de is grouped by its lower side


def test_beir_pairs_export_reads_back_and_scores(tmp_path, data, model):
    folder = export_beir_pairs(data, tmp_path / "pairs", name="toy")
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["de-de", "de-en", "en-de", "en-en"]
    cross = load_beir_folder(folder / "en-de")
    assert cross.queries["g1"] == "When does the train leave?" and cross.corpus["g1"].startswith("Der Zug")
    assert cross.qrels == {g: {g: 1} for g in ("g0", "g1", "g2")}
    suite = evaluate_beir_pairs(model, folder, zero_shot=["de"])
    assert suite["metrics"]["mono.ndcg@10"] > 0.9 and suite["metrics"]["cross.recall@100"] == 1.0
    assert set(suite["by_resource"]) == {"high", "zero-shot"} and suite["resource_levels"]["de"] == "zero-shot"
    json.dumps(suite)  # the results file can hold it


def test_translation_suite_from_parallel_data(data, model):
    suite = evaluate_data(model, from_parallel(data, name="translation_toy", source="toy"))
    assert suite["type"] == "translation" and suite["main_score"] == "cross.map"
    assert set(suite["pairs"]) == {"en", "de"} and "en" not in suite["pairs"]["en"]  # x → x is not a task here
    assert 0.0 < suite["metrics"]["cross.map"] <= 1.0


def test_howto_set_is_complete_and_a_data_source():
    howto = load_howto()
    assert sorted(set(howto["lang"])) == sorted(SAMPLE_LANGUAGES)
    counts = {lang: howto["lang"].count(lang) for lang in SAMPLE_LANGUAGES}
    assert len(set(counts.values())) == 1 and counts["en"] >= 50  # every group in every language
    assert list(load_parallel("howto")) == ["test"]
    [pool] = load_suite("howto")
    assert pool.name == "howto" and len(pool.query_texts) == len(howto)


def test_cldr_names_are_human_translations_in_every_sample_language():
    [tset] = load_suite("translation_cldr")
    assert tset.languages == sorted(SAMPLE_LANGUAGES) and len(tset.texts) > 200
    assert tset.texts["DE"]["de"] == "Deutschland" and tset.texts["DE"]["sw"] == "Ujerumani"
