"""Cards rendered from a really trained tiny model: metadata round-trips and every table number is the results file's."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard, ModelCard

from hf_hybrid.cards import render_model_card, write_model_card
from hf_hybrid.commands.card import main as card_main
from hf_hybrid.dataset_card import render_dataset_card
from hf_hybrid.errors import UserError
from tests.hubfixture import tiny_trained_model, write_training_record  # noqa: F401  (fixture)

RESULTS = {
    "schema": "hf-hybrid/eval-results/v1", "model": "tiny", "created_at": "2026-11-25T10:00:00Z", "versions": {},
    "suites": [
        {"name": "xquad-r", "type": "multilingual", "dataset": "xquad_r", "split": "validation",
         "languages": ["en", "de", "el"], "main_score": "multi.map",
         "metrics": {"mono.map": 0.712345678, "cross.map": 0.51234, "multi.map": 0.4567, "mono.map@20": 0.70001,
                     "cross.map@20": 0.50009, "multi.map@20": 0.44449, "multi.language_bias": 12.34567,
                     "multi.own_language_share@10": 0.61},
         "by_resource": {"high": {"multi.map": 0.52}, "zero-shot": {"multi.map": 0.31}},
         "pairs": {"en": {"en": {"map": 0.81}, "de": {"map": 0.62}}, "de": {"en": {"map": 0.55}, "de": {"map": 0.77}}}},
        {"name": "XQuADRetrieval", "type": "mteb", "dataset": "mteb/xquadr", "split": "validation",
         "languages": ["de"], "metrics": {"ndcg_at_10": 0.8123456}, "main_score": "ndcg_at_10"},
    ],
}


@pytest.fixture
def model_dir(tiny_trained_model: Path, tmp_path: Path) -> Path:  # noqa: F811
    folder = tmp_path / "model"
    shutil.copytree(tiny_trained_model, folder)
    (folder / "results.json").write_text(json.dumps(RESULTS))
    return folder


def tables(markdown: str) -> dict[str, list[list[str]]]:
    """Every Markdown table under its ## / ### heading, as rows of cells (header row first)."""
    found, heading, rows = {}, None, []
    for line in markdown.splitlines() + [""]:
        if line.startswith(("## ", "### ")):
            heading = line.lstrip("#").strip()
        elif line.startswith("|"):
            if not re.fullmatch(r"\|( --- \|)+", line):
                rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            found[heading], rows = rows, []
    return found


def test_model_card_metadata_round_trips_and_numbers_equal_results(model_dir: Path) -> None:
    path = write_model_card(model_dir, repo_id="org/hybrid-xlmr")
    card = ModelCard.load(path)

    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert card.data.language == ["en", "de", "el"]
    assert {"hf-hybrid", "sentence-transformers", "loss:MultipleNegativesRankingLoss"} <= set(card.data.tags)
    assert card.data.widget  # sentence-transformers' own metadata is kept
    index = {(r.dataset_name, r.metric_type): r.metric_value for r in card.data.eval_results}
    expected = {(s["name"], m): v for s in RESULTS["suites"] for m, v in s["metrics"].items()}
    assert index == expected  # model-index: exactly the results file, full precision

    found = tables(card.text)
    ml = found["xquad-r: monolingual, cross-lingual and multilingual retrieval"]
    header = ml[0]
    metrics = RESULTS["suites"][0]["metrics"]
    checked = 0
    for row in ml[1:]:
        for setting, cell in zip(header[1:], row[1:], strict=True):
            key = f"{setting}.{row[0]}"
            if cell == "–":
                assert key not in metrics  # a dash only where the file has no value
            else:
                assert float(cell) == round(metrics[key], 4)
                checked += 1
    assert checked == len(metrics)
    pairs = found["xquad-r: map per language pair"]
    for row in pairs[1:]:
        for passage, cell in zip(pairs[0][1:], row[1:], strict=True):
            assert float(cell) == round(RESULTS["suites"][0]["pairs"][row[0]][passage]["map"], 4)
    resource = found["xquad-r: by language resource level"]
    assert {row[0]: float(row[1]) for row in resource[1:]} == {"high": 0.52, "zero-shot": 0.31}
    assert found["MTEB"][1] == ["XQuADRetrieval", "validation", "0.8123"]
    assert "BEIR" not in found  # no BEIR suite in the results: no BEIR table

    assert {row[0]: row[3] for row in found["Languages"][1:]} == {
        "en": "trained", "de": "trained", "el": "zero-shot (held out)"}
    training = dict(found["Training"][1:])
    assert training["alpha"] == "0.5" and training["learning_rate"] == "3e-05" and training["max_steps"] == "2"
    assert dict(found["Hardware and time"][1:])["wall time (s)"] == "12.5"
    assert 'SentenceTransformer("org/hybrid-xlmr")' in card.text
    assert "2408.10536" in card.text and "Full Model Architecture" in card.text


