"""``hf-hybrid push-space``: publish the Gradio demo as a Hub Space serving a pushed model (:mod:`hf_hybrid.push_space`)."""

from __future__ import annotations

import argparse

from hf_hybrid.commands.arguments import ArgumentParser, flag
from hf_hybrid.errors import cli_entry
from hf_hybrid.push_space import push_space


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="hf-hybrid push-space", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    hub_model = flag(kind="text")  # a Hub id, not a folder: check_models says why (naming MODEL, as the Space does)
    parser.add_argument("model", type=hub_model,
                        help="Hub id of the model to serve (push a trained folder first: hf-hybrid push)")
    parser.add_argument("--space-id", required=True, type=flag(kind="repo_id"),
                        help="namespace/name of the Space (created if missing)")
    parser.add_argument("--base", type=hub_model,
                        help="Hub id of a second model shown side by side, e.g. the base it was trained from")
    parser.add_argument("--corpus", type=flag(kind="source"),
                        help="parallel-schema corpus: a Hub dataset id, or a local file/folder uploaded with the "
                             "Space (default: the bundled sample)")
    parser.add_argument("--private", action="store_true", help="create the Space as private")
    parser.add_argument("--message", type=flag(kind="text"), help="commit message (default: says what was pushed)")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = push_space(args.model, args.space_id, base=args.base, corpus=args.corpus, private=args.private,
                     commit_message=args.message)
    print(f"pushed Space to {url}")
    return 0

