"""BM25, the lexical baseline, as a pseudo-model that every evaluation suite scores like a dense model.

Why a baseline that cannot win cross-lingually: BM25 (Robertson & Zaragoza, "The Probabilistic Relevance
Framework: BM25 and Beyond", 2009) only matches words, so a query in one script scores 0 against every passage in
another, and a cross-lingual or pooled ranking falls to chance; within a language it is the score every dense
model must beat (BEIR, Thakur et al., NeurIPS 2021, reports it first for that reason). The scoring itself is
``bm25s`` (Lù, 2024; Lucene's BM25 variant, k1 = 1.5, b = 0.75); what is written here is only what bm25s does not
do: tokenization per language, and a :class:`~hf_hybrid.evaluation.scoring.ScoreSource` so that the scorers ask
BM25 for a score block exactly as they ask embeddings for one.

Tokenization (:func:`tokenizer_for`): bm25s' ``Tokenizer`` (lower-casing, stopwords where bm25s ships a list,
a Snowball stemmer where PyStemmer has one for the language) with a Unicode-aware word split
(:func:`unicode_words`) instead of bm25s' default ``\\b\\w\\w+\\b``, which drops one-letter words and cuts words at
combining marks (Yoruba tone marks, Arabic harakat) because Python's ``\\w`` does not match category ``M``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cache

import numpy as np
import regex
import torch

from hf_hybrid.errors import UserError

NAME = "bm25"
K1, B = 1.5, 0.75
# Letters, combining marks and digits form a word (Ethiopic syllables are letters, Yoruba tone marks and Arabic
# harakat are marks). Scripts written without spaces are cut into character bigrams, as Lucene's CJKAnalyzer
# does: a bigram index needs no dictionary and matches most two-character words.
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]+")


def unicode_words(text: str) -> list[str]:
    """Words of ``text`` after NFC normalisation (so a tone mark typed precomposed or combining is one token);
    runs of an unspaced script become overlapping character bigrams (a single character stays itself)."""
    tokens = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text)):
        pos = 0
        for run in _UNSPACED.finditer(word):
            if run.start() > pos:
                tokens.append(word[pos:run.start()])
            chars = run.group()
            tokens.extend([chars] if len(chars) == 1 else [chars[i:i + 2] for i in range(len(chars) - 1)])
            pos = run.end()
        if pos < len(word):
            tokens.append(word[pos:])
    return tokens


@cache
def stemmer_name(lang: str | None) -> str | None:
    """PyStemmer's algorithm for an ISO 639 code (by the language's English name in CLDR, through babel), or
    ``None`` where Snowball has none (Amharic, Yoruba, Swahili, Hausa, synthetic codes)."""
    if not lang:
        return None
    import Stemmer
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(lang.replace("-", "_")).english_name.split(" (")[0].lower()
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return name if name in Stemmer.algorithms() else None


@cache
def _language_settings(lang: str | None) -> tuple[list[str], object]:
    """(stopwords, stemmer) of ``lang``: bm25s' stopword list where it has one, PyStemmer's Snowball stemmer where
    it has one; empty and ``None`` otherwise."""
    try:
        from bm25s.tokenization import _infer_stopwords

        stopwords = list(_infer_stopwords(lang)) if lang else []
    except (ValueError, ImportError):
        stopwords = []
    stem = stemmer_name(lang)
    if not stem:
        return stopwords, None
    import Stemmer

    return stopwords, Stemmer.Stemmer(stem).stemWord


def tokenizer_for(lang: str | None):
    """A fresh bm25s tokenizer for ``lang`` (fresh because a bm25s ``Tokenizer`` keeps the vocabulary of its first
    call and drops unseen words from later ones)."""
    from bm25s.tokenization import Tokenizer

    stopwords, stemmer = _language_settings(lang)
    return Tokenizer(lower=True, splitter=unicode_words, stopwords=stopwords, stemmer=stemmer)


def tokenize(texts: list[str], langs: list[str | None]) -> list[list[str]]:
    """Each text tokenized by its own language's tokenizer (a pool mixes languages)."""
    out: list[list[str] | None] = [None] * len(texts)
    for lang in dict.fromkeys(langs):
        idx = [i for i, text_lang in enumerate(langs) if text_lang == lang]
        tokens = tokenizer_for(lang).tokenize([texts[i] for i in idx], return_as="string", show_progress=False,
                                              allow_empty=False)
        for i, toks in zip(idx, tokens, strict=True):
            out[i] = list(toks)
    return out  # type: ignore[return-value]


