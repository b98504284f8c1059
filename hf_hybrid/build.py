"""``python -m hf_hybrid.build``: sources → a hybrid-batch dataset (parallel config + optional materialized plan).

Saves a ``DatasetDict`` folder (``<output>/parallel``, and ``<output>/plans/<name>`` when a plan is
materialized) with a dataset card, written to a temporary folder and renamed into place, so a failed build
leaves nothing behind. ``--push_to_hub org/name`` publishes it with ``push_to_hub`` (config ``parallel`` and one
config per plan) and the card.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from datasets import DatasetDict

from hf_hybrid.atomic import atomic_dir
from hf_hybrid.config import check_types, parse
from hf_hybrid.data import group_counts, load_parallel
from hf_hybrid.data.schema import check_negatives_complete, languages_of
from hf_hybrid.errors import UserError, cli_entry
from hf_hybrid.ranges import check_ranges
from hf_hybrid.sampling import BatchPlan, PlanConfig, materialize


@dataclass
class BuildConfig:
    data: str = field(default="sample", metadata={"help": "source: sample | synthetic | xquad | mlqa | mmarco | "
                                                          "miracl | a local file/folder | a Hub dataset id",
                                                  "kind": "source"})
    languages: list[str] | None = field(default=None, metadata={"help": "keep only these languages",
                                                                "kind": "text"})
    output: str | None = field(default=None, metadata={"help": "folder to save the dataset to (default: print "
                                                               "the summary only)", "kind": "output"})
    plan_steps: int = field(default=0, metadata={"help": "materialize this many plan steps from the train split "
                                                         "(0: parallel config only)",
                                                 "range": "[0, inf)",
                                                 "fix": "use 0 (no plan) or a number of steps"})
    push_to_hub: str | None = field(default=None, metadata={"help": "also push to this Hub dataset repo",
                                                            "kind": "repo_id"})
    private: bool = field(default=False, metadata={"help": "create the Hub repo as private"})

    def validate(self) -> None:
        check_types(self)
        check_ranges(self)  # every range and kind declared above
        if self.output:
            check_output_folder(self.output)


def check_output_folder(output: str) -> None:
    """Before anything is loaded or written: ``output`` must be a new or empty folder we can create files in."""
    target = Path(output)
    if target.exists() and not target.is_dir():
        raise UserError("output", f"{output!r} is a file, not a folder", "choose a folder path")
    if target.is_dir() and any(target.iterdir()):
        raise UserError("output", f"{output!r} exists and is not empty", "choose a new folder or delete it")
    parent = target.absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UserError("output", f"{str(parent)!r} (in {output!r}) is a file, not a folder", "choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError("output", f"{str(parent)!r} is not writable", "choose a folder you can write to")


def plan_name(plan: PlanConfig) -> str:
    """Config name of a materialized plan, e.g. ``hybrid-a0.5-b256-s42``."""
    extra = {"hybrid": f"-a{plan.alpha}", "sequential": f"-{plan.first}2{plan.then}"}.get(plan.strategy, "")
    extra += f"-t{plan.beta}" if plan.beta else ""  # translation batches
    return f"{plan.strategy}{extra}-b{plan.batch_size}-s{plan.seed}"


def check_source_supports(source: str, plan: PlanConfig) -> None:
    """A monolingual-only source (MIRACL) cannot give cross-lingual, mixed or translation batches: say so before
    loading."""
    from hf_hybrid.data.sources import SOURCES
    from hf_hybrid.sampling import MONO

    spec = SOURCES.get(source.split(":", 1)[0])
    if spec is not None and not spec.parallel and plan.uses() - {MONO}:
        raise UserError("strategy", f"{spec.name} is monolingual (not parallel), so {plan.describe()} cannot build "
                        "cross-lingual, mixed or translation batches",
                        "use --strategy mono (and beta 0), or a parallel source")


def build(config: BuildConfig, plan: PlanConfig, *, setting_names: dict[str, str] | None = None
          ) -> tuple[DatasetDict, DatasetDict | None, dict]:
    """Load and validate the source; materialize the plan if asked. Returns (parallel, plan_rows, summary).
    ``setting_names`` renames plan settings in errors for a command that calls them differently."""
    config.validate()  # a bad setting fails before any data is loaded
    plan.validate()
    if config.plan_steps > 0:
        check_source_supports(config.data, plan)
    parallel = load_parallel(config.data, languages=config.languages)
    plan.check_languages(languages_of(parallel), config.data, setting_names)
    summary: dict = {"source": config.data, "splits": {}}
    for split, ds in parallel.items():
        counts = group_counts(ds)
        summary["splits"][split] = {"rows": len(ds), "groups_per_language": counts}
    plan_rows = None
    if config.plan_steps > 0:
        if "train" not in parallel:
            raise UserError("data", f"{config.data!r} has no train split to plan over", "use a source with 'train'")
        check_negatives_complete(parallel["train"], source=f"{config.data}[train]")
        batch_plan = BatchPlan(parallel["train"], plan, config.plan_steps)
        rows = materialize(parallel["train"], batch_plan)
        plan_rows = DatasetDict({"train": rows})
        summary["plan"] = {"name": plan_name(plan), **batch_plan.summary()}
    return parallel, plan_rows, summary


def save(output: str, parallel: DatasetDict, plan_rows: DatasetDict | None, summary: dict, plan: PlanConfig) -> Path:
    """Write everything into a temp folder beside ``output``, then rename: all or nothing (a run killed mid-write
    leaves no ``output``, only a hidden ``.<name>.new-*`` folder)."""
    check_output_folder(output)
    with atomic_dir(output) as tmp:
        parallel.save_to_disk(str(tmp / "parallel"))
        if plan_rows is not None:
            plan_rows.save_to_disk(str(tmp / "plans" / plan_name(plan)))
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        _write_card(tmp, summary, plan)
    return Path(output)


def _write_card(folder: Path, summary: dict, plan: PlanConfig) -> None:
    from hf_hybrid.dataset_card import render_dataset_card

    card = render_dataset_card({**summary, "plan_config": asdict(plan)})
    (folder / "README.md").write_text(str(card))


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
        path = save(config.output, parallel, plan_rows, summary, plan)
        print(f"saved to {path}")
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


if __name__ == "__main__":
    sys.exit(main())
