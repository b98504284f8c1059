"""Cross-lingual search demo: the logic behind ``space/app.py`` and ``hf-hybrid demo``.

A person types a query in any language and sees which passages, in which languages, a bi-encoder
ranks first. The chart of languages in the top-k makes *language bias* visible (a model that prefers
passages in the query's own language, or in English, shows one tall bar), and configuring a base and
a hybrid-trained model shows both rankings side by side for the same query.

The pieces, one module each, each usable without Gradio:

- :mod:`.config`: :class:`DemoConfig` / :func:`config_from_env`: which models and corpus, and the safety caps;
- :mod:`.corpus`: :class:`Corpus`: passages (one per group and language) from a parallel-schema dataset or an upload;
- :mod:`.index`: :class:`PassageIndex`: exact top-k inner product over L2-normalised embeddings (FAISS when large);
- :mod:`.search`: :class:`Encoder`, :class:`DemoSearch`: the models with their corpus indexes, and the search itself;
- :mod:`.cache`: corpus embeddings on disk (:func:`write_corpus_embeddings` ships them with a model);
- :mod:`.startup`: :class:`Startup`: models and embeddings loaded in the background, with progress;
- :mod:`.worker`: :class:`ModelProcessStartup`: the same, in a process of its own, so page and models start on two cores;
- :mod:`.api`: :func:`add_search_route`: ``GET /api/search``, JSON rankings beside the page in one request;
- :mod:`.app`: :func:`build_app`, the Gradio page; the command that launches it is :mod:`hf_hybrid.commands.demo`.
"""

from hf_hybrid.demo.api import SEARCH_ROUTE, SearchRoute, add_search_route
from hf_hybrid.demo.app import CHART_COLUMNS, RESULT_COLUMNS, build_app
from hf_hybrid.demo.cache import CACHE_FOLDER, corpus_embeddings, local_cache_root, write_corpus_embeddings
from hf_hybrid.demo.config import (
    E5_BASE,
    DemoConfig,
    check_address,
    check_demo_config,
    config_from_env,
    default_models,
    quickstart_model_dir,
)
from hf_hybrid.demo.corpus import (
    UNDETERMINED,
    Corpus,
    corpus_from_rows,
    load_corpus,
    parse_upload,
    read_capped,
)
from hf_hybrid.demo.index import Hit, PassageIndex
from hf_hybrid.demo.search import (
    DemoSearch,
    Encoder,
    SearchResult,
    check_demo_model,
    language_counts,
    language_name,
    load_encoder,
)
from hf_hybrid.demo.startup import Startup, model_labels, serve_with_threads
from hf_hybrid.demo.worker import ModelProcessStartup, RemoteSearch

__all__ = [
    "CACHE_FOLDER", "CHART_COLUMNS", "E5_BASE", "ModelProcessStartup", "RemoteSearch", "SEARCH_ROUTE", "SearchRoute", "add_search_route", "Startup", "check_demo_model", "corpus_embeddings", "local_cache_root",
    "model_labels", "write_corpus_embeddings", "RESULT_COLUMNS", "UNDETERMINED", "Corpus", "DemoConfig", "DemoSearch", "Encoder",
    "Hit", "PassageIndex", "SearchResult", "build_app", "check_address", "check_demo_config", "config_from_env",
    "corpus_from_rows", "default_models", "language_counts", "language_name", "load_corpus", "load_encoder",
    "parse_upload", "quickstart_model_dir", "read_capped", "serve_with_threads",
]
