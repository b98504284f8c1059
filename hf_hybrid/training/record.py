"""The training record (``hf_hybrid_training.json``): what the card generator, ``evaluate`` and ``push`` read.

Everything a reader needs to reproduce or describe the run — strategy and its parameters, languages trained on and
held out, the data's fingerprint, versions, hardware, wall time and the trainer's log history — in one
schema-versioned JSON file, written last into the model folder.
"""

from __future__ import annotations

import os
import platform

import torch

from hf_hybrid.sampling import BatchPlan, PlanConfig
from hf_hybrid.training.config import TrainConfig, precision_flags
from hf_hybrid.training.files import TRAINING_SCHEMA as SCHEMA  # spelled once, in files.py
from hf_hybrid.training.losses import loss_directions


def _strategy(train: TrainConfig, plan_cfg: PlanConfig, plan: BatchPlan) -> dict:
    sequential = plan_cfg.strategy == "sequential"
    return {"name": plan_cfg.strategy, "alpha": plan_cfg.alpha if plan_cfg.strategy == "hybrid" else None,
            "first": plan_cfg.first if sequential else None, "then": plan_cfg.then if sequential else None,
            "switch_step": plan.switch_step if sequential else None,
            "reset_optimizer_at_switch": train.reset_optimizer_at_switch,
            "cross_pairing": plan_cfg.cross_pairing, "language_sampling": plan_cfg.language_sampling,
            "temperature": plan_cfg.temperature if plan_cfg.language_sampling == "size" else None,
            "beta": plan_cfg.beta or None}  # translation batches (hf_hybrid.sampling), None: none


def _fine_tuning(train: TrainConfig) -> dict:
    """Which weights trained and how they were saved (:mod:`hf_hybrid.training.tuning`)."""
    lora = ({"r": train.lora_r, "alpha": train.lora_alpha, "dropout": train.lora_dropout,
             "target_modules": train.lora_target_modules or "peft default",
             "layers": f"top {train.freeze_layers}" if train.freeze_layers else "all",
             "saved": "adapter" if train.save_adapter else "merged"} if train.lora_r else None)
    # The frozen layers ran without dropout (both with and without the cache: hf_hybrid.frozen_prefix); with the
    # cache, their float32 output was read back instead of recomputed.
    prefix = ({"dropout": False, "cache": train.caches_prefix, "dtype": "float32"}
              if train.freeze_layers else None)
    return {"freeze_embeddings": train.freeze_embeddings, "freeze_layers": train.freeze_layers, "lora": lora,
            "wise_ft": train.wise_ft, "frozen_prefix": prefix, "distill_weight": train.distill_weight,
            "train_side": train.train_side}


def _versions() -> dict:
    import accelerate
    import datasets
    import sentence_transformers
    import transformers

    from hf_hybrid.version import __version__

    return {"hf_hybrid": __version__, "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__, "datasets": datasets.__version__,
            "accelerate": accelerate.__version__, "torch": torch.__version__, "python": platform.python_version()}


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def training_record(train: TrainConfig, plan_cfg: PlanConfig, plan: BatchPlan, data: dict, wall: float,
                    world: int, trainer, saved_length: int) -> dict:
    """``data``: ``{"fingerprint", "rows"}`` of the training split; ``saved_length``: the saved model's
    ``max_seq_length``."""
    languages = sorted(set(plan.index.languages) | set(plan_cfg.exclude_languages))
    steps = trainer.state.global_step
    return {
        "schema": SCHEMA,
        "base_model": train.model,
        "strategy": _strategy(train, plan_cfg, plan),
        "steps_per_kind": plan.summary()["steps_per_kind"],
        "batch_size": plan_cfg.batch_size, "max_steps": train.max_steps, "steps": steps,
        "learning_rate": train.learning_rate, "weight_decay": train.weight_decay,
        "warmup_ratio": train.warmup_ratio, "lr_scheduler_type": train.lr_scheduler_type,
        "loss": type(trainer.loss).__name__ if not isinstance(trainer.loss, dict) else "multiple",
        "loss_directions": list(loss_directions(train)),
        "scale": train.scale, "max_seq_length": train.max_seq_length,
        # what the saved model truncates to (training.run.inference_length): max_seq_length only shortened training
        "inference_max_seq_length": saved_length,
        "fine_tuning": _fine_tuning(train),
        "languages": languages, "train_languages": plan.training_languages,
        "held_out_languages": sorted(set(languages) - set(plan.training_languages)),
        "data": {"sources": [train.data], "fingerprint": data["fingerprint"], "rows": data["rows"],
                 "groups": plan.index.num_groups},
        "seed": plan_cfg.seed,
        "versions": _versions(),
        "hardware": {"device": device_name(), "num_processes": world,
                     "mixed_precision": next(iter(precision_flags(train.precision)), "fp32")},
        "wall_time_s": round(wall, 2),
        "samples_per_second": round(steps * plan_cfg.batch_size / wall, 2) if wall else None,
        "log_history": trainer.state.log_history,
    }
