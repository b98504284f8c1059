"""Public source loaders, run on small local copies laid out exactly like the real Hub repositories.

``tests/fixtures/sources/<owner>__<name>/`` mirrors each repository's files (same paths, formats, configs,
splits, field names and feature types; written by ``scripts/make_source_fixtures.py``), so these tests run the
same mapping code users run against the Hub; only the root of the paths differs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from hf_hybrid.data import load_parallel
from hf_hybrid.data.sources import (
    SOURCES,
    describe_sources,
    get_source,
    is_parallel,
)
from hf_hybrid.errors import UserError

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
COPY = {"xquad": FIXTURES / "google__xquad", "mlqa": FIXTURES / "facebook__mlqa",
        "mmarco": FIXTURES / "unicamp-dl__mmarco", "miracl": FIXTURES / "miracl__miracl"}


def _one_line(err: UserError, field: str, *needles: str) -> None:
    message = str(err)
    assert err.field == field, message
    assert "\n" not in message and "fix:" in message
    for needle in needles:
        assert needle in message, message


# --- the registry -------------------------------------------------------------------------------------------
def test_registry_declares_the_real_repositories():
    assert {name: spec.hub_id for name, spec in SOURCES.items()} == {
        "xquad": "google/xquad", "mlqa": "facebook/mlqa", "mmarco": "unicamp-dl/mmarco", "miracl": "miracl/miracl"}
    # XQuAD's configs on the Hub are xquad.<lang> for these 12 languages, one split "validation".
    xquad = SOURCES["xquad"]
    assert sorted(xquad.languages) == sorted("ar de el en es hi ro ru th tr vi zh".split())
    assert xquad.splits == ("validation",) and xquad.configs("de") == "xquad.de"
    assert SOURCES["mlqa"].configs("hi") == "mlqa.hi.hi" and SOURCES["mlqa"].splits == ("validation", "test")
    assert SOURCES["mmarco"].configs("pt") == "portuguese"
    assert all(spec.licence and spec.homepage.startswith("https://") for spec in SOURCES.values())


def test_miracl_is_declared_monolingual_up_front():
    assert [name for name in SOURCES if not is_parallel(name)] == ["miracl"]
    assert SOURCES["miracl"].batch_kinds == ("mono",)
    assert "monolingual only" in SOURCES["miracl"].summary()["note"]
    table = describe_sources()
    assert "| miracl |" in table and "no (monolingual only)" in table


# --- what datasets is asked for -----------------------------------------------------------------------------
def test_hub_requests_are_the_repositories_files():
    """Without downloading: the reads each loader would hand to datasets, as hf:// URLs into the real repos."""
    (xq,) = SOURCES["xquad"].requests(["de"])
    assert (xq.builder, xq.data_files, xq.streaming) == (
        "parquet", "hf://datasets/google/xquad@51adfef1c1287aab1d2d91b5bead9bcfb9c68583/xquad.de/validation-*.parquet", False)
    (ml,) = SOURCES["mlqa"].requests(["vi"], "test")
    assert ml.data_files == "hf://datasets/facebook/mlqa@refs%2Fconvert%2Fparquet/mlqa.vi.vi/test/*.parquet"
    mm = {r.role: r for r in SOURCES["mmarco"].requests(["es"])}
    assert {role: r.data_files for role, r in mm.items()} == {
        "es:triples": "hf://datasets/unicamp-dl/mmarco@4f069e4665db5e0b74b9fc4fdf64faf55b69e685/data/triples.train.ids.small.tsv",
        "es:queries": "hf://datasets/unicamp-dl/mmarco@4f069e4665db5e0b74b9fc4fdf64faf55b69e685/data/google/queries/train/spanish_queries.train.tsv",
        "es:collection": "hf://datasets/unicamp-dl/mmarco@4f069e4665db5e0b74b9fc4fdf64faf55b69e685/data/google/collections/spanish_collection.tsv"}
    assert all(r.streaming and r.builder == "csv" and dict(r.options)["sep"] == "\t" for r in mm.values())
    (mi,) = SOURCES["miracl"].requests(["sw"], "dev")
    assert mi.data_files == "hf://datasets/miracl/miracl@refs%2Fconvert%2Fparquet/sw/dev/*.parquet"
    assert mi.streaming  # large: streamed by default


