"""Local copies of the Hub repositories the shipped configs read, laid out exactly as on the Hub.

``write_mirror(root)`` writes ``<root>/<owner>__<name>/`` for each repository (the layout ``hf-hybrid check
--mirror`` reads): the same relative paths, file names and formats as the repository at the revision pinned in
``hf_hybrid/data/sources.py`` (see ``tests/fixtures/hub_layouts/README.md`` for where each layout was read
from), with generated stand-in texts, enough groups for batches of 100, and for models only ``config.json``
(the real values) plus a small tokenizer trained here, never weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hf_hybrid.data.sources import MMARCO_NAMES, XQUAD

GROUPS = 150  # queries per language: more than one batch of 100 in every language
MMARCO_LANGUAGES = ("en", "ar", "zh", "de", "es", "ru", "hi")

# config.json of the two base models (architecture values of the Hub repositories; no weights are written)
XLMR_CONFIG = {"architectures": ["XLMRobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1, "bos_token_id": 0,
               "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
               "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05,
               "max_position_embeddings": 514, "model_type": "xlm-roberta", "num_attention_heads": 12,
               "num_hidden_layers": 12, "pad_token_id": 1, "type_vocab_size": 1, "vocab_size": 250002}
LABSE_CONFIG = {"architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
                "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
                "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
                "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0, "type_vocab_size": 2,
                "vocab_size": 501153}


def _words(lang: str, i: int) -> str:
    return f"{lang} text {i} about topic {i % 17}"


def write_mmarco(root: Path, languages=MMARCO_LANGUAGES, groups: int = GROUPS) -> Path:
    """``data/triples.train.ids.small.tsv`` and per language ``data/google/queries/train/<name>_queries.train.tsv``
    and ``data/google/collections/<name>_collection.tsv``: header-less TSV, MS MARCO ids shared by all."""
    repo = root / "unicamp-dl__mmarco" / "data"
    (repo / "google" / "queries" / "train").mkdir(parents=True, exist_ok=True)
    (repo / "google" / "collections").mkdir(parents=True, exist_ok=True)
    qids = [1000 + 3 * i for i in range(groups)]
    triples = "".join(f"{q}\t{2 * i}\t{2 * i + 1}\n" for i, q in enumerate(qids))
    (repo / "triples.train.ids.small.tsv").write_text(triples)
    for lang in languages:
        name = MMARCO_NAMES[lang]
        (repo / "google" / "queries" / "train" / f"{name}_queries.train.tsv").write_text(
            "".join(f"{q}\tquery {_words(lang, i)}\n" for i, q in enumerate(qids)), encoding="utf-8")
        (repo / "google" / "collections" / f"{name}_collection.tsv").write_text(
            "".join(f"{p}\tpassage {_words(lang, p)}\n" for p in range(2 * groups)), encoding="utf-8")
    return root / "unicamp-dl__mmarco"


def write_xquad(root: Path, groups: int = 20) -> Path:
    """``xquad.<lang>/validation-00000-of-00001.parquet`` for XQuAD's 12 languages (SQuAD fields)."""
    answers = pa.struct([("text", pa.list_(pa.string())), ("answer_start", pa.list_(pa.int32()))])
    for lang in XQUAD.languages:
        contexts = [f"Context {lang} {i}. The answer is {lang}{i}." for i in range(groups)]
        table = pa.table({
            "id": [f"x{i}" for i in range(groups)], "context": contexts,
            "question": [f"Question {lang} {i}?" for i in range(groups)],
            "answers": pa.array([{"text": [f"{lang}{i}"], "answer_start": [c.index(f"{lang}{i}.")]}
                                 for i, c in enumerate(contexts)], answers)})
        path = root / "google__xquad" / f"xquad.{lang}" / "validation-00000-of-00001.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    return root / "google__xquad"


def _corpus() -> list[str]:
    return [f"query passage text about topic {i} {lang}" for i in range(50) for lang in MMARCO_LANGUAGES]


def write_models(root: Path) -> None:
    """``FacebookAI/xlm-roberta-base`` (config.json, tokenizer.json) and ``sentence-transformers/LaBSE``
    (config.json, WordPiece tokenizer files, modules.json): the files a dry run reads, no weights."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BertTokenizerFast, XLMRobertaTokenizerFast

    xlmr = root / "FacebookAI__xlm-roberta-base"
    xlmr.mkdir(parents=True, exist_ok=True)
    (xlmr / "config.json").write_text(json.dumps(XLMR_CONFIG, indent=2))
    unigram = Tokenizer(models.Unigram())
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    unigram.train_from_iterator(_corpus(), trainers.UnigramTrainer(
        vocab_size=200, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>"))
    XLMRobertaTokenizerFast(tokenizer_object=unigram).save_pretrained(str(xlmr))
    labse = root / "sentence-transformers__LaBSE"
    labse.mkdir(parents=True, exist_ok=True)
    (labse / "config.json").write_text(json.dumps(LABSE_CONFIG, indent=2))
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator(_corpus(), trainers.WordPieceTrainer(
        vocab_size=200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    BertTokenizerFast(tokenizer_object=wordpiece).save_pretrained(str(labse))
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
               {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"}]
    (labse / "modules.json").write_text(json.dumps(modules, indent=2))


def write_mirror(root: Path) -> Path:
    """Every repository the shipped configs read from the Hub, under ``root``."""
    write_mmarco(root)
    write_xquad(root)
    write_models(root)
    return root
