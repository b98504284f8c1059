"""Evaluation suites declared as data: name → where the real data lives, its languages, its loader.

Multilingual (LAReQA-style) suites build a :class:`MultilingualPool`; low-resource cross-lingual suites build a
:class:`RetrievalData` scored like BEIR. Each loader reads files laid out exactly as the real release
(``tests/fixtures/eval/`` has small copies) and, given no local folder, fetches the real release first.

* ``xquad_r`` — XQuAD-R (LAReQA, Roy et al. 2020), 11 languages, Hub dataset ``xquad_r`` (config per
  language, split ``validation``) or the LAReQA repository's ``xquad-r/<lang>.json`` (SQuAD JSON with
  ``sentences`` / ``sentence_breaks``). A question's relevant candidates are its answer sentence in every
  language; candidates are the sentences of all contexts (with ``with_context`` the paragraph is appended).
* ``mlqa_r`` — MLQA-R, 7 languages (ar, de, en, es, hi, vi, zh). Not on the Hub, so built from MLQA by the
  LAReQA recipe: for each language x the ``context-x-question-x`` file of MLQA (``MLQA_V1/<split>/`` or the
  Hub's ``facebook/mlqa`` config ``mlqa.x.x``); contexts split into sentences; a question's relevant
  candidates are the answer sentences of the *same MLQA id* in every language that has it.
* ``ciral`` — CIRAL (English queries → Hausa, Somali, Swahili, Yoruba news passages; FIRE 2023): topics and
  TREC qrels from the Hub repo ``CIRAL/ciral`` (``ciral-<language>/…/topics.ciral-v1.0-<xx>-<set>.tsv``,
  ``qrels.ciral-v1.0-<xx>-<set>.tsv``), passages from ``CIRAL/ciral-corpus`` (``passages-v1.0/*.jsonl``,
  fields ``docid``, ``title``, ``text``, ``url``). Scored by nDCG@20 and Recall@100, as the track does.
* ``howto`` — the bundled out-of-domain how-to set (:mod:`hf_hybrid.data.howto`), in the sample's 10 languages,
  scored like the parallel suite (mono / cross / multi mAP, language bias). Never used for training.
* ``translation_howto`` / ``translation_cldr`` — translation retrieval (:mod:`hf_hybrid.evaluation.translation`):
  the how-to passages, and CLDR's human-written territory names, each text against all texts of another
  language. A task of another kind than the training data: it shows what fine-tuning costs elsewhere.
* ``africlirmatrix`` — AfriCLIRMatrix (English → 15 African languages; Ogundepo et al., EMNLP 2022): topics and
  qrels as in the GitHub release (``test/queries/topics.africlirmatrix-v1.0.en.<lang>.tsv``,
  ``test/qrels/qrels.africlirmatrix-v1.0.en.<lang>.txt``), corpus from the Hub repo ``castorini/africlirmatrix``
  (``*.jsonl`` with ``docid``, ``title``, ``text``). nDCG@10 and Recall@100.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hf_hybrid.errors import UserError
from hf_hybrid.evaluation.beir import RetrievalData, evaluate_retrieval, read_trec_qrels
from hf_hybrid.evaluation.multilingual import MultilingualPool, evaluate_pool
from hf_hybrid.evaluation.results import SuiteResult
from hf_hybrid.evaluation.translation import (
    TranslationSet,
    evaluate_translation,
    from_cldr_territories,
    from_parallel,
)
from hf_hybrid.text import split_sentences

XQUAD_R_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
MLQA_R_LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")
HOWTO_LANGUAGES = ("en", "fr", "es", "de", "ru", "ar", "sw", "yo", "ha", "am")  # the sample's (data.sample)
CIRAL_LANGUAGES = {"ha": "hausa", "so": "somali", "sw": "swahili", "yo": "yoruba"}
AFRICLIRMATRIX_LANGUAGES = ("afr", "amh", "ary", "arz", "hau", "ibo", "nso", "sna", "som", "swa", "tir", "twi",
                            "wol", "yor", "zul")


def pool_from_squad(
    paragraphs_by_lang: dict[str, list[dict]], *, name: str, split: str, with_context: bool = False
) -> MultilingualPool:
    """LAReQA's recipe on SQuAD-format paragraphs (``context``, ``qas``, optional ``sentence_breaks``).

    Candidates: every sentence of every paragraph, per language. Queries: every question. A question id's
    relevant candidates: the sentence holding its answer, in each language where that id exists.
    """
    q_texts, q_langs, q_keys, c_texts, c_langs = [], [], [], [], []
    relevant: dict[str, list[int]] = {}
    for lang in sorted(paragraphs_by_lang):
        for para in paragraphs_by_lang[lang]:
            context = para["context"]
            spans = [tuple(s) for s in para.get("sentence_breaks") or split_sentences(context)]
            first = len(c_texts)
            for s, e in spans:
                sentence = context[s:e].strip()
                c_texts.append(f"{sentence} {context}" if with_context else sentence)
                c_langs.append(lang)
            for qa in para["qas"]:
                start = qa["answers"][0]["answer_start"] if qa["answers"] else 0
                hit = next((i for i, (s, e) in enumerate(spans) if s <= start < e), len(spans) - 1)
                q_texts.append(qa["question"])
                q_langs.append(lang)
                q_keys.append(str(qa["id"]))
                relevant.setdefault(str(qa["id"]), []).append(first + hit)
    if not c_texts:
        raise UserError("data", f"{name!r} has no paragraphs", "check the dataset files")
    return MultilingualPool(q_texts, q_langs, q_keys, c_texts, c_langs,
                            {k: sorted(set(v)) for k, v in relevant.items()}, name, split, {"dataset": name})


def _squad_paragraphs(path: Path) -> list[dict]:
    if not path.is_file():
        raise UserError("data", f"file {str(path)!r} not found", "check the folder layout (see hf_hybrid/evaluation/suites.py)")
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [para for article in data for para in article["paragraphs"]]


def _hub_rows_to_paragraphs(rows) -> list[dict]:
    """Hub SQuAD-style rows (one per question: ``id``, ``context``, ``question``, ``answers``) → paragraphs."""
    by_context: dict[str, dict] = {}
    for row in rows:
        para = by_context.setdefault(row["context"], {"context": row["context"], "qas": []})
        answers = [{"text": t, "answer_start": s} for t, s in
                   zip(row["answers"]["text"], row["answers"]["answer_start"], strict=True)]
        para["qas"].append({"id": row["id"], "question": row["question"], "answers": answers})
    return list(by_context.values())


def load_xquad_r(source: str | Path | None = None, *, languages=XQUAD_R_LANGUAGES, with_context: bool = False):
    """XQuAD-R from the LAReQA folder (``<lang>.json``) or, with no folder, the Hub's ``xquad_r``."""
    if source is not None:
        paragraphs = {lang: _squad_paragraphs(Path(source) / f"{lang}.json") for lang in languages}
    else:
        from datasets import load_dataset

        paragraphs = {lang: _hub_rows_to_paragraphs(load_dataset("xquad_r", lang, split="validation"))
                      for lang in languages}
    return pool_from_squad(paragraphs, name="xquad_r", split="validation", with_context=with_context)


