"""The build stage: sources → a hybrid-batch dataset (the parallel config and, optionally, a materialized plan).

:func:`build` loads and validates the source and materializes the plan; :func:`save` writes it as a dataset folder
(:mod:`hf_hybrid.dataset_folder`: ``<output>/parallel``, ``<output>/plans/<name>``, the card), all or nothing. The
command, with its ``--push_to_hub``, is :mod:`hf_hybrid.commands.build`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from datasets import DatasetDict

from hf_hybrid.atomic import check_new_folder
from hf_hybrid.config import check_types
from hf_hybrid.data import group_counts, load_parallel
from hf_hybrid.data.schema import check_negatives_complete, languages_of
from hf_hybrid.data.sources import check_source_supports
from hf_hybrid.errors import UserError
from hf_hybrid.plan_rows import materialize
from hf_hybrid.ranges import check_ranges
from hf_hybrid.sampling import BatchPlan, PlanConfig


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
            check_new_folder(self.output)


def plan_name(plan: PlanConfig) -> str:
    """Config name of a materialized plan, e.g. ``hybrid-a0.5-b256-s42``."""
    extra = {"hybrid": f"-a{plan.alpha}", "sequential": f"-{plan.first}2{plan.then}"}.get(plan.strategy, "")
    extra += f"-t{plan.beta}" if plan.beta else ""  # translation batches
    return f"{plan.strategy}{extra}-b{plan.batch_size}-s{plan.seed}"


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
    """The built dataset as a folder (:func:`hf_hybrid.dataset_folder.save_dataset_folder`), its card stating the
    plan's settings."""
    from hf_hybrid.dataset_folder import save_dataset_folder

    plans = {plan_name(plan): plan_rows} if plan_rows is not None else {}
    return save_dataset_folder(output, parallel, summary, plans=plans, card={"plan_config": asdict(plan)})
