"""Cross-lingual search demo: the logic behind ``space/app.py`` and ``hf-hybrid demo``.

A person types a query in any language and sees which passages, in which languages, a bi-encoder
ranks first. The chart of languages in the top-k makes *language bias* visible (a model that prefers
passages in the query's own language, or in English, shows one tall bar), and configuring a base and
a hybrid-trained model shows both rankings side by side for the same query.

The pieces, each usable without Gradio:

- :class:`DemoConfig` / :func:`config_from_env`: which models and corpus, and the safety caps;
- :class:`Corpus`: passages (one per group and language) from a parallel-schema dataset or an upload;
- :class:`PassageIndex`: exact top-k inner product over L2-normalised embeddings (FAISS when large);
- :class:`DemoSearch`: models + corpus embeddings computed once at start, and the search itself;
- :func:`build_app`: the Gradio page; :func:`main`: the CLI that launches it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hf_hybrid.errors import UserError, cli_entry

E5_BASE = "intfloat/multilingual-e5-small"
UNDETERMINED = "und"  # ISO 639-2 code for "language not given" (plain-text uploads)
RESULT_COLUMNS = ["rank", "lang", "language", "score", "group", "passage"]
CHART_COLUMNS = ["language", "hits", "resource"]


@dataclass
class DemoConfig:
    """What the demo serves and the limits that keep a public page safe."""

    models: list[str] = field(default_factory=list)  # the only models the page can use; first is primary
    corpus: str | None = None  # parallel-schema dataset path; None = the bundled sample
    max_models: int = 3  # each model holds its weights and a corpus embedding matrix in memory
    max_query_chars: int = 500  # longer text is not a search query; it only costs encoder time
    default_top_k: int = 10
    max_top_k: int = 50
    max_upload_bytes: int = 256_000
    max_upload_passages: int = 500  # an upload is embedded on the request path: bound its cost
    max_passage_chars: int = 2_000
    faiss_min_passages: int = 20_000  # below this a numpy matrix product is as fast and simpler
    concurrency_limit: int = 4  # searches running at once; the rest wait in the queue
    # torch threads once serving: one query is too small to split across cores, and concurrent requests
    # already keep them busy; on 2 busy cores 2 threads took 500 ms per query encode, 1 thread 14 ms
    serve_threads: int = 1
    max_queue: int = 256  # requests waiting beyond this are refused instead of piling up in memory
    host: str | None = None  # None lets Gradio read GRADIO_SERVER_NAME (Spaces set 0.0.0.0)
    port: int | None = None


def quickstart_model_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where ``hf-hybrid quickstart`` saves its trained model: ``$HF_HYBRID_HOME/quickstart/model``."""
    return Path(env.get("HF_HYBRID_HOME", "hf_hybrid_out")) / "quickstart" / "model"


def default_models(env: Mapping[str, str] = os.environ) -> list[str]:
    """The quickstart's trained model beside its base when it exists, else the offline E5 base alone."""
    trained = quickstart_model_dir(env)
    return [str(trained), E5_BASE] if trained.is_dir() else [E5_BASE]


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise UserError(name, f"{raw!r} is not an integer", f"set {name} to a whole number") from None


def config_from_env(env: Mapping[str, str] = os.environ) -> DemoConfig:
    """Read the Space's settings: ``MODELS`` (comma list) or ``MODEL_ID`` [+ ``BASE_MODEL_ID``], ``CORPUS``, ``PORT``."""
    if env.get("MODELS"):
        models = [m.strip() for m in env["MODELS"].split(",") if m.strip()]
    elif env.get("MODEL_ID"):
        models = [env["MODEL_ID"]] + ([env["BASE_MODEL_ID"]] if env.get("BASE_MODEL_ID") else [])
    else:
        models = default_models(env)
    config = DemoConfig(models=models, corpus=env.get("CORPUS") or None, host=env.get("GRADIO_SERVER_NAME"))
    config.port = _env_int(env, "PORT") or _env_int(env, "GRADIO_SERVER_PORT")
    for name, attr in [("DEMO_CONCURRENCY", "concurrency_limit"), ("DEMO_MAX_QUEUE", "max_queue"),
                       ("DEMO_TORCH_THREADS", "serve_threads")]:
        value = _env_int(env, name)
        if value is not None:
            setattr(config, attr, value)
    return check_config(config)