def load_mlqa_r(source: str | Path | None = None, *, split: str = "test", languages=MLQA_R_LANGUAGES,
                with_context: bool = False):
    """MLQA-R built from MLQA (``MLQA_V1/<split>/<split>-context-x-question-x.json``, or ``facebook/mlqa``)."""
    if source is not None:
        root = Path(source)
        paragraphs = {lang: _squad_paragraphs(root / split / f"{split}-context-{lang}-question-{lang}.json")
                      for lang in languages}
    else:
        from datasets import load_dataset

        hub_split = "validation" if split == "dev" else split
        paragraphs = {lang: _hub_rows_to_paragraphs(load_dataset("facebook/mlqa", f"mlqa.{lang}.{lang}", split=hub_split))
                      for lang in languages}
    return pool_from_squad(paragraphs, name="mlqa_r", split=split, with_context=with_context)


def _one(root: Path, pattern: str, what: str) -> Path:
    found = sorted(root.glob(pattern), key=lambda p: len(p.name))
    if not found:
        raise UserError(what, f"no file matching {pattern!r} under {str(root)!r}", "check the folder layout of the release")
    return found[0]


def _read_tsv_topics(path: Path) -> dict[str, str]:
    rows = (line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line)
    return {qid.strip(): text.strip() for qid, text in rows}


def _read_passages(paths: list[Path]) -> dict[str, str]:
    corpus = {}
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    doc = json.loads(line)
                    corpus[str(doc["docid"])] = f"{doc.get('title', '')} {doc['text']}".strip()
    return corpus


