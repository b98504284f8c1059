"""``hf-hybrid demo`` / ``python -m hf_hybrid.demo`` / ``python space/app.py``: load, embed, serve (the demo itself
is :mod:`hf_hybrid.demo`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import fields, replace

from hf_hybrid.commands.arguments import ArgumentParser, flag
from hf_hybrid.demo.api import SEARCH_ROUTE, add_search_route
from hf_hybrid.demo.app import build_app
from hf_hybrid.demo.config import DemoConfig, check_address, check_demo_config, config_from_env
from hf_hybrid.demo.corpus import load_corpus
from hf_hybrid.demo.search import check_demo_model
from hf_hybrid.demo.startup import Startup
from hf_hybrid.demo.worker import ModelProcess, ModelProcessStartup
from hf_hybrid.errors import cli_entry

DESCRIPTION = "Cross-lingual search demo: ask in any language, see which passages and languages each model ranks first."


def build_parser() -> ArgumentParser:
    """The flags, each declared as the :class:`DemoConfig` field it sets (hf_hybrid.ranges)."""
    declared = {f.name: f.metadata for f in fields(DemoConfig)}

    def setting(name: str, kind: type = str):
        return flag(kind, **{k: v for k, v in declared[name].items() if k in ("range", "choices", "kind")})

    parser = ArgumentParser(prog="hf-hybrid demo", description=DESCRIPTION)
    parser.add_argument("--model", action="append", type=setting("models"),
                        help="model id or path, repeatable (default: $MODELS / $MODEL_ID, else the quickstart model "
                             "and the offline multilingual-e5-small base)")
    parser.add_argument("--corpus", type=setting("corpus"),
                        help="parallel-schema dataset path (default: $CORPUS, else the bundled sample)")
    parser.add_argument("--host", type=setting("host"),
                        help="address to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1)")
    parser.add_argument("--port", type=setting("port", int), help="port (default: $PORT / $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--concurrency", type=setting("concurrency_limit", int),
                        help="searches run at once (default 4)")
    parser.add_argument("--backend", type=setting("backend"),
                        help="torch | onnx | onnx-q8 | onnx-int8 | openvino…: run the files `hf-hybrid export` wrote "
                             "into each model (default: $BACKEND, else torch)")
    parser.add_argument("--check", action="store_true", help="load models and corpus, print a summary, do not serve")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def config_from_args(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> DemoConfig:
    config = config_from_env(env)
    overrides = {"models": args.model, "corpus": args.corpus, "host": args.host, "port": args.port,
                 "concurrency_limit": args.concurrency, "backend": args.backend}
    return check_demo_config(replace(config, **{k: v for k, v in overrides.items() if v is not None}))


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """``hf-hybrid demo`` / ``python space/app.py``: check the settings, put the page up, load in the background.

    Every setting a user can get wrong (models, corpus, host, port) is checked here, before the page starts, so it
    fails with one line and exit code 2; the slow part (loading weights, reading or embedding the corpus) then runs
    while the page already answers with its progress.
    """
    args = parse_args(argv)
    config = config_from_args(args)
    if not args.check:
        check_address(config.host, config.port)
    # --check loads in this process; a served page in a process of its own, started now (why: demo/worker.py)
    process = None if args.check else ModelProcess()
    corpus = load_corpus(config.corpus)  # a bad CORPUS is reported before any model is loaded
    for name in config.models:
        check_demo_model(name)
    startup = Startup(config, corpus) if args.check else ModelProcessStartup(config, corpus, process)
    print(f"demo: {len(corpus)} passages in {len(corpus.languages)} languages from {corpus.name}; "
          f"models: {'; '.join(startup.labels)}", flush=True)
    if args.check:
        search = startup.run()
        index = next(iter(search.indexes.values()))
        print(f"demo: {index.kind} search", flush=True)
        return 0
    startup.start()
    app = build_app(startup)
    app.launch(server_name=config.host, server_port=config.port, ssr_mode=False, max_file_size=config.max_upload_bytes,
               show_error=False, prevent_thread_lock=True)
    add_search_route(app.app, startup)
    print(f"demo: JSON search at {app.local_url.rstrip('/')}{SEARCH_ROUTE}?q=...", flush=True)
    app.block_thread()
    return 0
