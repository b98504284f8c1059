"""Multilingual evaluation end to end with a real model (all-MiniLM-L6-v2), suites, outputs and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset
from sentence_transformers import SentenceTransformer

from hf_hybrid.commands.evaluate import main
from hf_hybrid.errors import UserError
from hf_hybrid.evaluation import (
    MultilingualRetrievalEvaluator,
    evaluate_parallel,
    evaluate_pool,
    load_africlirmatrix,
    load_ciral,
    load_mlqa_r,
    load_xquad_r,
    markdown_table,
    write_evaluation_report,
    write_results,
)
from hf_hybrid.evaluation.multilingual import pool_from_parallel
from hf_hybrid.text import sentence_at, split_sentences

FIXTURES = Path(__file__).parent / "fixtures" / "eval"

GROUPS = [
    ("Where is the market?", "The market is next to the old church.",
     "Wo ist der Markt?", "Der Markt ist neben der alten Kirche.",
     "Où est le marché ?", "Le marché est à côté de la vieille église."),
    ("When does the train leave?", "The train leaves at seven in the morning.",
     "Wann fährt der Zug ab?", "Der Zug fährt um sieben Uhr morgens ab.",
     "Quand part le train ?", "Le train part à sept heures du matin."),
    ("What do cats eat?", "Cats eat fish and meat.",
     "Was fressen Katzen?", "Katzen fressen Fisch und Fleisch.",
     "Que mangent les chats ?", "Les chats mangent du poisson et de la viande."),
    ("How tall is the tower?", "The tower is three hundred metres tall.",
     "Wie hoch ist der Turm?", "Der Turm ist dreihundert Meter hoch.",
     "Quelle est la hauteur de la tour ?", "La tour mesure trois cents mètres."),
]


def parallel_dataset() -> Dataset:
    rows = []
    for gid, group in enumerate(GROUPS):
        for k, lang in enumerate(("en", "de", "fr")):
            rows.append({"id": f"g{gid}", "lang": lang, "query": group[2 * k], "passage": group[2 * k + 1]})
    return Dataset.from_list(rows)


@pytest.fixture(scope="module")
def model(minilm):
    return minilm


@pytest.fixture(scope="module")
def suite(model):
    return evaluate_parallel(model, parallel_dataset(), resource_levels={"en": "high", "de": "high", "fr": "low"},
                             zero_shot=["fr"], show_progress_bar=False)


def brute_force_ap(model, ds: Dataset, query_lang: str, cand_lang: str | None) -> float:
    """Average precision by sorting full score rows with numpy: an independent reference for our ranks."""
    q_rows = [r for r in ds if r["lang"] == query_lang]
    c_rows = [r for r in ds if cand_lang is None or r["lang"] == cand_lang]
    q = model.encode([r["query"] for r in q_rows], normalize_embeddings=True)
    c = model.encode([r["passage"] for r in c_rows], normalize_embeddings=True)
    aps = []
    for i, row in enumerate(q_rows):
        order = np.argsort(-(q[i] @ c.T), kind="stable")
        hits = [rank + 1 for rank, j in enumerate(order) if c_rows[j]["id"] == row["id"]]
        aps.append(np.mean([(n + 1) / r for n, r in enumerate(hits)]))
    return float(np.mean(aps))


def test_suite_has_the_schema_and_every_setting(suite):
    for key in ("name", "type", "dataset", "split", "fingerprint", "languages", "resource_levels", "metrics",
                "main_score", "by_resource", "pairs"):
        assert key in suite
    assert suite["type"] == "multilingual" and suite["main_score"] == "multi.map"
    assert suite["languages"] == ["de", "en", "fr"]
    assert suite["resource_levels"] == {"de": "high", "en": "high", "fr": "zero-shot"}
    for setting in ("mono", "cross", "multi"):
        for metric in ("map", "map@20", "ndcg@10", "recall@1", "recall@10", "recall@100", "mrr@10"):
            assert 0.0 <= suite["metrics"][f"{setting}.{metric}"] <= 1.0
    assert 0 <= suite["metrics"]["multi.own_language_share@10"] <= 1
    assert {len(row) for row in suite["pairs"].values()} == {3}  # 3 × 3 pairs, diagonal included
    # cross pairs with fr are grouped under fr's level (the lower side), en↔de under high
    assert set(suite["by_resource"]) == {"high", "zero-shot"}
    assert "cross.map" in suite["by_resource"]["zero-shot"] and "mono.map" in suite["by_resource"]["high"]


def test_map_matches_a_brute_force_ranking(model, suite):
    ds = parallel_dataset()
    assert suite["pairs"]["en"]["en"]["map"] == pytest.approx(brute_force_ap(model, ds, "en", "en"), abs=1e-6)
    assert suite["pairs"]["de"]["en"]["map"] == pytest.approx(brute_force_ap(model, ds, "de", "en"), abs=1e-6)
    assert suite["per_language"]["fr"]["map"] == pytest.approx(brute_force_ap(model, ds, "fr", None), abs=1e-6)
    cross = [suite["pairs"][x][y]["map"] for x in ("de", "en", "fr") for y in ("de", "en", "fr") if x != y]
    assert suite["metrics"]["cross.map"] == pytest.approx(np.mean(cross))


def test_language_bias_matches_a_brute_force_rank_distance(model, suite):
    """Language bias (Huang et al. 2023): per query, highest minus lowest rank of its parallel relevant passages
    in the pooled ranking; mean per query language, then macro average. An English-only model ranks the
    translations of an answer far apart, so the bias is well above its floor of 2 (three relevant passages)."""
    ds = parallel_dataset()
    rows = list(ds)
    p = model.encode([r["passage"] for r in rows], normalize_embeddings=True)
    per_lang = {}
    for lang in ("de", "en", "fr"):
        q_rows = [r for r in rows if r["lang"] == lang]
        q = model.encode([r["query"] for r in q_rows], normalize_embeddings=True)
        distances = []
        for i, row in enumerate(q_rows):
            order = np.argsort(-(q[i] @ p.T), kind="stable")
            ranks = [rank + 1 for rank, j in enumerate(order) if rows[j]["id"] == row["id"]]
            distances.append(max(ranks) - min(ranks))
        per_lang[lang] = np.mean(distances)
    assert suite["metrics"]["multi.language_bias"] == pytest.approx(np.mean(list(per_lang.values())), abs=1e-6)
    assert suite["metrics"]["multi.language_bias"] > 2.5


def test_english_model_is_strong_monolingually_on_english(suite):
    # all-MiniLM-L6-v2 is English-only: en→en must be near perfect, and better than its cross-lingual mean
    assert suite["pairs"]["en"]["en"]["map"] > 0.9
    assert suite["metrics"]["mono.map"] > suite["metrics"]["cross.map"]


def test_identical_texts_share_one_candidate_and_negatives_join_the_pool():
    ds = Dataset.from_list([
        {"id": "a", "lang": "en", "query": "q1", "passage": "same", "negatives": ["distractor"]},
        {"id": "b", "lang": "en", "query": "q2", "passage": "same", "negatives": []},
    ])
    pool = pool_from_parallel(ds)
    assert pool.cand_texts == ["same", "distractor"]
    assert pool.relevant == {"a": [0], "b": [0]}


def test_embedding_cache_gives_the_same_results(model, tmp_path):
    ds = parallel_dataset()
    first = evaluate_parallel(model, ds, cache_dir=str(tmp_path), show_progress_bar=False)
    assert list(tmp_path.rglob("*.npz"))
    second = evaluate_parallel(model, ds, cache_dir=str(tmp_path), show_progress_bar=False)
    assert first["metrics"] == pytest.approx(second["metrics"], abs=1e-6)


def test_unknown_language_is_a_one_line_error(model):
    with pytest.raises(UserError, match="languages: \\['xx'\\] not in the data"):
        evaluate_parallel(model, parallel_dataset(), languages=["en", "xx"], show_progress_bar=False)


def test_evaluator_reports_prefixed_metrics_with_multilingual_map_primary(model):
    evaluator = MultilingualRetrievalEvaluator(parallel_dataset(), name="toy")
    metrics = evaluator(model)
    assert evaluator.primary_metric == "toy_multi.map"
    assert metrics["toy_multi.map"] == pytest.approx(evaluate_parallel(
        model, parallel_dataset(), show_progress_bar=False)["metrics"]["multi.map"])


def test_xquad_r_fixture_in_lareqa_layout(model):
    pool = load_xquad_r(FIXTURES / "lareqa" / "xquad-r", languages=("en", "de"))
    assert len(pool.cand_texts) == 6 and len(pool.query_texts) == 4
    # q0's relevant candidates are the "bridge" sentence in both languages
    assert [pool.cand_texts[i] for i in pool.relevant["q0"]] == ["Die Brücke wurde 1900 gebaut.",
                                                               "The bridge was built in 1900."]
    suite = evaluate_pool(model, pool, show_progress_bar=False)
    assert suite["name"] == "xquad_r" and suite["split"] == "validation"
    assert suite["pairs"]["en"]["en"]["map"] == 1.0


def test_mlqa_r_fixture_keeps_questions_missing_in_some_languages():
    pool = load_mlqa_r(FIXTURES / "MLQA_V1", languages=("en", "de"))
    # m1 exists only in English: one relevant candidate; m0 has two (en and de)
    assert len(pool.relevant["m1"]) == 1 and len(pool.relevant["m0"]) == 2


def test_sentence_splitter_handles_cjk_and_latin():
    text = "第一句。第二句。 Third one. Fourth!"
    assert [text[s:e] for s, e in split_sentences(text)] == ["第一句。", "第二句。", "Third one.", "Fourth!"]


def test_one_splitter_gives_the_answer_sentence_in_several_scripts():
    assert sentence_at("One. Two three. Four.", 6) == "Two three."
    assert sentence_at("One. Two three. Four.", 4) == "Two three."  # the space between: the next sentence
    assert sentence_at("बारिश होती है। बादल बनते हैं।", 16) == "बादल बनते हैं।"
    assert sentence_at("雨が降る。雲ができる。", 6) == "雲ができる。"
    assert sentence_at("Πού είναι; Εδώ.", 12) == "Εδώ."  # ';' is the Greek question mark


def test_registry_entries_load_and_dispatch_from_the_cli(tmp_path, capsys, minilm_path):
    """Each suite is one SUITES entry: its flags, loader and scorer come from it (no per-name code in the CLI)."""
    out = tmp_path / "out"
    code = main(["--model", minilm_path, "--ciral", "ha", "--ciral-dir", str(FIXTURES / "ciral"),
                 "--ciral-corpus-dir", str(FIXTURES / "ciral-corpus"), "--suite", "africlirmatrix",
                 "--africlirmatrix-dir", str(FIXTURES / "africlirmatrix"),
                 "--africlirmatrix-corpus-dir", str(FIXTURES / "africlirmatrix-corpus"), "--africlirmatrix", "hau",
                 "--no-plots", "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    suites = json.loads((out / "results.json").read_text())["suites"]
    assert [(s["name"], s["main_score"]) for s in suites] == [("ciral.ha", "ndcg@20"), ("africlirmatrix.hau", "ndcg@10")]


def test_ciral_and_africlirmatrix_fixtures_in_release_layout():
    ciral = load_ciral("hausa", root=FIXTURES / "ciral", corpus_root=FIXTURES / "ciral-corpus")
    assert ciral.name == "ciral.ha" and ciral.metrics == ("ndcg@20", "recall@100")
    assert ciral.qrels == {"101": {"ha-1#0": 1}, "102": {"ha-3#0": 1}}  # judged non-relevant (0) dropped
    afri = load_africlirmatrix("hau", root=FIXTURES / "africlirmatrix", corpus_root=FIXTURES / "africlirmatrix-corpus")
    assert afri.qrels["625122"] == {"11": 5, "12": 4} and len(afri.corpus) == 4
    with pytest.raises(UserError, match="not in AfriCLIRMatrix"):
        load_africlirmatrix("deu", root=FIXTURES / "africlirmatrix")


def test_results_json_markdown_and_plots(model, suite, tmp_path):
    results = write_evaluation_report(tmp_path, model, [suite], {"batch_size": 64})
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["schema"] == "hf-hybrid/eval-results/v1" and on_disk == results
    assert on_disk["model_fingerprint"] and "sentence-transformers" in on_disk["versions"]
    assert "rank_distances" not in on_disk["suites"][0]
    assert "| multi.map |" in (tmp_path / "results.md").read_text()
    names = {p.name for p in (tmp_path / "plots").iterdir()}
    assert names == {f"parallel_{k}.png" for k in ("heatmap", "settings", "rank_distance", "language_share")}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_write_results_turns_nan_into_null(tmp_path):
    suite = {"name": "x", "metrics": {"multi.language_bias": float("nan")}}
    write_results(tmp_path / "r.json", "m", [suite], {})
    assert json.loads((tmp_path / "r.json").read_text())["suites"][0]["metrics"]["multi.language_bias"] is None
    assert "–" in markdown_table({"model": "m", "created_at": "now", "suites": [
        {"name": "x", "type": "beir", "split": "test", "main_score": "a", "metrics": {"a": float("nan")}}]})


def test_cli_writes_results_for_a_parallel_file(tmp_path, capsys, minilm_path):
    out = tmp_path / "out"
    code = main(["--model", minilm_path, "--data", str(FIXTURES / "parallel_test.jsonl"), "--split", "train", "--zero-shot", "fr",
                 "--no-plots", "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert results["suites"][0]["resource_levels"]["fr"] == "zero-shot"


@pytest.mark.parametrize("argv, field", [
    (["--data", "/nonexistent/file.jsonl"], "data"),
    (["--mteb", "XQuADRetrievl"], "mteb"),
    (["--beir", str(FIXTURES / "missing-beir-folder")], "beir"),
    (["--data", str(FIXTURES / "parallel_test.jsonl"), "--split", "train", "--languages", "xx"], "languages"),
])
def test_cli_bad_input_is_one_line_exit_2_and_no_results(tmp_path, capsys, argv, field, minilm_path):
    out = tmp_path / "out"
    code = main(["--model", minilm_path, *argv, "--output", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert field in err
    assert not out.exists()


def test_cli_refuses_a_model_folder_without_tokenizer(tmp_path, capsys, minilm_path):
    """A folder without tokenizer files would get a tokenizer of special tokens only and score near chance."""
    import shutil

    folder = tmp_path / "no-tokenizer"
    shutil.copytree(minilm_path, folder)
    (folder / "tokenizer.json").unlink()
    (folder / "vocab.txt").unlink()
    out = tmp_path / "out"
    code = main(["--model", str(folder), "--data", str(FIXTURES / "parallel_test.jsonl"), "--split", "train",
                 "--output", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "tokenizer" in err
    assert not out.exists()


def test_cli_output_that_is_a_file_is_one_line(tmp_path, capsys, minilm_path):
    taken = tmp_path / "results.txt"
    taken.write_text("keep me")
    code = main(["--model", minilm_path, "--data", str(FIXTURES / "parallel_test.jsonl"), "--split", "train",
                 "--output", str(taken / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--output" in err and "is a file" in err
    assert taken.read_text() == "keep me"


def test_suites_follow_the_one_schema_and_are_found_by_name(suite):
    from hf_hybrid.evaluation.results import SuiteResult, find_suite

    assert set(SuiteResult.__required_keys__) <= set(suite) <= set(SuiteResult.__annotations__)
    assert list(suite)[:3] == ["name", "type", "dataset"]  # the results file's key order
    assert find_suite([suite], "parallel") is suite
    with pytest.raises(KeyError, match="no suite 'xquad_r'"):
        find_suite([suite], "xquad_r")


def test_a_document_only_prompt_is_used_for_passages(model, minilm_path):
    """Evaluation encodes passages as encode_document does: with the model's ``document`` prompt when it has one."""
    from hf_hybrid.evaluation.embeddings import encode_unique

    texts = ["The market is next to the old church.", "Cats eat fish and meat."]
    prompted = SentenceTransformer(minilm_path, prompts={"document": "passage: "})
    ours = encode_unique(prompted, texts, role="passage", show_progress_bar=False).cpu().numpy()
    np.testing.assert_allclose(ours, prompted.encode_document(texts, normalize_embeddings=True), atol=1e-5)
    plain = model.encode(texts, normalize_embeddings=True)
    assert not np.allclose(ours, plain, atol=1e-3)  # the prompt really changed the input
    queries = encode_unique(prompted, texts, role="query", show_progress_bar=False).cpu().numpy()
    np.testing.assert_allclose(queries, plain, atol=1e-5)  # no query prompt: queries are encoded plainly


def test_shared_embeddings_encode_a_text_once_per_model_and_role(model, monkeypatch):
    """Inside ``shared_embeddings`` a second suite reading the same texts encodes nothing; the vectors are the
    ones it would have computed, and outside the block nothing is kept."""
    from hf_hybrid.evaluation.embeddings import encode_unique, shared_embeddings

    calls = []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda texts, **kw: calls.append(list(texts)) or encode(texts, **kw))
    texts = ["one text", "another text", "a third"]
    alone = encode_unique(model, texts, role="query", show_progress_bar=False)
    with shared_embeddings():
        first = encode_unique(model, texts[:2], role="query", show_progress_bar=False)
        again = encode_unique(model, texts, role="query", show_progress_bar=False)
        encode_unique(model, texts, role="passage", show_progress_bar=False)
    encode_unique(model, texts[:1], role="query", show_progress_bar=False)
    assert calls[1:] == [texts[:2], ["a third"], texts, texts[:1]]
    np.testing.assert_allclose(again[:2].numpy(), first.numpy(), atol=1e-6)
    np.testing.assert_allclose(again.numpy(), alone.numpy(), atol=1e-5)
