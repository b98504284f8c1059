"""``hf-hybrid push`` / ``python -m hf_hybrid.push``: publish a model folder or a dataset folder on the Hub
(:mod:`hf_hybrid.hub`: one commit, retried, verified).

Examples::

    hf-hybrid push runs/hybrid-xlmr --repo-id org/hybrid-xlmr --results runs/hybrid-xlmr/results.json
    hf-hybrid push data/hybrid --dataset --repo-id org/hybrid-xquad --private
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hf_hybrid.commands.arguments import ArgumentParser, flag
from hf_hybrid.errors import UserError, cli_entry
from hf_hybrid.hub import _is_dataset_folder, push_dataset, push_model, write_demo_embeddings
from hf_hybrid.hub_names import require_token


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="hf-hybrid push", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=flag(kind="folder"),
                        help="a model folder (hf-hybrid train) or a dataset folder (hf-hybrid build)")
    parser.add_argument("--repo-id", required=True, type=flag(kind="repo_id"),
                        help="namespace/name of the Hub repo (created if missing)")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--revision", type=flag(kind="text"), help="branch to push to (created from main if missing)")
    parser.add_argument("--dataset", action="store_true", help="push a dataset (detected from the folder if omitted)")
    parser.add_argument("--config-name", default="parallel", type=flag(kind="text"),
                        help="dataset config to push (default: parallel)")
    parser.add_argument("--results", type=flag(kind="file"), help="evaluation results JSON to publish with a model")
    parser.add_argument("--license", type=flag(kind="text"),
                        help="licence identifier for the model card, e.g. apache-2.0")
    parser.add_argument("--message", type=flag(kind="text"), help="commit message (default: says what was pushed)")
    parser.add_argument("--demo-embeddings", action="store_true",
                        help="embed the demo's bundled corpus with the model first and ship the vectors in "
                             "demo_embeddings/, so the Space answers without re-embedding at start")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path = Path(args.path)
    if not path.is_dir():
        raise UserError("path", f"{args.path!r} is not a folder", "pass a model or dataset folder")
    if args.dataset or _is_dataset_folder(path):
        url = push_dataset(path, args.repo_id, config_name=args.config_name, private=args.private,
                           revision=args.revision, commit_message=args.message)
        print(f"pushed dataset config {args.config_name!r} to {url}")
    else:
        if args.demo_embeddings:
            require_token(None)  # before minutes of embedding, not after
            write_demo_embeddings(path)
        url = push_model(path, args.repo_id, private=args.private, revision=args.revision,
                         results_path=args.results, commit_message=args.message, license=args.license)
        print(f"pushed model to {url}")
    return 0

