"""``hf-hybrid mine`` / ``python -m hf_hybrid.mine``: a parallel dataset → the same with mined hard negatives
(:mod:`hf_hybrid.mining`).

Saves like ``hf-hybrid build`` (:func:`hf_hybrid.dataset_folder.save_dataset_folder`: a ``parallel`` save_to_disk
folder, ``summary.json`` and a dataset card whose "Hard negatives" section gives the model, the settings and the
counts), all or nothing, so a failed run leaves nothing behind.
"""

from __future__ import annotations

from hf_hybrid.atomic import check_new_folder
from hf_hybrid.commands.arguments import parse
from hf_hybrid.errors import cli_entry
from hf_hybrid.mining.config import MineConfig
from hf_hybrid.mining.mine import mine_dataset


def print_summary(summary: dict) -> None:
    mining = summary["mining"]
    mode = "generic (group-blind, one pool)" if mining["settings"]["generic"] else "per language, group excluded"
    print(f"mined {summary['source']} with {mining['model']} ({mode})")
    for split, c in mining["splits"].items():
        per = c["negatives_per_row"]
        print(f"  {split}: {c['rows']} rows, negatives per row {per['min']}-{per['max']} (mean {per['mean']}); "
              f"translations excluded {c['translations_excluded']}, returned {c['translations_returned']}; "
              f"dropped by guards {c['dropped_by_guards']}; rows without a negative {c['rows_without']}")
        if c["rows_without"]:
            print("  note: training with use_negatives needs one per row: loosen the margins or raise range_max")


@cli_entry
def main(argv: list[str] | None = None) -> int:
    (config,) = parse(argv, MineConfig, description=__doc__)
    config.validate()
    if config.output:
        check_new_folder(config.output)  # before minutes of encoding
    data, summary = mine_dataset(config)
    print_summary(summary)
    if config.output:
        from hf_hybrid.dataset_folder import save_dataset_folder

        print(f"saved to {save_dataset_folder(config.output, data, summary)}")
    return 0
