"""BEIR folders made here, cross-lingual BEIR, CIRAL scoring, and MTEB run fully offline on our own data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset

from hf_hybrid.errors import UserError
from hf_hybrid.evaluation import (
    evaluate_parallel,
    evaluate_retrieval,
    load_ciral,
    mteb_task_from_pool,
    run_beir,
    run_mteb,
)
from hf_hybrid.evaluation.beir import load_beir_folder
from hf_hybrid.evaluation.mteb_runner import resolve_tasks
from hf_hybrid.evaluation.multilingual import pool_from_parallel

FIXTURES = Path(__file__).parent / "fixtures" / "eval"
DOCS = {"d1": "Cats eat fish and meat.", "d2": "The train leaves at seven.", "d3": "The tower is very tall.",
        "d4": "Rain is expected tomorrow."}
QUERIES_EN = {"q1": "What do cats eat?", "q2": "When does the train leave?", "q3": "How tall is the tower?"}
QUERIES_DE = {"q1": "Was fressen Katzen?", "q2": "Wann fährt der Zug?", "q3": "Wie hoch ist der Turm?"}


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def make_beir(root: Path, qrels: str = "q1\td1\t1\nq2\td2\t1\nq3\td3\t1\n", docs: dict | None = None) -> Path:
    (root / "qrels").mkdir(parents=True)
    write_jsonl(root / "corpus.jsonl", [{"_id": k, "title": "", "text": v} for k, v in (DOCS if docs is None else docs).items()])
    write_jsonl(root / "queries.jsonl", [{"_id": k, "text": v} for k, v in QUERIES_EN.items()])
    write_jsonl(root / "queries.de.jsonl", [{"_id": k, "text": v} for k, v in QUERIES_DE.items()])
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    return root


@pytest.fixture(scope="module")
def model(minilm):
    return minilm


def test_beir_folder_monolingual_and_cross_lingual(model, tmp_path):
    folder = make_beir(tmp_path / "toy")
    mono = run_beir(model, folder, show_progress_bar=False)
    assert mono["type"] == "beir" and mono["main_score"] == "ndcg@10"
    assert mono["metrics"] == {"ndcg@10": 1.0, "recall@100": 1.0}  # easy English matches
    cross = run_beir(model, folder, queries_file=folder / "queries.de.jsonl", show_progress_bar=False)
    assert cross["name"] == "toy[queries.de]"
    assert cross["fingerprint"] != mono["fingerprint"]
    assert 0.0 <= cross["metrics"]["ndcg@10"] <= 1.0 and cross["metrics"]["recall@100"] == 1.0  # 4 docs < 100


@pytest.mark.parametrize("qrels, docs, match", [
    ("q1\tnope\t1\n", None, "unknown document 'nope'"),
    ("q9\td1\t1\n", None, "unknown query 'q9'"),
    ("q1\td1\t1\n", {}, "empty corpus"),
])
def test_bad_beir_input_is_a_one_line_error(tmp_path, qrels, docs, match):
    folder = make_beir(tmp_path / "bad", qrels=qrels, docs=docs)
    with pytest.raises(UserError, match=match) as info:
        load_beir_folder(folder)
    assert "\n" not in str(info.value)


def test_missing_beir_files_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_beir_folder(tmp_path)
    folder = make_beir(tmp_path / "toy")
    with pytest.raises(UserError, match="qrels/dev.tsv"):
        load_beir_folder(folder, split="dev")


def test_ciral_is_scored_by_ndcg_at_20_and_recall_at_100(model):
    data = load_ciral("ha", root=FIXTURES / "ciral", corpus_root=FIXTURES / "ciral-corpus")
    suite = evaluate_retrieval(model, data, show_progress_bar=False)
    assert set(suite["metrics"]) == {"ndcg@20", "recall@100"} and suite["main_score"] == "ndcg@20"
    assert suite["languages"] == ["en", "ha"]


def test_unknown_mteb_name_carries_mtebs_suggestion():
    with pytest.raises(UserError, match="Did you mean: 'XQuADRetrieval'") as info:
        resolve_tasks(["XQuADRetrievl"])
    assert "\n" not in str(info.value)


def test_mteb_names_and_benchmarks_resolve_offline():
    tasks = resolve_tasks(["BelebeleRetrieval", "MLQARetrieval", "BEIR-NL"])
    names = [t.metadata.name for t in tasks]
    assert names[:2] == ["BelebeleRetrieval", "MLQARetrieval"] and len(names) > 10


def test_our_parallel_data_runs_as_an_mteb_task_offline(model):
    ds = Dataset.from_list([
        {"id": "1", "lang": "en", "query": "What do cats eat?", "passage": "Cats eat fish and meat."},
        {"id": "1", "lang": "de", "query": "Was fressen Katzen?", "passage": "Katzen fressen Fisch und Fleisch."},
        {"id": "2", "lang": "en", "query": "When does the train leave?", "passage": "The train leaves at seven."},
        {"id": "2", "lang": "de", "query": "Wann fährt der Zug?", "passage": "Der Zug fährt um sieben."},
        {"id": "3", "lang": "en", "query": "How tall is the tower?", "passage": "The tower is very tall."},
        {"id": "3", "lang": "de", "query": "Wie hoch ist der Turm?", "passage": "Der Turm ist sehr hoch."},
    ])
    task = mteb_task_from_pool(pool_from_parallel(ds, name="toy"))
    [suite] = run_mteb(model, [task])
    assert suite["type"] == "mteb" and suite["main_score"] == "ndcg_at_10"
    assert set(suite["subsets"]) == {"en-en", "en-de", "de-en", "de-de"}
    # MTEB's nDCG@10 per pair equals ours for the same pair (same model, same candidates)
    ours = evaluate_parallel(model, ds, show_progress_bar=False)["pairs"]
    for subset, scores in suite["subsets"].items():
        x, y = subset.split("-")
        assert scores["ndcg_at_10"] == pytest.approx(ours[x][y]["ndcg@10"], abs=1e-3)
