"""``HybridTrainer``: sentence-transformers' trainer plus what a batch plan needs.

* loss logged per batch kind and per language-pair bucket (``loss_mono``, ``loss_cross/en-sw``), so a run shows
  what each kind of batch teaches;
* the two-phase learning-rate schedule (:mod:`hf_hybrid.training.schedule`) and, for a sequential run that asks for
  it, fresh AdamW moments at the switch (two-stage fine-tuning);
* an optional per-process trace of the loss of every step (for audits and the two-process test).

Everything it needs comes through its constructor; nothing is configured through class attributes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformerTrainer

from hf_hybrid.training.schedule import two_phase_lambda


class HybridTrainer(SentenceTransformerTrainer):
    """``step_label(step)`` gives the step's batch kind and bucket (from the plan, a pure function of the step);
    ``switch_step`` / ``reset_at_switch``: a sequential run's switch and whether the optimizer restarts there."""

    def __init__(self, *args, step_label: Callable[[int], tuple[str, str]], switch_step: int | None = None,
                 reset_at_switch: bool = False, trace_dir: Path | None = None, **kwargs):
        self.step_label = step_label
        self.switch_step = switch_step
        self.reset_at_switch = reset_at_switch and switch_step is not None
        self.trace_dir = trace_dir
        self._kind_sums: dict[str, tuple[float, int]] = {}
        self._reset_done = False
        super().__init__(*args, **kwargs)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                   num_items_in_batch=num_items_in_batch)
        loss = out[0] if return_outputs else out
        if model.training:
            step, value = self.state.global_step, float(loss.detach())
            for label in self.step_label(step):
                total, count = self._kind_sums.get(label, (0.0, 0))
                self._kind_sums[label] = (total + value, count + 1)
            if self.trace_dir is not None:
                self._trace({"step": step, "loss": value})
        return out

    def _trace(self, record: dict) -> None:
        with open(self.trace_dir / f"rank{self.accelerator.process_index}.jsonl", "a") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def log(self, logs: dict, *args, **kwargs) -> None:
        if "loss" in logs:
            for kind, (total, count) in self._kind_sums.items():
                logs[f"loss_{kind}"] = round(total / count, 6)
            self._kind_sums = {}
        super().log(logs, *args, **kwargs)

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.lr_scheduler is None:
            optimizer = optimizer or self.optimizer
            warmup = self.args.get_warmup_steps(num_training_steps)
            switch = self.switch_step if self.reset_at_switch else None
            self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer, two_phase_lambda(num_training_steps, warmup, switch, self.args.lr_scheduler_type))
        return self.lr_scheduler

    def _load_from_checkpoint(self, checkpoint_path: str, *args) -> None:
        """A LoRA run's checkpoint holds only the adapter: load it into the adapter being trained (the parent would
        rebuild a model from the checkpoint in another layout, whose weight names do not match)."""
        from hf_hybrid.training.tuning import load_checkpoint_adapter

        if not load_checkpoint_adapter(getattr(self.model, "_orig_mod", self.model), checkpoint_path):
            super()._load_from_checkpoint(checkpoint_path, *args)

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self.reset_at_switch and self.state.global_step == self.switch_step and not self._reset_done:
            # Two-stage fine-tuning: the second phase starts from fresh AdamW moments.
            inner = getattr(self.optimizer, "optimizer", self.optimizer)  # Accelerate wraps the optimizer
            inner.state.clear()
            self._reset_done = True
        return super().training_step(model, inputs, num_items_in_batch)


class TracingCollator:
    """Wraps the trainer's data collator to record, per process, the texts of every batch it trains on."""

    def __init__(self, inner, path_for_rank: Callable[[], Path]):
        self.inner, self.path_for_rank = inner, path_for_rank
        self.valid_label_columns = getattr(inner, "valid_label_columns", None)
        self.step = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, features):
        with open(self.path_for_rank(), "a") as fh:
            fh.write(json.dumps({"batch": self.step, "anchors": [f["anchor"] for f in features],
                                 "positives": [f["positive"] for f in features]}, ensure_ascii=False) + "\n")
        self.step += 1
        return self.inner(features)
