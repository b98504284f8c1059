"""``hf-hybrid quickstart``: the main job, offline, on embedded defaults.

Builds a hybrid-batch dataset from the bundled real-language sample (or ``--data``), materializes the first
steps of a hybrid plan and prints the summary. Later stages (train → evaluate → card → demo) join here as they land.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from hf_hybrid.build import BuildConfig, build, print_summary, save
from hf_hybrid.config import parse
from hf_hybrid.errors import cli_entry
from hf_hybrid.sampling import PlanConfig


@dataclass
class QuickstartConfig:
    data: str = field(default="sample", metadata={"help": "source (default: the bundled sample)"})
    output: str = field(default="hf_hybrid_out/quickstart", metadata={"help": "where everything is written"})
    batch_size: int = field(default=16, metadata={"help": "global batch size"})
    steps: int = field(default=40, metadata={"help": "training steps"})
    seed: int = field(default=42, metadata={"help": "seed of the plan and training"})


@cli_entry
def main(argv: list[str] | None = None) -> int:
    (config,) = parse(argv, QuickstartConfig, description=__doc__)
    plan = PlanConfig(strategy="hybrid", alpha=0.5, batch_size=config.batch_size, seed=config.seed)
    parallel, plan_rows, summary = build(BuildConfig(data=config.data, plan_steps=config.steps), plan)
    print_summary(summary)
    path = save(f"{config.output}/dataset", parallel, plan_rows, summary, plan) if _fresh(config.output) else None
    if path:
        print(f"dataset saved to {path}")
    return 0


def _fresh(output: str) -> bool:
    from pathlib import Path

    return not (Path(output) / "dataset").exists()


if __name__ == "__main__":
    sys.exit(main())