def test_loader_asks_datasets_for_exactly_its_requests_and_explains_a_missing_hub(monkeypatch):
    calls = []

    def offline(builder, **kwargs):
        calls.append((builder, kwargs["data_files"], kwargs["streaming"]))
        raise ConnectionError("no route to huggingface.co")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    spec = SOURCES["xquad"]
    with pytest.raises(UserError) as err:
        spec.load(["en", "de"])
    _one_line(err.value, "data", "google/xquad", "data_dir=")
    first = spec.requests(["en", "de"])[0]
    assert calls == [(first.builder, first.data_files, first.streaming)]


def test_local_copy_uses_the_same_relative_paths():
    hub = SOURCES["mmarco"].requests(["de"])
    local = SOURCES["mmarco"].requests(["de"], data_dir=str(COPY["mmarco"]))
    assert [r.path for r in hub] == [r.path for r in local]
    assert all(Path(r.data_files).exists() for r in local)


# --- each loader on its local copy --------------------------------------------------------------------------
def test_xquad_is_parallel_by_question_id_with_context_or_answer_sentence():
    spec = SOURCES["xquad"]
    contexts = spec.load(["en", "de", "ar"], data_dir=str(COPY["xquad"]))
    assert sorted(set(contexts["id"])) == ["q1", "q2", "q3"]
    assert len(contexts) == 9
    en = {r["id"]: r for r in contexts if r["lang"] == "en"}
    assert en["q1"]["passage"] == en["q2"]["passage"]  # one paragraph, two questions: why 'sentence' exists
    sentences = spec.load(["en", "ar"], data_dir=str(COPY["xquad"]), passage="sentence")
    got = {(r["id"], r["lang"]): r["passage"] for r in sentences}
    assert got[("q1", "en")] == "It reaches the Mediterranean Sea at Alexandria."
    assert got[("q2", "en")] == "Cairo lies on its banks."
    assert got[("q1", "ar")] == "ويصل إلى البحر المتوسط عند الإسكندرية."


def test_answer_sentence_handles_several_scripts():
    from hf_hybrid.text import sentence_at as answer_sentence

    assert answer_sentence("One. Two three. Four.", 6) == "Two three."
    assert answer_sentence("बारिश होती है। बादल बनते हैं।", 16) == "बादल बनते हैं।"
    assert answer_sentence("雨が降る。雲ができる。", 6) == "雲ができる。"


def test_mlqa_caps_groups_preferring_ids_in_every_language():
    data = SOURCES["mlqa"].load(["en", "de", "hi"], "test", data_dir=str(COPY["mlqa"]), max_groups=2)
    assert sorted(set(data["id"])) == ["m1", "m2"]  # m3 is missing in Hindi, so it is the one dropped
    assert len(data) == 6
    everything = SOURCES["mlqa"].load(["en", "de", "hi"], "validation", data_dir=str(COPY["mlqa"]))
    assert len(everything) == 8  # the incomplete group is kept when nothing is capped


def test_mmarco_joins_triples_queries_and_collection_per_language():
    data = SOURCES["mmarco"].load(["en", "de"], data_dir=str(COPY["mmarco"]), max_groups=2)
    rows = {(r["id"], r["lang"]): r for r in data}
    assert sorted(rows) == [("mmarco-101", "de"), ("mmarco-101", "en"), ("mmarco-102", "de"), ("mmarco-102", "en")]
    assert rows[("mmarco-101", "en")]["passage"] == "Nairobi is the capital of Kenya."
    assert rows[("mmarco-101", "en")]["negatives"] == ["Lagos is in Nigeria."]  # the first triple of query 101
    assert rows[("mmarco-102", "de")]["query"] == "wie lange kocht man ein ei"
    assert len(SOURCES["mmarco"].load(["en"], data_dir=str(COPY["mmarco"]))) == 3


