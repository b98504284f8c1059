"""``hf-hybrid card``: render (or print) the model card of a trained model folder (:mod:`hf_hybrid.cards`)."""

from __future__ import annotations

import argparse

from hf_hybrid.cards import render_model_card, write_model_card
from hf_hybrid.commands.arguments import ArgumentParser, flag
from hf_hybrid.errors import cli_entry
from hf_hybrid.evaluation.results import RESULTS_FILE


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="hf-hybrid card", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=flag(kind="folder"), help="a model folder written by `hf-hybrid train`")
    parser.add_argument("--results", type=flag(kind="file"),
                        help=f"evaluation results JSON (default: <model_dir>/{RESULTS_FILE} if present)")
    parser.add_argument("--repo-id", type=flag(kind="repo_id"),
                        help="Hub repo id used in the usage snippet and model-index (org/name)")
    parser.add_argument("--license", type=flag(kind="text"),
                        help="licence identifier for the card metadata, e.g. apache-2.0")
    parser.add_argument("--print", action="store_true", help="print the card instead of writing README.md")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.print:
        print(render_model_card(args.model_dir, args.results, repo_id=args.repo_id, license=args.license))
    else:
        path = write_model_card(args.model_dir, args.results, repo_id=args.repo_id, license=args.license)
        print(f"wrote {path}")
    return 0