def check_config(config: DemoConfig) -> DemoConfig:
    """Refuse configurations that would break the page or exhaust memory, with the fix in the message."""
    if not config.models:
        raise UserError("models", "none configured", "set MODEL_ID (or MODELS=a,b) or pass --model")
    if len(set(config.models)) != len(config.models):
        raise UserError("models", f"{config.models} lists a model twice", "list each model once")
    if len(config.models) > config.max_models:
        raise UserError("models", f"{len(config.models)} configured", f"configure at most {config.max_models}")
    for name in ("concurrency_limit", "max_queue", "default_top_k", "max_top_k", "serve_threads"):
        if getattr(config, name) < 1:
            raise UserError(name, f"{getattr(config, name)} is below 1", f"set {name} to 1 or more")
    return config


# --------------------------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Corpus:
    """The passages searched: one per (group, language), with example queries for the page."""

    name: str
    ids: list[str]
    langs: list[str]
    passages: list[str]
    examples: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.langs))


def _pick_examples(rows: Sequence[Mapping[str, str]], per_language: int = 1, limit: int = 8) -> list[str]:
    """Queries in several languages, low-resource ones first, each from a different group.

    Different groups keep the examples from being one question asked eight times; low-resource languages
    first because they are where a model's language bias shows most.
    """
    from hf_hybrid.data.languages import resource_level

    by_lang: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        if row.get("query"):
            by_lang.setdefault(row["lang"], []).append(row)
    order = sorted(by_lang, key=lambda code: (resource_level(code) != "low", code))
    examples, used_ids = [], set()
    for code in order:
        fresh = [r for r in by_lang[code] if r["id"] not in used_ids][:per_language]
        for row in fresh:
            examples.append(row["query"])
            used_ids.add(row["id"])
    return examples[:limit]


def corpus_from_rows(rows: Sequence[Mapping[str, str]], name: str) -> Corpus:
    """Keep one passage per (group, language): the parallel schema repeats a passage for each of its queries."""
    seen: set[tuple[str, str]] = set()
    ids, langs, passages = [], [], []
    for row in rows:
        key = (row["id"], row["lang"])
        if key not in seen:
            seen.add(key)
            ids.append(row["id"])
            langs.append(row["lang"])
            passages.append(row["passage"])
    return Corpus(name=name, ids=ids, langs=langs, passages=passages, examples=_pick_examples(rows))


def load_corpus(source: str | None) -> Corpus:
    """The configured corpus (a parallel-schema dataset path or Hub id), or the bundled sample."""
    import datasets

    from hf_hybrid.data import load_parallel, load_sample

    if source is None:
        splits = load_sample()
        ds = datasets.concatenate_datasets([splits[name] for name in sorted(splits)])
        name = "bundled sample"
    else:
        ds = load_parallel(source)
        if isinstance(ds, datasets.DatasetDict):
            ds = datasets.concatenate_datasets([ds[name] for name in sorted(ds)])
        name = str(source)
    rows = ds.select_columns(["id", "lang", "query", "passage"]).to_list()
    if not rows:
        raise UserError("CORPUS", f"{source!r} has no rows", "point CORPUS at a non-empty parallel-schema dataset")
    return corpus_from_rows(rows, name)


# ------------------------------------------------------------------------------------------- uploads

UPLOAD_KEYS = {"id", "lang", "query", "passage", "negatives"}