def test_rewriting_the_card_is_stable_and_keeps_the_sentence_transformers_card(model_dir: Path) -> None:
    first = write_model_card(model_dir, repo_id="org/m").read_text()
    second = write_model_card(model_dir, repo_id="org/m").read_text()
    assert first == second
    assert second.count("Card generated by sentence-transformers") == 1


def test_missing_values_are_left_out_not_invented(model_dir: Path) -> None:
    (model_dir / "results.json").unlink()
    write_training_record(model_dir, hardware=None, wall_time_s=None, samples_per_second=None)
    card = render_model_card(model_dir, repo_id="org/m")
    assert card.data.eval_results is None and "model-index" not in str(card)
    assert "No evaluation results were attached" in card.text
    assert "Hardware and time" not in card.text and "wall time" not in card.text


def test_bad_results_file_is_one_line_error(model_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "something/else"}))
    with pytest.raises(UserError) as err:
        render_model_card(model_dir, bad)
    assert err.value.field == "results" and "something/else" in str(err.value) and "\n" not in str(err.value)


def test_card_cli_writes_readme(model_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert card_main([str(model_dir), "--repo-id", "org/m", "--license", "apache-2.0"]) == 0
    assert ModelCard.load(model_dir / "README.md").data.license == "apache-2.0"
    assert card_main([str(model_dir / "nope")]) == 2
    assert capsys.readouterr().err.startswith("error: model_dir:")


def test_dataset_card_from_build_summary_round_trips() -> None:
    summary = {"source": "sample", "repo_id": "org/hybrid-sample", "license": "cc-by-sa-4.0",
               "splits": {"train": {"rows": 12, "groups_per_language": {"en": 6, "de": 6}},
                          "test": {"rows": 4, "groups_per_language": {"en": 2, "el": 2}}},
               "plan": {"name": "hybrid-a0.5-b4-s42", "steps": 3, "steps_per_kind": {"mono": 2, "cross": 1}},
               "plan_config": {"strategy": "hybrid", "alpha": 0.5, "batch_size": 4, "seed": 42}}
    card = DatasetCard(str(render_dataset_card(summary)))
    assert card.data.language == ["de", "el", "en"]
    assert card.data.license == "cc-by-sa-4.0" and "hf-hybrid" in card.data.tags
    found = tables(card.text)
    assert ["train", "12", "de", "6"] in found["Sizes and languages"]
    plan = dict(found["Batch plan"][1:])
    assert plan["alpha"] == "0.5" and plan["steps (cross)"] == "1"
    assert "`hybrid-a0.5-b4-s42`" in card.text and 'load_dataset("org/hybrid-sample", "parallel")' in card.text


@pytest.mark.parametrize("prompts", [{"document": "passage: "}, {"passage": "p: ", "document": "d: "}])
def test_card_advertises_the_prompt_encode_document_uses(model_dir: Path, prompts: dict) -> None:
    """sentence-transformers' rule (hf_hybrid.prompts): ``document`` before ``passage``; no query prompt, none shown."""
    config = model_dir / "config_sentence_transformers.json"
    settings = json.loads(config.read_text())
    settings["prompts"] = prompts
    config.write_text(json.dumps(settings))
    text = str(render_model_card(model_dir))
    assert 'prompt_name="document"' in text and 'prompt_name="passage"' not in text
    assert 'prompt_name="query"' not in text


def test_reading_a_training_record_imports_no_torch():
    """Cards and the demo's model labels read a JSON record: importing them must not pull in torch and the trainer
    (6 CPU seconds before the demo's page could come up)."""
    import subprocess
    import sys

    code = ("import sys, hf_hybrid.cards, hf_hybrid.demo.startup; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
