"""What the demo serves and the limits that keep a public page safe, read from the environment (a Space's
variables) or the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hf_hybrid.backends import BACKEND_SPECS, parse_backend
from hf_hybrid.errors import UserError
from hf_hybrid.ranges import check_ranges

E5_BASE = "intfloat/multilingual-e5-small"


@dataclass
class DemoConfig:
    """What the demo serves and the limits that keep a public page safe."""

    models: list[str] = field(default_factory=list, metadata={
        "help": "the only models the page can use; first is primary", "kind": "model"})
    # a parallel-schema dataset path or Hub id; None: the bundled sample. load_corpus checks it (naming CORPUS)
    # before any model is loaded
    corpus: str | None = field(default=None, metadata={"help": "the corpus searched", "kind": "text"})
    max_models: int = field(default=3, metadata={
        "help": "each model holds its weights and a corpus embedding matrix in memory", "range": "[1, inf)"})
    max_query_chars: int = field(default=500, metadata={
        "help": "longer text is not a search query; it only costs encoder time", "range": "[1, inf)"})
    default_top_k: int = field(default=10, metadata={"help": "results shown first", "range": "[1, inf)"})
    max_top_k: int = field(default=50, metadata={"help": "most results a search returns", "range": "[1, inf)"})
    max_upload_bytes: int = field(default=256_000, metadata={"help": "largest corpus upload", "range": "[1, inf)"})
    max_upload_passages: int = field(default=500, metadata={
        "help": "an upload is embedded on the request path: bound its cost", "range": "[1, inf)"})
    max_passage_chars: int = field(default=2_000, metadata={"help": "longest uploaded passage", "range": "[1, inf)"})
    faiss_min_passages: int = field(default=20_000, metadata={
        "help": "below this a numpy matrix product is as fast and simpler", "range": "[1, inf)"})
    # from this corpus size on, search int8 codes in k-means cells (hf_hybrid.vector_index.QuantizedIndex):
    # 392 bytes a passage instead of 1,536 (benchmarks/RESULTS.md); below it exact search costs little memory
    quantized_min_passages: int = field(default=200_000, metadata={
        "help": "corpus size from which search is quantized", "range": "[1, inf)"})
    # read before embedding when present (a missing file means: embed the corpus), so any path will do
    embeddings_dir: str | None = field(default=None, metadata={
        "help": "shipped corpus embeddings (<fingerprint>/<prompt>.npz)", "kind": "text"})
    concurrency_limit: int = field(default=4, metadata={
        "help": "searches running at once; the rest wait in the queue", "range": "[1, inf)"})
    # torch threads once serving: one query is too small to split across cores, and concurrent requests
    # already keep them busy; on 2 busy cores 2 threads took 500 ms per query encode, 1 thread 14 ms
    serve_threads: int = field(default=1, metadata={"help": "torch threads once serving", "range": "[1, inf)"})
    max_queue: int = field(default=256, metadata={
        "help": "requests waiting beyond this are refused instead of piling up in memory", "range": "[1, inf)"})
    backend: str = field(default="torch", metadata={
        "help": "the files `hf-hybrid export` wrote (torch: none)", "choices": BACKEND_SPECS})
    host: str | None = field(default=None, metadata={
        "help": "None lets Gradio read GRADIO_SERVER_NAME (Spaces set 0.0.0.0)", "kind": "text"})
    port: int | None = field(default=None, metadata={"help": "TCP port (None: Gradio's choice)",
                                                     "range": "[1, 65535]"})


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


SETTINGS_PATHS = ("CORPUS", "DEMO_EMBEDDINGS")  # settings-file values that are paths relative to the file


def settings_from_file(path: str | Path) -> dict[str, str]:
    """The settings ``hf-hybrid push-space`` wrote (``space_settings.json``: ``MODEL_ID``, ``CORPUS``, …).

    Relative paths in it are relative to the file, so the Space finds its corpus and embeddings whatever its
    working directory.
    """
    import json

    path = Path(path)
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UserError("DEMO_SETTINGS", f"{str(path)!r} cannot be read as JSON ({type(err).__name__})",
                        "point DEMO_SETTINGS at the space_settings.json push-space wrote") from None
    if not isinstance(settings, dict) or not all(isinstance(v, str) for v in settings.values()):
        raise UserError("DEMO_SETTINGS", f"{str(path)!r} is not an object of strings", "write {\"MODEL_ID\": \"org/name\"}")
    for name in SETTINGS_PATHS:
        if name in settings and not Path(settings[name]).is_absolute() and (path.parent / settings[name]).exists():
            settings[name] = str(path.parent / settings[name])
    return settings


def config_from_env(env: Mapping[str, str] = os.environ) -> DemoConfig:
    """Read the Space's settings: ``MODELS`` (comma list) or ``MODEL_ID`` [+ ``BASE_MODEL_ID``], ``CORPUS``, ``PORT``,
    ``DEMO_EMBEDDINGS``; ``DEMO_SETTINGS`` names a JSON file of defaults for them (the environment wins)."""
    if env.get("DEMO_SETTINGS"):
        env = {**settings_from_file(env["DEMO_SETTINGS"]), **env}
    if env.get("MODELS"):
        models = [m.strip() for m in env["MODELS"].split(",") if m.strip()]
    elif env.get("MODEL_ID"):
        models = [env["MODEL_ID"]] + ([env["BASE_MODEL_ID"]] if env.get("BASE_MODEL_ID") else [])
    else:
        models = default_models(env)
    config = DemoConfig(models=models, corpus=env.get("CORPUS") or None, host=env.get("GRADIO_SERVER_NAME"),
                        backend=env.get("BACKEND") or "torch", embeddings_dir=env.get("DEMO_EMBEDDINGS") or None)
    config.port = _env_int(env, "PORT") or _env_int(env, "GRADIO_SERVER_PORT")
    for name, attr in [("DEMO_CONCURRENCY", "concurrency_limit"), ("DEMO_MAX_QUEUE", "max_queue"),
                       ("DEMO_TORCH_THREADS", "serve_threads"), ("DEMO_QUANTIZED_MIN", "quantized_min_passages")]:
        value = _env_int(env, name)
        if value is not None:
            setattr(config, attr, value)
    return check_demo_config(config)


def check_demo_config(config: DemoConfig) -> DemoConfig:
    """Refuse configurations that would break the page or exhaust memory, with the fix in the message (the values
    come typed: whole numbers from the environment and the flags)."""
    if not config.models:
        raise UserError("models", "none configured", "set MODEL_ID (or MODELS=a,b) or pass --model")
    if len(set(config.models)) != len(config.models):
        raise UserError("models", f"{config.models} lists a model twice", "list each model once")
    parse_backend(config.backend)
    if config.port is not None and not 1 <= config.port <= 65535:
        raise UserError("PORT", f"{config.port} is not a TCP port", "set PORT (or --port) to 1-65535, e.g. 7860")
    check_ranges(config)  # every other range, choice and kind declared above
    if len(config.models) > config.max_models:
        raise UserError("models", f"{len(config.models)} configured", f"configure at most {config.max_models}")
    return config


def check_address(host: str | None, port: int | None) -> None:
    """Fail with one line, before any model is loaded, when the page could not listen on ``host:port``.

    Gradio would find out only at ``launch`` and report it as an ``OSError`` after a uvicorn log line; a bind
    here (released at once) names the setting instead. Without a port Gradio picks a free one itself.
    """
    import errno
    import socket

    try:
        family, kind, _, _, address = socket.getaddrinfo(host or "127.0.0.1", port or 0, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise UserError("GRADIO_SERVER_NAME", f"{host!r} is not an address here ({err.strerror})",
                        "set GRADIO_SERVER_NAME (or --host) to 127.0.0.1, or 0.0.0.0 for every interface") from None
    with socket.socket(family, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a closing socket is no clash
        try:
            sock.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise UserError("PORT", f"{port} on {host or '127.0.0.1'} is in use",
                                "set PORT (or --port) to a free port, or stop what listens there") from None
            raise UserError("GRADIO_SERVER_NAME", f"cannot listen on {host!r} ({err.strerror})",
                            "set GRADIO_SERVER_NAME (or --host) to 127.0.0.1, or 0.0.0.0 for every interface") from None
