"""The BM25 baseline: per-language tokenization, lexical ranking, and the pseudo-model through every scorer."""

from __future__ import annotations

import json
import unicodedata

import numpy as np

from hf_hybrid.bm25 import BM25Model, BM25Scores, tokenize, unicode_words
from hf_hybrid.cli import main as cli_main
from hf_hybrid.data import load_parallel
from hf_hybrid.evaluation.beir_pairs import evaluate_beir_pairs, export_beir_pairs
from hf_hybrid.evaluation.suites import SuiteOptions, evaluate_data, load_suite


def test_an_exact_word_match_ranks_first():
    docs = ["The market opens at dawn.", "Fishermen mend their nets by the harbour.", "Bread is baked at night."]
    source = BM25Scores(BM25Model(), ["when do fishermen mend nets"], ["en"], docs, ["en"] * 3)
    scores = source.scores(np.array([0]), np.arange(3))[0]
    assert int(scores.argmax()) == 1 and scores[1] > 0 and scores[0] == scores[2] == 0


def test_ethiopic_arabic_and_yoruba_tokenize_into_whole_words():
    amharic = "አስኳሉ እንዲጠነክር እንቁላል ለምን ያህል ጊዜ መቀቀል አለበት?"
    assert tokenize([amharic], ["am"])[0] == amharic.rstrip("?").split()  # Ethiopic words, the ? dropped
    # Arabic: harakat (combining marks) stay inside the word; the Snowball stemmer strips the article.
    assert unicode_words("كَتَبَ الطالبُ") == ["كَتَبَ", "الطالبُ"]
    assert tokenize(["البيضة"], ["ar"])[0] == ["بيض"]
    # Yoruba: a tone mark typed as a combining character is the same word as the precomposed one, not a cut.
    yoruba = "Se ẹyin fún ìṣẹ́jú mẹ́wàá kí inú rẹ̀ lè le"
    precomposed = tokenize([yoruba], ["yo"])[0]
    assert tokenize([unicodedata.normalize("NFD", yoruba)], ["yo"])[0] == precomposed
    assert precomposed == unicodedata.normalize("NFC", yoruba).lower().split()
    assert unicode_words("日本語") == ["日本", "本語"]  # unspaced scripts: character bigrams


def test_bm25_evaluates_like_a_model_and_cannot_cross_scripts(tmp_path):
    out = tmp_path / "eval"
    assert cli_main(["evaluate", "--model", "bm25", "--data", "sample", "--languages", "en", "ar", "am",
                     "--no-plots", "--output", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    metrics = results["suites"][0]["metrics"]
    assert results["model"] == "bm25" and results["model_fingerprint"]
    assert metrics["mono.map"] > 0.7 and metrics["mono.ndcg@10"] > 0.7
    # Three scripts: every x→y pair has nothing to match, so it is at chance (H_100 / 100 ≈ 0.052).
    assert metrics["cross.map"] < 0.1
    assert "mono.ndcg@10" in (out / "results.md").read_text()


def test_bm25_runs_through_beir_pairs_and_translation(tmp_path):
    rows = load_parallel("sample", split="test", languages=["en", "fr", "am"])["test"]
    folder = export_beir_pairs(rows, tmp_path / "pairs")
    suite = evaluate_beir_pairs(BM25Model(), folder)
    assert suite["pairs"]["en"]["en"]["ndcg@10"] > 0.7 > 0.2 > suite["pairs"]["en"]["am"]["ndcg@10"]
    tset = load_suite("translation_howto", SuiteOptions(languages=("en", "fr", "am")))[0]
    translation = evaluate_data(BM25Model(), tset)
    assert 0 < translation["metrics"]["cross.map"] < 1
