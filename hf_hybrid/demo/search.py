"""The search itself: each configured model encodes the query with its query prompt and ranks the corpus it
embedded with its passage prompt; one result list per model, for the same query."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hf_hybrid.demo.config import DemoConfig
from hf_hybrid.demo.corpus import UNDETERMINED, Corpus
from hf_hybrid.demo.index import Hit, PassageIndex
from hf_hybrid.errors import UserError
from hf_hybrid.prompts import document_prompt_name, query_prompt_name


class Encoder:
    """A configured model with its query/passage prompts and a lock around ``encode``.

    The prompts follow sentence-transformers' ``encode_query`` / ``encode_document`` rule
    (:mod:`hf_hybrid.prompts`), so a model is served with the prompts it was trained and evaluated with.

    The lock is there because a fast tokenizer shared by threads can fail with "Already borrowed" when
    two requests encode at once; one query encodes in milliseconds, so serialising costs little.
    """

    def __init__(self, name: str, model):
        self.name, self.model = name, model
        self.query_prompt = query_prompt_name(model)
        self.passage_prompt = document_prompt_name(model)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, query: bool, batch_size: int = 32) -> np.ndarray:
        prompt = self.query_prompt if query else self.passage_prompt
        with self._lock:  # task: the route of a query-side model (train_side query), ignored by any other model
            out = self.model.encode(list(texts), prompt_name=prompt, task="query" if query else "document",
                                    batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)


MODEL_FIX = "point MODEL_ID / MODELS (or --model) at a sentence-transformers model folder or a Hub model id"


def check_demo_model(name: str) -> str:
    """The configured model resolved by :func:`hf_hybrid.models.resolve_model`, refusing a local path without a model.

    A file, or a folder without ``modules.json`` / ``config.json`` (say an interrupted training run), would
    otherwise fail deep inside transformers with a ``ValueError`` about ``model_type``. Cheap, so it runs before
    the page starts and a bad setting is one line and exit code 2.
    """
    from hf_hybrid.models import resolve_model

    path = Path(name).expanduser()
    if path.is_file() or (path.is_dir() and not any((path / f).is_file() for f in ("modules.json", "config.json"))):
        raise UserError("model", f"{name!r} is not a model folder (no modules.json or config.json)", MODEL_FIX)
    return resolve_model(name)


# transformers 5 reads a tokenizer's added tokens from tokenizer_config.json's ``added_tokens_decoder``; when that key
# is absent (``save_pretrained`` no longer writes it) it json-parses the whole tokenizer.json in Python just for
# them, although the Rust tokenizer loads the same file and holds them: 17 MB for multilingual-e5-small's 250k
# vocabulary, about half of its load time (2.37 -> 1.15 s here). An empty map skips that parse; the tokenizer's
# ids, special tokens, added-token table and the embeddings are identical (checked on e5 and MiniLM).
SKIP_ADDED_TOKENS_PARSE = {"added_tokens_decoder": {}}


def load_encoder(name: str, backend: str = "torch") -> Encoder:
    """The configured model, loaded through :func:`hf_hybrid.models.load_model` (the one model loader), on
    ``backend`` (the files ``hf-hybrid export`` wrote; ``torch`` by default)."""
    from hf_hybrid.models import load_model

    kwargs = {"processor_kwargs": SKIP_ADDED_TOKENS_PARSE} if backend == "torch" else {}
    return Encoder(name, load_model(check_demo_model(name), backend=backend, **kwargs))


@dataclass
class SearchResult:
    model: str
    rows: list[dict]

    def languages(self) -> Counter:
        return Counter(row["lang"] for row in self.rows)


class DemoSearch:
    """Models and corpus loaded once; corpus embeddings computed (or read from the cache) once and kept.

    ``indexes`` given (one per model name, built by :class:`~hf_hybrid.demo.startup.Startup` from cached
    embeddings) are used as they are; otherwise the corpus is embedded here.
    """

    def __init__(self, config: DemoConfig, encoders: Sequence[Encoder], corpus: Corpus,
                 indexes: Mapping[str, PassageIndex] | None = None):
        self.config, self.encoders, self.corpus = config, list(encoders), corpus
        self.indexes = dict(indexes) if indexes is not None else self.index_corpus(corpus)

    @property
    def model_names(self) -> list[str]:
        return [enc.name for enc in self.encoders]

    def index_corpus(self, corpus: Corpus) -> dict[str, PassageIndex]:
        """One index per model, the corpus encoded with each model's passage prompt."""
        return {
            enc.name: PassageIndex(enc.encode(corpus.passages, query=False), corpus.langs, self.config.faiss_min_passages,
                                   self.config.quantized_min_passages)
            for enc in self.encoders
        }

    def check_query(self, query: str | None, top_k: float | None, languages: Sequence[str] | None,
                    corpus: Corpus) -> tuple[str, int, list[str]]:
        """The page's inputs, validated; any problem is a one-line :class:`UserError` shown on the page."""
        query = (query or "").strip()
        if not query:
            raise UserError("query", "empty", "type a question in any language")
        if len(query) > self.config.max_query_chars:
            raise UserError("query", f"{len(query)} characters", f"shorten it to {self.config.max_query_chars}")
        try:
            k = int(top_k if top_k is not None else self.config.default_top_k)
        except (TypeError, ValueError):
            raise UserError("top-k", f"{top_k!r}", f"choose 1 to {self.config.max_top_k}") from None
        if not 1 <= k <= self.config.max_top_k:
            raise UserError("top-k", f"{k}", f"choose 1 to {self.config.max_top_k}")
        languages = list(languages or [])
        unknown = sorted(set(languages) - set(corpus.languages))
        if unknown:
            raise UserError("languages", f"{unknown} not in the corpus", f"choose from {corpus.languages}")
        return query, k, languages

    def search(self, query: str | None, top_k: float | None = None, languages: Sequence[str] | None = None,
               corpus: Corpus | None = None, indexes: Mapping[str, PassageIndex] | None = None) -> list[SearchResult]:
        """Top-k passages from every configured model, for one query; ``languages`` empty means all."""
        corpus, indexes = (corpus, indexes) if corpus is not None else (self.corpus, self.indexes)
        query, k, languages = self.check_query(query, top_k, languages, corpus)
        results = []
        for enc in self.encoders:
            vector = enc.encode([query], query=True)[0]
            hits = indexes[enc.name].search(vector, k, languages)
            rows = [_result_row(rank, hit, corpus) for rank, hit in enumerate(hits, start=1)]
            results.append(SearchResult(enc.name, rows))
        return results


def language_name(code: str) -> str:
    from hf_hybrid import languages

    return "undetermined" if code == UNDETERMINED else languages.language_name(code)


def _result_row(rank: int, hit: Hit, corpus: Corpus) -> dict:
    lang = corpus.langs[hit.index]
    return {"rank": rank, "lang": lang, "language": language_name(lang), "score": round(hit.score, 4),
            "group": corpus.ids[hit.index], "passage": corpus.passages[hit.index]}


def language_counts(result: SearchResult) -> list[dict]:
    """Rows for the bias chart: hits per language in the top-k, tagged high/low resource."""
    from hf_hybrid.languages import resource_level

    counts = result.languages()
    return [{"language": f"{code} ({language_name(code)})", "hits": n,
             "resource": "unknown" if code == UNDETERMINED else resource_level(code)}
            for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
