"""``hf-hybrid train`` / ``accelerate launch -m hf_hybrid.train`` (or ``python -m hf_hybrid.train``): fine-tune a
bi-encoder with a batch plan (hybrid, sequential, …). The run itself is :func:`hf_hybrid.training.train`; this is its
command line: the settings (``--config`` YAML, flags override it), ``--dry_run`` (:func:`hf_hybrid.check.check_train`:
every problem at once, nothing trained) and ``--push_to_hub`` (after training, from the main process only).

Device, precision and process count belong to Accelerate (``accelerate launch``), not to our flags. Checkpoints
count only once complete, so a killed run always resumes (``--resume``) from a complete checkpoint and — the plan
being a function of (seed, step) — on exactly the batches it would have had.
"""

from __future__ import annotations

from hf_hybrid.commands.arguments import parse
from hf_hybrid.errors import cli_entry
from hf_hybrid.sampling import PlanConfig
from hf_hybrid.training import TrainConfig, train
from hf_hybrid.training.files import read_training_record
from hf_hybrid.training.hybrid_batches import accelerate_state


@cli_entry
def main(argv: list[str] | None = None) -> int:
    train_cfg, plan_cfg = parse(argv, TrainConfig, PlanConfig, description=__doc__)
    if train_cfg.dry_run:
        from hf_hybrid.check import check_train

        report = check_train(train_cfg, plan_cfg)
        print(report.render())
        return report.exit_code
    out = train(train_cfg, plan_cfg)  # checks the repo id and the token before training when push_to_hub is set
    state = accelerate_state()
    if state.is_main_process:
        record = read_training_record(out)
        print(f"model saved to {out} ({record['steps']} steps, {record['samples_per_second']} samples/s)")
        if train_cfg.push_to_hub:
            from hf_hybrid.hub import push_model

            print(f"pushed to {push_model(str(out), train_cfg.push_to_hub, private=train_cfg.private)}")
    return 0