def _decode_upload(data: bytes, config: DemoConfig) -> list[str]:
    if len(data) > config.max_upload_bytes:
        raise UserError("upload", f"over {config.max_upload_bytes} bytes", f"upload at most {config.max_upload_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserError("upload", f"not UTF-8 (byte {err.start})", "save the file as UTF-8") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise UserError("upload", "the file is empty", "upload one passage per line, or JSONL rows")
    if len(lines) > config.max_upload_passages:
        raise UserError("upload", f"{len(lines)} passages", f"upload at most {config.max_upload_passages}")
    return lines


def _jsonl_row(n: int, line: str) -> dict[str, str]:
    """One strictly checked row: an object with string ``lang`` and ``passage`` and only schema keys."""
    from hf_hybrid.data.languages import is_known

    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise UserError(f"upload line {n}", f"invalid JSON ({err.msg})", "write one JSON object per line") from None
    if not isinstance(row, dict):
        raise UserError(f"upload line {n}", f"a {type(row).__name__}, not an object", 'write {"lang": ..., "passage": ...}')
    unknown = sorted(set(row) - UPLOAD_KEYS)
    if unknown:
        raise UserError(f"upload line {n}", f"unknown keys {unknown}", f"use only {sorted(UPLOAD_KEYS)}")
    for key in ("lang", "passage"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise UserError(f"upload line {n}", f"{key!r} is missing or not a non-empty string", f'add "{key}": "..."')
    if not is_known(row["lang"]):
        raise UserError(f"upload line {n}", f"lang {row['lang']!r} is not a known code", "use an ISO 639 code such as sw, en, yo")
    if not isinstance(row.get("id", ""), str):
        raise UserError(f"upload line {n}", "'id' is not a string", 'write "id" as a string')
    return {"id": row.get("id") or f"line-{n}", "lang": row["lang"], "passage": row["passage"].strip()}


def read_capped(path: str | Path, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of a file: enough to tell it is too large without reading it all."""
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1)


def parse_upload(data: bytes, filename: str, config: DemoConfig) -> Corpus:
    """A small user corpus: ``.jsonl`` (parallel-schema rows) or ``.txt`` (one passage per line, language unknown).

    Parsed by hand rather than with ``datasets.load_dataset("json")`` so that the size and row caps apply
    before anything is materialised, and every rejection names the line and the fix.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in (".jsonl", ".txt"):
        raise UserError("upload", f"{Path(filename).name!r} has type {suffix or 'none'}", "upload a .jsonl or .txt file")
    lines = _decode_upload(data, config)
    if suffix == ".jsonl":
        rows = [_jsonl_row(n, line) for n, line in lines]
    else:
        rows = [{"id": f"line-{n}", "lang": UNDETERMINED, "passage": line} for n, line in lines]
    for row, (n, _) in zip(rows, lines, strict=True):
        if len(row["passage"]) > config.max_passage_chars:
            raise UserError(f"upload line {n}", f"passage of {len(row['passage'])} characters", f"keep passages under {config.max_passage_chars}")
    return corpus_from_rows(rows, f"upload: {Path(filename).name}")


# --------------------------------------------------------------------------------------------- index


@dataclass(frozen=True)
class Hit:
    index: int
    score: float


class PassageIndex:
    """Exact top-k by inner product over L2-normalised embeddings, i.e. cosine similarity.

    Small corpora use one numpy matrix-vector product (exact, no extra dependency); from
    ``faiss_min_passages`` on, FAISS ``IndexFlatIP`` does the same exact search with SIMD and threads.
    A language filter restricts the candidates before ranking, so top-k is the top-k *within* the chosen
    languages, not a post-filtered global top-k that could come back short.
    """

    def __init__(self, embeddings: np.ndarray, langs: Sequence[str], faiss_min_passages: int = 20_000):
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self.langs = np.asarray(langs)
        self._by_lang = {code: np.flatnonzero(self.langs == code) for code in set(langs)}
        self._faiss = None
        if len(self.embeddings) >= faiss_min_passages:
            import faiss

            self._faiss = faiss.IndexFlatIP(self.embeddings.shape[1])
            self._faiss.add(self.embeddings)

    @property
    def uses_faiss(self) -> bool:
        return self._faiss is not None

    def _candidates(self, languages: Sequence[str] | None) -> np.ndarray | None:
        if not languages:
            return None
        return np.sort(np.concatenate([self._by_lang.get(code, np.empty(0, dtype=np.int64)) for code in languages]))

    def search(self, query: np.ndarray, k: int, languages: Sequence[str] | None = None) -> list[Hit]:
        """The ``k`` best passages for one normalised query vector, best first."""
        candidates = self._candidates(languages)
        if candidates is not None and len(candidates) == 0:
            return []
        if self._faiss is not None:
            return self._search_faiss(query, k, candidates)
        pool = self.embeddings if candidates is None else self.embeddings[candidates]
        scores = pool @ query.astype(np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        ids = top if candidates is None else candidates[top]
        return [Hit(int(i), float(scores[j])) for i, j in zip(ids, top, strict=True)]

    def _search_faiss(self, query: np.ndarray, k: int, candidates: np.ndarray | None) -> list[Hit]:
        import faiss

        params = None if candidates is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(candidates.astype(np.int64)))
        scores, ids = self._faiss.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        return [Hit(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


# -------------------------------------------------------------------------------------------- search


def _prompt_name(model, *names: str) -> str | None:
    """The first of ``names`` that the model defines as a non-empty prompt (E5: "query: " / "passage: ")."""
    prompts = getattr(model, "prompts", None) or {}
    return next((name for name in names if prompts.get(name)), None)


class Encoder:
    """A configured model with its query/passage prompts and a lock around ``encode``.

    The lock is there because a fast tokenizer shared by threads can fail with "Already borrowed" when
    two requests encode at once; one query encodes in milliseconds, so serialising costs little.
    """

    def __init__(self, name: str, model):
        self.name, self.model = name, model
        self.query_prompt = _prompt_name(model, "query")
        self.passage_prompt = _prompt_name(model, "passage", "document")
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, query: bool, batch_size: int = 32) -> np.ndarray:
        prompt = self.query_prompt if query else self.passage_prompt
        with self._lock:
            out = self.model.encode(list(texts), prompt_name=prompt, batch_size=batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)


@dataclass
class SearchResult:
    model: str
    rows: list[dict]

    def languages(self) -> Counter:
        return Counter(row["lang"] for row in self.rows)


class DemoSearch:
    """Models and corpus loaded once; corpus embeddings computed at start and kept for every request."""

    def __init__(self, config: DemoConfig, encoders: Sequence[Encoder], corpus: Corpus):
        self.config, self.encoders, self.corpus = config, list(encoders), corpus
        self.indexes = self.index_corpus(corpus)

    @classmethod
    def from_config(cls, config: DemoConfig) -> DemoSearch:
        """Load the configured models (and nothing else) and the corpus, and embed the corpus."""
        from hf_hybrid.models import load_model

        check_config(config)
        encoders = [Encoder(name, load_model(name)) for name in config.models]
        return cls(config, encoders, load_corpus(config.corpus))

    @property
    def model_names(self) -> list[str]:
        return [enc.name for enc in self.encoders]

    def index_corpus(self, corpus: Corpus) -> dict[str, PassageIndex]:
        """One index per model, the corpus encoded with each model's passage prompt."""
        return {
            enc.name: PassageIndex(enc.encode(corpus.passages, query=False), corpus.langs, self.config.faiss_min_passages)
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
    from hf_hybrid.data import languages

    return "undetermined" if code == UNDETERMINED else languages.language_name(code)


def _result_row(rank: int, hit: Hit, corpus: Corpus) -> dict:
    lang = corpus.langs[hit.index]
    return {"rank": rank, "lang": lang, "language": language_name(lang), "score": round(hit.score, 4),
            "group": corpus.ids[hit.index], "passage": corpus.passages[hit.index]}


def language_counts(result: SearchResult) -> list[dict]:
    """Rows for the bias chart: hits per language in the top-k, tagged high/low resource."""
    from hf_hybrid.data.languages import resource_level

    counts = result.languages()
    return [{"language": f"{code} ({language_name(code)})", "hits": n,
             "resource": "unknown" if code == UNDETERMINED else resource_level(code)}
            for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


# ---------------------------------------------------------------------------------------------- page


def _language_choices(corpus: Corpus) -> list[tuple[str, str]]:
    return [(f"{code} — {language_name(code)}", code) for code in corpus.languages]


def build_app(search: DemoSearch):
    """The Gradio page: query, language filter, top-k, one results column and bias chart per model.

    Bad input comes back as a line in the status box (never a traceback); the queue bounds how many
    searches run at once and how many may wait, so a burst cannot exhaust memory.
    """
    import gradio as gr
    import pandas as pd

    config = search.config
    empty_results = pd.DataFrame(columns=RESULT_COLUMNS)
    empty_chart = pd.DataFrame({"language": [], "hits": [], "resource": []})

    def outputs_for(results: Sequence[SearchResult] | None) -> list:
        by_model = {r.model: r for r in results or []}
        out = []
        for name in search.model_names:
            result = by_model.get(name)
            out.append(pd.DataFrame(result.rows, columns=RESULT_COLUMNS) if result else empty_results)
            out.append(pd.DataFrame(language_counts(result), columns=CHART_COLUMNS) if result else empty_chart)
        return out

    def run_search(query, languages, top_k, uploaded):
        corpus, indexes = uploaded if uploaded else (None, None)
        try:
            results = search.search(query, top_k, languages, corpus, indexes)
        except UserError as err:
            return [f"⚠️ {err}", *outputs_for(None)]
        used = corpus or search.corpus
        return [f"Top {len(results[0].rows)} of {len(used)} passages in {used.name}.", *outputs_for(results)]

    def run_upload(path):
        if not path:
            return None, "Searching the configured corpus.", gr.CheckboxGroup(choices=_language_choices(search.corpus), value=[])
        try:
            corpus = parse_upload(read_capped(path, config.max_upload_bytes), Path(path).name, config)
        except UserError as err:
            return None, f"⚠️ {err}", gr.CheckboxGroup()
        status = f"Searching your upload: {len(corpus)} passages in {', '.join(corpus.languages)}."
        return (corpus, search.index_corpus(corpus)), status, gr.CheckboxGroup(choices=_language_choices(corpus), value=[])

    with gr.Blocks(title="hf-hybrid cross-lingual search") as app:
        gr.Markdown(
            "# Cross-lingual search\n"
            "Ask in any language; passages in every language compete. The chart counts the languages in the "
            "top-k: a model free of language bias ranks the right passage first whatever its language."
        )
        uploaded = gr.State(None)
        with gr.Row():
            query = gr.Textbox(label="Query (any language)", max_length=config.max_query_chars, scale=4,
                               elem_id="query", placeholder="Soko liko wapi?")
            top_k = gr.Slider(1, config.max_top_k, value=config.default_top_k, step=1, label="Top-k", elem_id="top-k")
        languages = gr.CheckboxGroup(_language_choices(search.corpus), value=[], label="Target languages (none = all)",
                                     elem_id="languages")
        button = gr.Button("Search", variant="primary", elem_id="search")
        status = gr.Markdown(elem_id="status")
        outputs = []
        with gr.Row():
            for i, name in enumerate(search.model_names):
                with gr.Column():
                    gr.Markdown(f"### {name}")
                    outputs.append(gr.Dataframe(headers=RESULT_COLUMNS, label="Results", wrap=True, elem_id=f"results-{i}"))
                    outputs.append(gr.BarPlot(x="language", y="hits", color="resource", sort="-y", label="Languages in the top-k",
                                              elem_id=f"chart-{i}"))
        if search.corpus.examples:
            gr.Examples([[q] for q in search.corpus.examples], inputs=[query], label="Examples")
        with gr.Accordion("Search your own passages", open=False):
            gr.Markdown(f".jsonl rows `{{\"lang\": \"sw\", \"passage\": \"...\"}}` or .txt, one passage per line; "
                        f"at most {config.max_upload_passages} passages and {config.max_upload_bytes // 1000} kB.")
            upload = gr.File(label="Corpus file", file_types=[".jsonl", ".txt"], type="filepath", elem_id="upload")
        upload.change(run_upload, [upload], [uploaded, status, languages], api_name="upload",
                      concurrency_limit=1, concurrency_id="upload")
        inputs, search_outputs = [query, languages, top_k, uploaded], [status, *outputs]
        button.click(run_search, inputs, search_outputs, api_name="search",
                     concurrency_limit=config.concurrency_limit, concurrency_id="search")
        query.submit(run_search, inputs, search_outputs, api_visibility="private",
                     concurrency_limit=config.concurrency_limit, concurrency_id="search")
    return app.queue(max_size=config.max_queue, default_concurrency_limit=config.concurrency_limit)


# ----------------------------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hf-hybrid demo", description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="model id or path, repeatable (default: $MODELS / $MODEL_ID, "
                        "else the quickstart model and the offline multilingual-e5-small base)")
    parser.add_argument("--corpus", help="parallel-schema dataset path (default: $CORPUS, else the bundled sample)")
    parser.add_argument("--host", help="address to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: $PORT / $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--concurrency", type=int, help="searches run at once (default 4)")
    parser.add_argument("--check", action="store_true", help="load models and corpus, print a summary, do not serve")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> DemoConfig:
    config = config_from_env(env)
    overrides = {"models": args.model, "corpus": args.corpus, "host": args.host, "port": args.port,
                 "concurrency_limit": args.concurrency}
    return check_config(replace(config, **{k: v for k, v in overrides.items() if v is not None}))


def serve_with_threads(threads: int) -> None:
    """Set torch's intra-op threads for serving, after the corpus was embedded with all cores."""
    import torch

    torch.set_num_threads(threads)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """``hf-hybrid demo`` / ``python space/app.py``: embed the corpus once, then serve the page."""
    args = parse_args(argv)
    config = config_from_args(args)
    search = DemoSearch.from_config(config)
    index = next(iter(search.indexes.values()))
    print(f"demo: {len(search.corpus)} passages in {len(search.corpus.languages)} languages from "
          f"{search.corpus.name}; models {search.model_names}; {'faiss' if index.uses_faiss else 'exact numpy'} search",
          flush=True)
    if args.check:
        return 0
    serve_with_threads(config.serve_threads)
    build_app(search).launch(server_name=config.host, server_port=config.port, ssr_mode=False,
                             max_file_size=config.max_upload_bytes, show_error=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