def test_miracl_rows_are_monolingual_and_capped_per_language():
    data = SOURCES["miracl"].load(["sw", "en"], data_dir=str(COPY["miracl"]))
    assert sorted(data["id"]) == ["miracl-en-0", "miracl-sw-0", "miracl-sw-3"]  # query 5 has no relevant passage
    by_id = {r["id"]: r for r in data}
    assert by_id["miracl-en-0"]["passage"] == "Nairobi. Nairobi is the capital of Kenya."
    assert by_id["miracl-en-0"]["negatives"] == ["Mombasa. Mombasa is a coastal city."]
    assert by_id["miracl-sw-3"]["negatives"] == []
    two = SOURCES["miracl"].load(["sw", "en"], "dev", data_dir=str(COPY["miracl"]), max_groups=1, max_negatives=2)
    assert sorted(two["id"]) == ["miracl-en-0", "miracl-sw-0"]
    assert len(next(r for r in two if r["lang"] == "en")["negatives"]) == 2


# --- bad input: one line naming field, value and fix ----------------------------------------------------------
def test_unknown_source():
    with pytest.raises(UserError) as err:
        get_source("squad2")
    _one_line(err.value, "source", "'squad2'", "xquad")
    with pytest.raises(UserError) as err:
        load_parallel("squad2")
    _one_line(err.value, "data", "'squad2'")


def test_language_the_source_does_not_have():
    with pytest.raises(UserError) as err:
        SOURCES["mlqa"].load(["en", "sw"], data_dir=str(COPY["mlqa"]))
    _one_line(err.value, "languages", "'sw'", "mlqa")


def test_split_the_source_does_not_have():
    with pytest.raises(UserError) as err:
        SOURCES["xquad"].load(["en"], "train", data_dir=str(COPY["xquad"]))
    _one_line(err.value, "split", "'train'", "validation")


def test_local_copy_in_the_wrong_layout(tmp_path):
    copy = tmp_path / "xquad"
    shutil.copytree(COPY["xquad"], copy)
    path = copy / "xquad.en" / "validation-00000-of-00001.parquet"
    table = pq.read_table(path)
    pq.write_table(table.rename_columns(["id", "context", "question_text", "answers"]), path)
    with pytest.raises(UserError) as err:
        SOURCES["xquad"].load(["en"], data_dir=str(copy))
    _one_line(err.value, "data_dir", "'question'", "google/xquad")
    with pytest.raises(UserError) as err:
        SOURCES["xquad"].load(["de"], data_dir=str(tmp_path))  # files not under xquad.de/
    _one_line(err.value, "data_dir", "xquad.de/validation-*.parquet")


def test_cli_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    from hf_hybrid.commands.build import main

    out = tmp_path / "built"
    assert main(["--data", "xquad", "--languages", "en", "sw", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "sw" in err and "fix:" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_mmarco_languages_in_the_source_string_and_the_same_groups_in_each():
    """``mmarco:langs=en+de`` is how a YAML config names the languages; every language gets the same ids."""
    data = load_parallel(f"mmarco:data_dir={COPY['mmarco']},langs=en+de,max_groups=3")["train"]
    assert sorted(set(data["lang"])) == ["de", "en"]
    ids = {lang: sorted(r["id"] for r in data if r["lang"] == lang) for lang in ("en", "de")}
    assert ids["en"] == ids["de"] == ["mmarco-101", "mmarco-102", "mmarco-103"]


def test_mmarco_reads_only_the_rows_it_needs_from_blocks(tmp_path, monkeypatch):
    """The join stops reading a collection once every needed passage is found (small blocks to show it)."""
    from hf_hybrid.data import mmarco

    lines = "".join(f"{i}\tpassage {i}\n" for i in range(5000))
    (tmp_path / "collection.tsv").write_text(lines)
    monkeypatch.setattr(mmarco, "BLOCK_BYTES", 1 << 12)
    read = []
    original = mmarco.read_tsv_blocks

    def counting(url, columns):
        for batch in original(url, columns):
            read.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(mmarco, "read_tsv_blocks", counting)
    import pyarrow as pa

    found = mmarco.texts_for(str(tmp_path / "collection.tsv"), pa.array(["3", "10"]))
    assert dict(zip(found["id"].to_pylist(), found["text"].to_pylist(), strict=True)) == {
        "3": "passage 3", "10": "passage 10"}
    assert sum(read) < 5000


def test_mmarco_without_the_hub_is_one_line():
    with pytest.raises(UserError) as err:
        SOURCES["mmarco"].load(["en"], max_groups=2)
    _one_line(err.value, "data", "unicamp-dl/mmarco", "data_dir=")
