"""Every model card states what fine-tuning changed in translation retrieval against the base (issue 29 item 5):
``hf-hybrid evaluate --against-base`` scores the base on the same translation texts, and the card shows base, model
and change; without it the card says the change was not measured and how to measure it."""

import json
import shutil

import pytest

from hf_hybrid.cards import render_model_card, translation_change
from hf_hybrid.commands.evaluate import main as evaluate


def test_the_change_is_model_minus_base_per_suite_and_metric():
    results = {"suites": [{"name": "translation_cldr", "type": "translation",
                           "metrics": {"cross.map": 0.75, "en_to_low.map": 0.5}}],
               "base": {"model": "org/base", "suites": [{"name": "translation_cldr", "type": "translation",
                                                          "metrics": {"cross.map": 0.8, "en_to_low.map": 0.5}}]}}
    text = translation_change(results)
    assert "| translation_cldr | cross.map | 0.8000 | 0.7500 | -0.0500 |" in text
    assert "| translation_cldr | en_to_low.map | 0.5000 | 0.5000 | +0.0000 |" in text and "`org/base`" in text
    assert "--against-base" in translation_change({"suites": results["suites"]})  # the base was not scored
    assert translation_change(None).startswith("Not measured") and "--against-base" in translation_change(None)


def test_evaluate_against_base_puts_the_change_on_the_card(tiny_trained_model, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_trained_model, model)
    assert evaluate(["--model", str(model), "--suite", "translation_cldr", "--languages", "en", "de", "sw",
                     "--against-base", "--no-plots", "--output", str(model)]) == 0
    results = json.loads((model / "results.json").read_text())
    record = json.loads((model / "hf_hybrid_training.json").read_text())
    (mine,), (base,) = results["suites"], results["base"]["suites"]
    assert results["base"]["model"] == record["base_model"] and base["name"] == mine["name"] == "translation_cldr"
    assert results["base"]["max_seq_length"] == 32  # the base read the texts at the model's length, not its 256
    assert mine["metrics"]["cross.map"] != base["metrics"]["cross.map"]  # two models, two scores
    assert sorted(mine["by_resource"]) == sorted(base["by_resource"])  # the same texts: en, de and sw only
    card = str(render_model_card(model))
    change = mine["metrics"]["cross.map"] - base["metrics"]["cross.map"]
    assert "### Translation retrieval against the base" in card
    assert f"| translation_cldr | cross.map | {base['metrics']['cross.map']:.4f} | " \
           f"{mine['metrics']['cross.map']:.4f} | {change:+.4f} |" in card


@pytest.mark.parametrize("argv, needle", [
    (["--data", "sample"], "no translation suite selected"),
])
def test_against_base_without_a_translation_suite_is_one_line(tiny_trained_model, tmp_path, capsys, argv,
                                                              needle):
    assert evaluate(["--model", str(tiny_trained_model), *argv, "--against-base", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err