def load_ciral(language: str, *, split: str = "test-a", root: str | Path | None = None,
               corpus_root: str | Path | None = None) -> RetrievalData:
    """CIRAL for one language (``ha``, ``so``, ``sw``, ``yo`` or the full name); ``split`` dev|test-a|test-b."""
    code = next((c for c, n in CIRAL_LANGUAGES.items() if language in (c, n)), None)
    if code is None:
        raise UserError("ciral", f"language {language!r} not in CIRAL", f"use one of {sorted(CIRAL_LANGUAGES)}")
    full = CIRAL_LANGUAGES[code]
    if root is None or corpus_root is None:
        from huggingface_hub import snapshot_download

        root = root or snapshot_download("CIRAL/ciral", repo_type="dataset", allow_patterns=[f"ciral-{full}/*"])
        corpus_root = corpus_root or snapshot_download("CIRAL/ciral-corpus", repo_type="dataset",
                                                       allow_patterns=[f"passages-v1.0/*{full}*"])
    base = Path(root) / f"ciral-{full}"
    queries = _read_tsv_topics(_one(base, f"**/topics.ciral-v1.0-{code}-{split}*.tsv", "ciral"))
    qrels = read_trec_qrels(_one(base, f"**/qrels.ciral-v1.0-{code}-{split}*.tsv", "ciral"))
    passages = sorted(Path(corpus_root).glob(f"**/*{full}*.jsonl*"))
    if not passages:
        raise UserError("ciral", f"no passages for {full!r} under {str(corpus_root)!r}",
                        "download CIRAL/ciral-corpus (passages-v1.0/)")
    return RetrievalData(f"ciral.{code}", queries, _read_passages(passages), qrels, split, "en", code,
                         metrics=("ndcg@20", "recall@100"), dataset="CIRAL/ciral").validate()


def load_africlirmatrix(language: str, *, root: str | Path, corpus_root: str | Path | None = None) -> RetrievalData:
    """AfriCLIRMatrix English → ``language`` (ISO 639-3, e.g. ``hau``) from the release's ``test/`` folder."""
    if language not in AFRICLIRMATRIX_LANGUAGES:
        raise UserError("africlirmatrix", f"language {language!r} not in AfriCLIRMatrix",
                        f"use one of {', '.join(AFRICLIRMATRIX_LANGUAGES)}")
    if corpus_root is None:
        from huggingface_hub import snapshot_download

        corpus_root = snapshot_download("castorini/africlirmatrix", repo_type="dataset", allow_patterns=[f"*{language}*"])
    base = Path(root)
    queries = _read_tsv_topics(_one(base, f"**/topics.africlirmatrix-v1.0.en.{language}.tsv", "africlirmatrix"))
    qrels = read_trec_qrels(_one(base, f"**/qrels.africlirmatrix-v1.0.en.{language}.txt", "africlirmatrix"))
    passages = sorted(Path(corpus_root).glob(f"**/*{language}*.jsonl*"))
    if not passages:
        raise UserError("africlirmatrix", f"no corpus for {language!r} under {str(corpus_root)!r}",
                        "download castorini/africlirmatrix")
    return RetrievalData(f"africlirmatrix.{language}", queries, _read_passages(passages), qrels, "test", "en",
                         language, metrics=("ndcg@10", "recall@100"), dataset="castorini/africlirmatrix").validate()


# ---------------------------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class SuiteOptions:
    """Where and what to load; every field optional (the default is the real release, every language)."""

    root: str | None = None  # local copy of the release (the LAReQA / MLQA / CIRAL / AfriCLIRMatrix folder)
    corpus_root: str | None = None  # local copy of the passages, for suites whose corpus is a separate repo
    split: str | None = None
    languages: tuple[str, ...] | None = None
    with_context: bool = False  # multilingual suites: append the paragraph to each candidate sentence


@dataclass(frozen=True)
class Suite:
    """A named evaluation suite, declared as data (as mteb declares a task): the real data's location, its
    languages and metrics, and the loader that turns :class:`SuiteOptions` into what the suite scores."""

    name: str
    kind: str  # "multilingual" (MultilingualPool), "translation" (TranslationSet) or "crosslingual" (BEIR-style)
    source: str
    languages: tuple[str, ...]
    metrics: tuple[str, ...]
    reference: str
    loader: Callable[[SuiteOptions], list]
    needs_root: bool = False  # no download path: a local copy of the release is required
    has_corpus: bool = False  # the passages live apart from the topics (``corpus_root``)
    splits: tuple[str, ...] = ()  # the splits a user may pick, first = default (none: the release has one)


def _xquad_r(o: SuiteOptions) -> list[MultilingualPool]:
    return [load_xquad_r(o.root, languages=o.languages or XQUAD_R_LANGUAGES, with_context=o.with_context)]


def _mlqa_r(o: SuiteOptions) -> list[MultilingualPool]:
    return [load_mlqa_r(o.root, split=o.split or "test", languages=o.languages or MLQA_R_LANGUAGES,
                        with_context=o.with_context)]


