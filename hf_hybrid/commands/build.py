"""``hf-hybrid build``: sources → a hybrid-batch dataset (parallel config + optional
materialized plan), saved as a dataset folder and, with ``--push_to_hub org/name``, published with ``push_to_hub``
(config ``parallel`` and one config per plan) and the card. The stage is :mod:`hf_hybrid.build`."""

from __future__ import annotations

from dataclasses import asdict

from hf_hybrid.build import BuildConfig, build, plan_name, save
from hf_hybrid.commands.arguments import parse
from hf_hybrid.errors import cli_entry
from hf_hybrid.sampling import PlanConfig


def print_summary(summary: dict) -> None:
    print(f"source: {summary['source']}")
    for split, info in summary["splits"].items():
        langs = ", ".join(f"{k}={v}" for k, v in sorted(info["groups_per_language"].items()))
        print(f"  {split}: {info['rows']} rows; groups per language: {langs}")
    if "plan" in summary:
        p = summary["plan"]
        print(f"plan {p['name']}: {p['steps']} steps of {p['config']['batch_size']}, kinds {p['steps_per_kind']}, "
              f"training languages {', '.join(p['training_languages'])}")


@cli_entry
def main(argv: list[str] | None = None) -> int:
    config, plan = parse(argv, BuildConfig, PlanConfig, description=__doc__)
    parallel, plan_rows, summary = build(config, plan)
    print_summary(summary)
    if config.output:
        print(f"saved to {save(config.output, parallel, plan_rows, summary, plan)}")
    if config.push_to_hub:
        from hf_hybrid.dataset_card import render_dataset_card
        from hf_hybrid.hub import push_dataset

        card = render_dataset_card({**summary, "plan_config": asdict(plan), "repo_id": config.push_to_hub})
        url = push_dataset(parallel, config.push_to_hub, config_name="parallel", card=card, private=config.private)
        if plan_rows is not None:
            url = push_dataset(plan_rows, config.push_to_hub, config_name=plan_name(plan), card=card,
                               private=config.private)
        print(f"pushed to {url}")
    return 0