class BM25Model:
    """The ``bm25`` pseudo-model: no weights, only the settings that make its scores reproducible.

    ``hf-hybrid evaluate --model bm25`` and the grid's ``bm25`` strategy load this instead of a
    SentenceTransformer; :func:`hf_hybrid.evaluation.scoring.score_source` turns it into a BM25 score source.
    """

    name_or_path = NAME
    k1, b = K1, B

    def fingerprint(self) -> str:
        import bm25s

        return hashlib.sha256(f"bm25s {bm25s.__version__} k1={self.k1} b={self.b} tok=v1".encode()).hexdigest()[:16]

    def encode(self, *args, **kwargs):
        raise UserError("--model", "bm25 is lexical and has no embeddings",
                        "use bm25 only with --data, --suite and --beir (MTEB tasks need a dense model)")


class BM25Scores:
    """A score source: BM25 scores of queries against a candidate subset, with one index per subset.

    The index is built over exactly the candidates being ranked (a language's passages for x→y, the whole pool
    for x→all), so document frequencies are those of the collection searched, as a BM25 user would index it.
    """

    def __init__(self, model: BM25Model, queries: list[str], query_langs: list, cands: list[str], cand_langs: list):
        self.model = model
        self.q_tokens = tokenize(queries, list(query_langs))
        self.c_tokens = tokenize(cands, list(cand_langs))
        self._indexes: dict[bytes, object] = {}

    def _index(self, c_idx: np.ndarray):
        import bm25s

        key = hashlib.sha1(np.ascontiguousarray(c_idx, dtype=np.int64).tobytes()).digest()
        if key not in self._indexes:
            retriever = bm25s.BM25(k1=self.model.k1, b=self.model.b)
            retriever.index([self.c_tokens[i] or [""] for i in c_idx], show_progress=False)
            self._indexes[key] = retriever  # one per language and one for the pool: L + 1 small indexes
        return self._indexes[key]

    def scores(self, q_idx: np.ndarray, c_idx: np.ndarray) -> torch.Tensor:
        retriever = self._index(c_idx)
        out = np.zeros((len(q_idx), len(c_idx)), dtype=np.float32)
        for row, q in enumerate(q_idx):
            if self.q_tokens[q]:
                out[row] = retriever.get_scores(self.q_tokens[q])
        return torch.from_numpy(out)


def dominant_script(texts: list[str]) -> str:
    """The most frequent script among the letters of ``texts``, named by the first word of each letter's Unicode
    name (``LATIN``, ``CYRILLIC``, ``ARABIC``, ``ETHIOPIC``, ``CJK``): BM25 cannot match across two of them."""
    from collections import Counter

    counts = Counter(unicodedata.name(ch, "UNKNOWN").split()[0] for text in texts for ch in text if ch.isalpha())
    return counts.most_common(1)[0][0] if counts else "UNKNOWN"


def language_scripts(dataset) -> dict[str, str]:
    """The dominant script of each language's passages in a parallel-schema dataset: the grid's report groups
    cross-lingual pairs by whether their scripts differ (where lexical matching has nothing to match)."""
    texts: dict[str, list[str]] = {}
    for row in dataset.select_columns(["lang", "passage"]):
        texts.setdefault(row["lang"], []).append(row["passage"])
    return {lang: dominant_script(items) for lang, items in sorted(texts.items())}
