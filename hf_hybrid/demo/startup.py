"""Start-up: load the models and their corpus embeddings while the page is already up, saying how far it got.

The page listens within seconds; models load and the corpus embeddings are read from the cache
(:mod:`hf_hybrid.demo.cache`) or, when it is cold, embedded, in a background thread. Until every model is ready
a search answers with where the start-up stands, and the page and the console show the same line
("embedding 320/1500 passages with base intfloat/multilingual-e5-small"), so a cold start is never minutes of
silence.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from hf_hybrid.demo.config import DemoConfig
from hf_hybrid.demo.corpus import Corpus
from hf_hybrid.demo.index import PassageIndex
from hf_hybrid.demo.search import DemoSearch, load_encoder
from hf_hybrid.errors import UserError


class StartupFailed(Exception):
    """A start-up that failed in the model process (:mod:`hf_hybrid.demo.worker`), which already said why."""


def serve_with_threads(threads: int) -> None:
    """Set torch's intra-op threads for serving, once the corpus was read or embedded with all cores."""
    import torch

    torch.set_num_threads(threads)


def _training_record(name: str) -> dict | None:
    """The ``hf-hybrid train`` record of a local model folder, if it has a readable one."""
    from hf_hybrid.cards import load_training_record

    if not Path(name).expanduser().is_dir():
        return None
    try:
        return load_training_record(Path(name).expanduser())
    except UserError:
        return None


def _folder_name(path: Path) -> str:
    """A folder's own name; ``<run>/model`` (the quickstart's layout) is named by its run."""
    path = path.expanduser().resolve()
    return path.parent.name if path.name == "model" and path.parent.name else path.name


def model_labels(names: Sequence[str]) -> list[str]:
    """What each model is, for the page's column headings: its name and, for a trained one, how and from what.

    A Hub id is its own name. A folder written by ``hf-hybrid train`` is "trained" (its strategy and base, from
    its training record), and a configured model that is that base is labelled "base"; any other folder is named
    by its folder name, never by its path.
    """
    records = {name: _training_record(name) for name in names}
    bases = {record["base_model"] for record in records.values() if record and record.get("base_model")}
    labels = []
    for name in names:
        record = records[name]
        if record:
            strategy = record.get("strategy", {}).get("name", "")
            alpha = record.get("strategy", {}).get("alpha")
            how = f"{strategy} batches" + (f", α = {alpha}" if alpha is not None else "")
            labels.append(f"Trained: {_folder_name(Path(name))} ({how}, {record.get('steps')} steps, "
                          f"from {record.get('base_model')})")
        elif name in bases:
            labels.append(f"Base: {name}")
        else:
            labels.append(_folder_name(Path(name)) if Path(name).expanduser().exists() else name)
    return labels


class Startup:
    """Loads the configured models and their corpus embeddings, once, and says where it stands.

    ``search`` is None until every model is ready (then a :class:`DemoSearch`); ``status`` is the one line
    shown on the page and printed on the console; ``error`` is set when the start-up failed.
    """

    def __init__(self, config: DemoConfig, corpus: Corpus, search: DemoSearch | None = None):
        self.config, self.corpus, self.search = config, corpus, search
        self.labels = model_labels(config.models)
        self.status = "ready" if search else "starting"
        self.error: str | None = None

    @classmethod
    def ready(cls, search: DemoSearch) -> Startup:
        """A start-up that is already done, for a :class:`DemoSearch` built by hand (its encoders are the models)."""
        return cls(replace(search.config, models=search.model_names), search.corpus, search)

    def _say(self, line: str) -> None:
        self.status = line
        print(f"demo: {line}", flush=True)

    def run(self) -> DemoSearch:
        """Load every model, read or embed the corpus with each, build the indexes; raises :class:`UserError`."""
        from hf_hybrid.demo.cache import corpus_embeddings

        encoders, indexes, start = [], {}, time.perf_counter()
        count = len(self.config.models)
        for i, (name, label) in enumerate(zip(self.config.models, self.labels, strict=True), start=1):
            where = f"model {i}/{count}"
            self._say(f"loading {where}: {label}")
            encoder = load_encoder(name, self.config.backend)

            def progress(done: int, total: int, where: str = f"{where} ({label})") -> None:
                self.status = f"embedding {done}/{total} passages of {self.corpus.name} with {where}"

            embeddings = corpus_embeddings(encoder, self.corpus.passages, model_name=name, progress=progress,
                                           log=lambda line, where=where: self._say(f"{where}: {line}"),
                                           shipped_dir=self.config.embeddings_dir)
            encoders.append(encoder)
            indexes[name] = PassageIndex(embeddings, self.corpus.langs, self.config.faiss_min_passages,
                                         self.config.quantized_min_passages)
        self.search = DemoSearch(self.config, encoders, self.corpus, indexes=indexes)
        self._say(f"ready, models loaded in {time.perf_counter() - start:.1f} s: {len(self.corpus)} passages in "
                  f"{len(self.corpus.languages)} languages from {self.corpus.name}, {count} model(s)")
        return self.search

    def start(self, then=None) -> threading.Thread:
        """:meth:`run` in a daemon thread; ``then()`` after success. A failure becomes ``error`` and a stderr line."""

        def target() -> None:
            try:
                self.run()
            except Exception as err:  # shown on the page and the console instead of a dead thread
                self.error = str(err) if isinstance(err, UserError | StartupFailed) else f"{type(err).__name__}: {err}"
                self.status = f"start-up failed: {self.error}"
                if not isinstance(err, StartupFailed):  # the model process printed it
                    print(f"error: {self.error}", file=sys.stderr, flush=True)
                return
            if then is not None:
                then()

        thread = threading.Thread(target=target, name="demo-startup", daemon=True)
        thread.start()
        return thread