def _ciral(o: SuiteOptions) -> list[RetrievalData]:
    return [load_ciral(lang, split=o.split or "test-a", root=o.root, corpus_root=o.corpus_root)
            for lang in o.languages or CIRAL_LANGUAGES]


def _howto(o: SuiteOptions) -> list[MultilingualPool]:
    from hf_hybrid.data.howto import load_howto
    from hf_hybrid.evaluation.multilingual import pool_from_parallel

    return [pool_from_parallel(load_howto(list(o.languages) if o.languages else None), name="howto")]


def _translation_howto(o: SuiteOptions) -> list[TranslationSet]:
    from hf_hybrid.data.howto import load_howto

    return [from_parallel(load_howto(list(o.languages) if o.languages else None), name="translation_howto",
                          source="hf_hybrid/data/howto (passages)")]


def _translation_cldr(o: SuiteOptions) -> list[TranslationSet]:
    from hf_hybrid.data.sample import SAMPLE_LANGUAGES

    return [from_cldr_territories(list(o.languages or SAMPLE_LANGUAGES))]


def _africlirmatrix(o: SuiteOptions) -> list[RetrievalData]:
    return [load_africlirmatrix(lang, root=o.root, corpus_root=o.corpus_root)
            for lang in o.languages or AFRICLIRMATRIX_LANGUAGES]


SUITES = {suite.name: suite for suite in (
    Suite("xquad_r", "multilingual", "hub:xquad_r (split validation) | lareqa xquad-r/<lang>.json",
          XQUAD_R_LANGUAGES, ("map",), "https://arxiv.org/abs/2004.05484", _xquad_r),
    Suite("mlqa_r", "multilingual", "hub:facebook/mlqa mlqa.x.x | MLQA_V1/<split>/",
          MLQA_R_LANGUAGES, ("map",), "https://arxiv.org/abs/2004.05484", _mlqa_r, splits=("test", "dev")),
    Suite("ciral", "crosslingual", "hub:CIRAL/ciral + hub:CIRAL/ciral-corpus", tuple(CIRAL_LANGUAGES),
          ("ndcg@20", "recall@100"), "https://github.com/ciralproject/ciral", _ciral, has_corpus=True,
          splits=("test-a", "test-b", "dev")),
    Suite("howto", "multilingual", "bundled: hf_hybrid/data/howto/howto.jsonl", HOWTO_LANGUAGES, ("map",),
          "hf_hybrid/data/howto/DATA_CARD.md", _howto),
    Suite("translation_howto", "translation", "bundled: hf_hybrid/data/howto/howto.jsonl (passages)",
          HOWTO_LANGUAGES, ("map", "recall@1"), "hf_hybrid/data/howto/DATA_CARD.md", _translation_howto),
    Suite("translation_cldr", "translation", "pypi:babel (Unicode CLDR territory names)", HOWTO_LANGUAGES,
          ("map", "recall@1"), "https://cldr.unicode.org", _translation_cldr),
    Suite("africlirmatrix", "crosslingual", "github:castorini/africlirmatrix test/ + hub:castorini/africlirmatrix",
          AFRICLIRMATRIX_LANGUAGES, ("ndcg@10", "recall@100"), "https://aclanthology.org/2022.emnlp-main.597/",
          _africlirmatrix, needs_root=True, has_corpus=True),
)}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise UserError("suite", f"unknown suite {name!r}", f"use one of {', '.join(SUITES)}")
    return SUITES[name]


def load_suite(name: str, options: SuiteOptions | None = None) -> list:
    """The data of suite ``name``: one :class:`MultilingualPool`, or one :class:`RetrievalData` per language."""
    suite, options = get_suite(name), options or SuiteOptions()
    if suite.needs_root and not options.root:
        raise UserError(f"{name} folder", "missing", f"give a local copy of the release ({suite.source})")
    return suite.loader(options)


def evaluate_data(model, data, *, zero_shot: list[str] | None = None, resource_levels: dict[str, str] | None = None,
                  **common) -> SuiteResult:
    """Score one loaded suite: a pool by the LAReQA settings, a translation set by bitext retrieval, a retrieval
    collection BEIR-style."""
    if isinstance(data, TranslationSet):
        return evaluate_translation(model, data, zero_shot=zero_shot, resource_levels=resource_levels, **common)
    if isinstance(data, MultilingualPool):
        return evaluate_pool(model, data, zero_shot=zero_shot, resource_levels=resource_levels, **common)
    return evaluate_retrieval(model, data, **common)
