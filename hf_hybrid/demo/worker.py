"""The models in a second process, so that the page and the models start on two cores at once.

Why: most of a demo's start is imports. The page needs gradio (about 2 CPU s here), the models need torch,
transformers and sentence-transformers (about 4.6 CPU s), then their weights (0.7 s each for e5-small). CPython's GIL runs module code
one thread at a time, so in one process these ran one after another whatever the threads: on 2 cores the
second core idled while a person waited for the first answer (issue 20: within 10 s of the start). With two
processes the quickstart's two models answer 7.8 s after the start instead of 11.3 s
(``benchmarks/bench_demo.py --startup --warm-only``, ``benchmarks/RESULTS.md``).

:class:`ModelProcessStartup` is a :class:`~hf_hybrid.demo.startup.Startup` whose work happens in a process of
its own (a fresh interpreter: nothing of the page's threads or sockets is inherited). That
process runs the ordinary in-process :class:`Startup`, so loading, caching and progress are one code path;
the page's process never imports torch, and searches through a :mod:`multiprocessing.managers` proxy
(:class:`RemoteSearch`). The manager serves every calling thread on its own connection and thread, so the
queue's concurrent searches stay concurrent. The model process ends with the page's, even on a kill: it
exits when its stdin, a pipe the page's process holds, closes.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from multiprocessing.managers import BaseManager

from hf_hybrid.demo.config import DemoConfig
from hf_hybrid.demo.corpus import Corpus
from hf_hybrid.demo.search import SearchResult
from hf_hybrid.demo.startup import Startup, StartupFailed, serve_with_threads
from hf_hybrid.errors import UserError

# Uploads indexed in the model process, newest last; a page session refers to its upload by token. The upload
# size is capped (DemoConfig.max_upload_passages), so this bounds the memory uploads can hold.
MAX_UPLOADS = 64
STATE_POLL_S = 0.05  # how often the page's process asks how far the start-up got: one small message each
ENTRY = "from hf_hybrid.demo.worker import main; main()"  # not -m: hf_hybrid.demo imports this module first


class ModelHost:
    """Lives in the model process: the in-process start-up, its search once ready, and the indexed uploads."""

    def __init__(self, config: DemoConfig, corpus: Corpus):
        self.startup = Startup(config, corpus)
        self.uploads: OrderedDict[str, tuple] = OrderedDict()
        self._uploads_lock = threading.Lock()
        self.startup.start(then=lambda: serve_with_threads(config.serve_threads))

    def state(self) -> tuple[str, str | None, bool]:
        """(status line, error or None, ready)."""
        return self.startup.status, self.startup.error, self.startup.search is not None

    def search(self, query: str | None, top_k: float | None, languages: Sequence[str] | None,
               upload: str | None) -> list[SearchResult]:
        corpus, indexes = self._upload(upload) if upload else (None, None)
        return self.startup.search.search(query, top_k, languages, corpus, indexes)

    def index_upload(self, corpus: Corpus) -> str:
        """Embed an uploaded corpus with every model; the token a later :meth:`search` names it by."""
        indexes, token = self.startup.search.index_corpus(corpus), uuid.uuid4().hex
        with self._uploads_lock:
            self.uploads[token] = (corpus, indexes)
            while len(self.uploads) > MAX_UPLOADS:
                self.uploads.popitem(last=False)
        return token

    def _upload(self, token: str) -> tuple:
        with self._uploads_lock:
            if token not in self.uploads:
                raise UserError("upload", f"no longer held (the newest {MAX_UPLOADS} uploads are kept)",
                                "upload the file again")
            self.uploads.move_to_end(token)
            return self.uploads[token]


class RemoteSearch:
    """What the page uses of :class:`~hf_hybrid.demo.search.DemoSearch`, answered by the model process.

    An upload's "indexes" are a token: the embeddings stay in the model process instead of travelling with
    every search.
    """

    def __init__(self, host, config: DemoConfig, corpus: Corpus):
        self.host, self.config, self.corpus = host, config, corpus

    def search(self, query, top_k=None, languages=None, corpus: Corpus | None = None,
               indexes: str | None = None) -> list[SearchResult]:
        return self.host.search(query, top_k, list(languages or []), indexes if corpus is not None else None)

    def index_corpus(self, corpus: Corpus) -> str:
        return self.host.index_upload(corpus)


class _ModelManager(BaseManager):
    pass


_ModelManager.register("ModelHost", ModelHost)


def _exit_with_parent(pipe, folder: str | None) -> None:
    """Exit the model process once ``pipe`` (its stdin, held by the page's process) is closed: the page's process
    ended, even if it was killed. The socket's folder goes too, so a killed page leaves nothing in the temp dir."""
    pipe.read()
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(0)


def serve(address: str, authkey: bytes, pipe) -> None:
    """The model process: import sentence-transformers at once (while the page's process still reads the corpus),
    exit with the page's process, and serve :class:`ModelHost` at ``address``."""
    folder = None if sys.platform == "win32" else os.path.dirname(address)
    threading.Thread(target=_exit_with_parent, args=(pipe, folder), name="exit-with-parent", daemon=True).start()
    threading.Thread(target=importlib.import_module, args=("sentence_transformers",), name="early-import",
                     daemon=True).start()
    _ModelManager(address=address, authkey=authkey).get_server().serve_forever()


class ModelProcess:
    """The model process and the manager connected to it.

    Started as ``python -c`` :data:`ENTRY`, not with :mod:`multiprocessing`'s ``spawn``: spawn re-runs the
    parent's main script in the child, so a user's own ``app.py`` without an ``if __name__ == "__main__"`` guard
    would fail. The address and a random key go through the child's stdin (never argv or the environment);
    that pipe's end is also how the child learns that the page's process is gone. Start it before reading the
    corpus: its imports then overlap that.
    """

    def __init__(self, timeout_s: float = 120.0):
        self.authkey = os.urandom(32)
        self.folder = tempfile.mkdtemp(prefix="hf-hybrid-demo-")
        # a socket in a folder only this user can enter (mkdtemp: 0700); Windows has named pipes instead
        self.address = (rf"\\.\pipe\hf-hybrid-demo-{uuid.uuid4().hex}" if sys.platform == "win32"
                        else os.path.join(self.folder, "models.sock"))
        self.proc = subprocess.Popen([sys.executable, "-c", ENTRY], stdin=subprocess.PIPE)
        self.proc.stdin.write(json.dumps({"address": self.address, "authkey": self.authkey.hex()}).encode() + b"\n")
        self.proc.stdin.flush()
        self.timeout_s, self.manager = timeout_s, None
        self._stop_at_exit = weakref.finalize(self, ModelProcess._stop, self.proc, self.folder)

    def close(self) -> None:
        """End the model process now (otherwise when this object is collected, or at exit)."""
        self._stop_at_exit()

    def connect(self) -> _ModelManager:
        """The manager, connected once the model process listens; raises :class:`StartupFailed` if it died."""
        deadline = time.monotonic() + self.timeout_s
        while self.manager is None:
            if self.proc.poll() is not None:
                raise StartupFailed(f"the model process exited with code {self.proc.returncode} (its error is above)")
            try:
                manager = _ModelManager(address=self.address, authkey=self.authkey)
                manager.connect()
                self.manager = manager
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise StartupFailed(f"the model process did not listen within {self.timeout_s:.0f} s") from None
                time.sleep(STATE_POLL_S)
        return self.manager

    @staticmethod
    def _stop(proc: subprocess.Popen, folder: str) -> None:
        proc.stdin.close()  # the child exits when its stdin closes
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


class ModelProcessStartup(Startup):
    """A :class:`Startup` whose models load and search in a process of their own (see the module's docstring)."""

    def __init__(self, config: DemoConfig, corpus: Corpus, process: ModelProcess | None = None):
        super().__init__(config, corpus)
        self.process = process  # held: the model process ends when this object is collected or at exit

    def run(self) -> RemoteSearch:
        self.process = self.process or ModelProcess()
        host = self.process.connect().ModelHost(self.config, self.corpus)
        while True:
            self.status, error, ready = host.state()
            if error:
                raise StartupFailed(error)
            if ready:
                self.search = RemoteSearch(host, self.config, self.corpus)
                return self.search
            time.sleep(STATE_POLL_S)


def main() -> None:
    """The model process's entry point (:data:`ENTRY`): started by :class:`ModelProcess`, which writes its settings to stdin."""
    settings = json.loads(sys.stdin.buffer.readline())
    serve(settings["address"], bytes.fromhex(settings["authkey"]), sys.stdin.buffer)
