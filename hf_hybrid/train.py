"""``accelerate launch -m hf_hybrid.train``: fine-tune a bi-encoder with a batch plan (hybrid, sequential, …).

The story of a run, top to bottom:

1. read the configuration (dataclasses; ``--config file.yaml`` and flags);
2. load the parallel data and draw the batch plan for the *global* batch (:mod:`hf_hybrid.sampling`);
3. materialize the plan as rows in batch order (``anchor``, ``positive``[, ``negative``]);
4. train with :class:`~sentence_transformers.SentenceTransformerTrainer`: the plan's batch sampler yields global
   batches and Accelerate's ``split_batches`` hands every process its slice of the same batch, so all processes
   train on the same kind of batch; ``MultipleNegativesRankingLoss(gather_across_devices=True)`` gathers the
   candidates of all processes, so the in-batch negatives are the global batch's;
5. save a SentenceTransformer folder and ``hf_hybrid_training.json`` (what the card generator reads).

Device, precision and process count belong to Accelerate (``accelerate launch``), not to our flags.
Checkpoints are written to a staging folder and renamed, so a killed run always resumes (``--resume``) from a
complete checkpoint, and — the plan being a function of (seed, step) — on exactly the batches it would have had.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from datasets import Dataset

from hf_hybrid.config import parse
from hf_hybrid.data import load_parallel
from hf_hybrid.errors import UserError, cli_entry
from hf_hybrid.sampling import BatchPlan, PlanConfig, materialize, plan_batch_sampler

RECORD = "hf_hybrid_training.json"
RUN_MARKER = "hf_hybrid_run.json"
LOSSES = ("mnrl", "cached_mnrl")


@dataclass
class TrainConfig:
    """Everything about a run except the batch plan (see :class:`~hf_hybrid.sampling.PlanConfig`)."""

    model: str = field(default="intfloat/multilingual-e5-small",
                       metadata={"help": "base model: Hub id or local folder (offline: see `hf-hybrid models`)"})
    data: str = field(default="sample", metadata={"help": "training data source (see `hf-hybrid build --help`)"})
    output_dir: str = field(default="hf_hybrid_out/model", metadata={"help": "the trained model folder"})
    max_steps: int = field(default=100, metadata={"help": "optimizer steps (same for every strategy)"})
    learning_rate: float = field(default=3e-5, metadata={"help": "AdamW learning rate (the paper: 3e-5)"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay (the paper: 0.01)"})
    warmup_ratio: float = field(default=0.1, metadata={"help": "share of steps of linear warm-up"})
    lr_scheduler_type: str = field(default="linear", metadata={"help": "linear | cosine | constant_with_warmup"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping"})
    loss: str = field(default="mnrl", metadata={"help": "mnrl (MultipleNegativesRankingLoss) or cached_mnrl "
                                                        "(GradCache, for batches larger than memory)"})
    mini_batch_size: int = field(default=32, metadata={"help": "cached_mnrl: mini-batch size"})
    scale: float = field(default=20.0, metadata={"help": "similarity scale (1 / temperature)"})
    symmetric: bool = field(default=False, metadata={"help": "also rank queries given passages"})
    use_negatives: bool = field(default=True, metadata={"help": "use hard negatives where the data has them"})
    query_prompt: str | None = field(default=None, metadata={"help": "query prefix (default: the model's "
                                                                     "'query' prompt, e.g. E5's 'query: ')"})
    passage_prompt: str | None = field(default=None, metadata={"help": "passage prefix (default: the model's "
                                                                       "'passage' prompt)"})
    max_seq_length: int = field(default=128, metadata={"help": "truncate texts to this many tokens"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "trade compute for memory"})
    freeze_embeddings: bool = field(default=False, metadata={"help": "keep the token embedding matrix fixed: "
                                                                     "for 250k-piece vocabularies (XLM-R, E5) on CPU "
                                                                     "it is most of the weights and of a step's time"})
    precision: str = field(default="auto", metadata={"help": "auto (bf16 on GPUs that have it, fp16 on other "
                                                             "GPUs, fp32 on CPU) | bf16 | fp16 | fp32"})
    reset_optimizer_at_switch: bool = field(default=False, metadata={"help": "sequential: restart optimizer "
                                                                              "state and schedule at the switch"})
    save_steps: int = field(default=0, metadata={"help": "checkpoint every N steps (0: only the final model)"})
    save_total_limit: int = field(default=2, metadata={"help": "checkpoints kept"})
    resume: bool = field(default=False, metadata={"help": "resume from the last complete checkpoint"})
    overwrite_output_dir: bool = field(default=False, metadata={"help": "replace a finished run in output_dir"})
    logging_steps: int = field(default=10, metadata={"help": "log every N steps"})
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"],
                                 metadata={"help": "trackers (tensorboard, wandb, …, or none)"})
    eval_steps: int = field(default=0, metadata={"help": "evaluate on the dev split every N steps (0: never)"})
    eval_split: str = field(default="dev", metadata={"help": "split for periodic evaluation"})
    trace_batches: bool = field(default=False, metadata={"help": "write the texts each process trains on per "
                                                                 "step to <output_dir>/trace (for audits)"})
    push_to_hub: str | None = field(default=None, metadata={"help": "push the trained model to this Hub repo"})
    private: bool = field(default=False, metadata={"help": "create the Hub repo as private"})

    def validate(self) -> None:
        if self.loss not in LOSSES:
            raise UserError("loss", f"unknown loss {self.loss!r}", f"use one of {', '.join(LOSSES)}")
        if self.max_steps < 1:
            raise UserError("max_steps", f"{self.max_steps}", "train for at least one step")
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise UserError("precision", repr(self.precision), "use auto, bf16, fp16 or fp32")
        if self.precision in ("bf16", "fp16") and not torch.cuda.is_available():
            raise UserError("precision", f"{self.precision} needs a GPU and none is visible",
                            "use --precision auto (fp32 on CPU)")


def fingerprint(train: TrainConfig, plan: PlanConfig) -> str:
    """What identifies a run: everything that changes the weights (not where it is written or logged)."""
    ignore = {"output_dir", "resume", "overwrite_output_dir", "logging_steps", "report_to", "trace_batches",
              "push_to_hub", "private", "save_steps", "save_total_limit", "eval_steps"}
    payload = {k: v for k, v in asdict(train).items() if k not in ignore} | {"plan": asdict(plan)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_output_dir(train: TrainConfig, plan: PlanConfig, is_main: bool) -> Path:
    """Refuse to mix runs in one folder: another run's folder is an error, a finished run needs
    ``--overwrite_output_dir``, an interrupted one ``--resume``."""
    out = Path(train.output_dir)
    marker = out / RUN_MARKER
    fp = fingerprint(train, plan)
    if marker.exists():
        previous = json.loads(marker.read_text())
        if (out / RECORD).exists() and train.overwrite_output_dir:
            if is_main:
                shutil.rmtree(out)
        elif previous.get("fingerprint") != fp:
            raise UserError("output_dir", f"{str(out)!r} holds another run ({previous.get('strategy')}, "
                            f"{previous.get('model')})", "choose a new --output_dir (or --overwrite_output_dir "
                            "to replace a finished run)")
        elif (out / RECORD).exists():
            raise UserError("output_dir", f"{str(out)!r} already holds this finished run",
                            "pass --overwrite_output_dir to train it again, or choose a new --output_dir")
        elif not train.resume and list((out / "checkpoints").glob("checkpoint-*")):
            raise UserError("output_dir", f"{str(out)!r} holds an interrupted run of this config",
                            "pass --resume to continue it, or choose a new --output_dir")
    elif out.exists() and any(p for p in out.iterdir() if p.name not in ("trace",)):
        raise UserError("output_dir", f"{str(out)!r} exists and is not an hf-hybrid run",
                        "choose a new or empty --output_dir")
    return out


def claim_output_dir(out: Path, train: TrainConfig, plan: PlanConfig) -> None:
    """Mark the folder as this run's, once every input has been checked (a bad input leaves nothing)."""
    out.mkdir(parents=True, exist_ok=True)
    marker = {"fingerprint": fingerprint(train, plan), "strategy": plan.describe(), "model": train.model}
    _write_json(out / RUN_MARKER, marker)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def precision_flags(precision: str) -> dict:
    """bf16 on GPUs that support it, fp16 on older GPUs, fp32 on CPU (``auto``)."""
    if precision == "auto":
        if not torch.cuda.is_available():
            return {}
        return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}
    return {"bf16": {"bf16": True}, "fp16": {"fp16": True}}.get(precision, {})


def prompts_for(model, train: TrainConfig) -> dict[str, str] | None:
    """Column → prefix. Defaults to the model's own named prompts (E5: ``query: `` / ``passage: ``)."""
    named = getattr(model, "prompts", {}) or {}
    query = train.query_prompt if train.query_prompt is not None else named.get("query")
    passage = train.passage_prompt if train.passage_prompt is not None else named.get("passage")
    prompts = {}
    if query:
        prompts["anchor"] = query
    if passage:
        prompts["positive"] = passage
        prompts["negative"] = passage
    return prompts or None


def build_loss(model, train: TrainConfig):
    from sentence_transformers.sentence_transformer import losses

    if train.loss == "cached_mnrl":
        cls = losses.CachedMultipleNegativesSymmetricRankingLoss if train.symmetric else \
            losses.CachedMultipleNegativesRankingLoss
        return cls(model, scale=train.scale, mini_batch_size=train.mini_batch_size, gather_across_devices=True)
    cls = losses.MultipleNegativesSymmetricRankingLoss if train.symmetric else losses.MultipleNegativesRankingLoss
    # gather before the loss, so that the negatives span the global batch of all processes
    return cls(model, scale=train.scale, gather_across_devices=True)


def two_phase_lambda(total: int, warmup: int, switch: int | None, kind: str):
    """Learning-rate multiplier as a pure function of the step: warm-up then decay, restarted at ``switch`` when
    the sequential run resets its schedule (two-stage fine-tuning). Pure, so resume reproduces it exactly."""

    def phase(step: int, length: int) -> float:
        w = min(warmup, max(1, length // 2)) if warmup else 0
        if w and step < w:
            return (step + 1) / w
        if kind == "constant_with_warmup":
            return 1.0
        progress = (step - w) / max(1, length - w)
        if kind == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return max(0.0, 1.0 - progress)

    def multiplier(step: int) -> float:
        if switch is not None and step >= switch:
            return phase(step - switch, total - switch)
        return phase(step, switch if switch is not None else total)

    return multiplier


def make_trainer_class():
    """The sentence-transformers trainer, plus: per-kind loss logging, the two-phase schedule, an optimizer
    reset at a sequential switch, atomic checkpoints, and an optional per-process batch trace."""
    from sentence_transformers import SentenceTransformerTrainer
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    class HybridTrainer(SentenceTransformerTrainer):
        step_kinds: list[str] = []
        step_buckets: list[str] = []
        switch_step: int | None = None
        reset_at_switch = False
        trace_dir: Path | None = None

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            out = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                       num_items_in_batch=num_items_in_batch)
            loss = out[0] if return_outputs else out
            if model.training and self.state.global_step < len(self.step_kinds):
                step = self.state.global_step
                sums = self.__dict__.setdefault("_kind_sums", {})
                for label in (self.step_kinds[step], self.step_buckets[step]):
                    total, count = sums.get(label, (0.0, 0))
                    sums[label] = (total + float(loss.detach()), count + 1)
                if self.trace_dir is not None:
                    self._trace({"step": self.state.global_step, "loss": float(loss.detach())})
            return out

        def _trace(self, record: dict) -> None:
            rank = self.accelerator.process_index
            with open(self.trace_dir / f"rank{rank}.jsonl", "a") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")

        def log(self, logs: dict, *args, **kwargs) -> None:
            if "loss" in logs:
                for kind, (total, count) in self.__dict__.pop("_kind_sums", {}).items():
                    logs[f"loss_{kind}"] = round(total / count, 6)
            super().log(logs, *args, **kwargs)

        def create_scheduler(self, num_training_steps: int, optimizer=None):
            if self.lr_scheduler is None:
                optimizer = optimizer or self.optimizer
                warmup = self.args.get_warmup_steps(num_training_steps)
                switch = self.switch_step if self.reset_at_switch else None
                self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                    optimizer, two_phase_lambda(num_training_steps, warmup, switch, self.args.lr_scheduler_type))
            return self.lr_scheduler

        def training_step(self, model, inputs, num_items_in_batch=None):
            if self.reset_at_switch and self.state.global_step == self.switch_step and \
                    not self.__dict__.get("_reset_done"):
                # Two-stage fine-tuning: the second phase starts from fresh AdamW moments.
                self.optimizer.state.clear() if not hasattr(self.optimizer, "optimizer") else \
                    self.optimizer.optimizer.state.clear()
                self.__dict__["_reset_done"] = True
            return super().training_step(model, inputs, num_items_in_batch)

        def _save_checkpoint(self, model, trial):
            """Write the checkpoint under a staging folder, then rename it into place: a run killed while
            saving leaves no half-written ``checkpoint-N`` for ``--resume`` to pick up."""
            real = self.args.output_dir
            staging = os.path.join(real, ".staging")
            name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
            self.args.output_dir = staging
            try:
                super()._save_checkpoint(model, trial)
            finally:
                self.args.output_dir = real
            self.accelerator.wait_for_everyone()
            if self.args.should_save:
                os.replace(os.path.join(staging, name), os.path.join(real, name))
                from transformers.trainer_utils import rotate_checkpoints

                rotate_checkpoints(output_dir=real, save_total_limit=self.args.save_total_limit, use_mtime=False)
            self.accelerator.wait_for_everyone()

    return HybridTrainer


class TracingCollator:
    """Wraps the trainer's data collator to record, per process, the texts of every batch it trains on."""

    def __init__(self, inner, path_for_rank):
        self.inner, self.path_for_rank = inner, path_for_rank
        self.valid_label_columns = getattr(inner, "valid_label_columns", None)
        self.step = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, features):
        with open(self.path_for_rank(), "a") as fh:
            fh.write(json.dumps({"batch": self.step, "anchors": [f["anchor"] for f in features]},
                                ensure_ascii=False) + "\n")
        self.step += 1
        return self.inner(features)


def step_labels(rows: Dataset, batch_size: int, steps: int) -> tuple[list[str], list[str]]:
    """Per step: the batch kind, and its language-pair bucket (``mono/sw-sw``, ``cross/en-sw`` for one pair per
    batch, ``cross/mixed`` when pairs vary inside the batch), for the per-kind and per-bucket loss logs."""
    table = rows.select_columns(["kind", "query_lang", "passage_lang"]).data.table
    kinds, buckets = [], []
    for step in range(steps):
        part = table.slice(step * batch_size, batch_size)
        kind = part["kind"][0].as_py()
        q = set(part["query_lang"].to_pylist())
        p = set(part["passage_lang"].to_pylist())
        pair = f"{q.pop()}-{p.pop()}" if len(q) == 1 and len(p) == 1 else "mixed"
        kinds.append(kind)
        buckets.append(f"{kind}/{pair}")
    return kinds, buckets


def train(train_cfg: TrainConfig, plan_cfg: PlanConfig) -> Path:
    """Run one training job; returns the model folder."""
    from accelerate import PartialState
    from sentence_transformers import SentenceTransformerTrainingArguments

    from hf_hybrid.models import load_model

    train_cfg.validate()
    plan_cfg.validate()
    # Without CUDA, processes started by `accelerate launch` (torchrun) only join a gloo group when Accelerate is
    # told it runs on CPU; otherwise each would silently train alone on the whole batch.
    on_cpu = not torch.cuda.is_available()
    state = PartialState(cpu=on_cpu)
    world = state.num_processes
    if plan_cfg.batch_size % world:
        raise UserError("batch_size", f"global batch {plan_cfg.batch_size} does not split over {world} processes",
                        f"use a multiple of {world}")
    out = check_output_dir(train_cfg, plan_cfg, state.is_main_process)
    from hf_hybrid.build import check_source_supports

    check_source_supports(train_cfg.data, plan_cfg)

    data = load_parallel(train_cfg.data)
    if "train" not in data:
        raise UserError("data", f"{train_cfg.data!r} has no train split (has {', '.join(data)})",
                        "use a source with a train split")
    train_data = data["train"]
    plan = BatchPlan(train_data, plan_cfg, train_cfg.max_steps)
    rows = materialize(train_data, plan)
    step_kinds, step_buckets = step_labels(rows, plan_cfg.batch_size, train_cfg.max_steps)
    columns = ["anchor", "positive"] + (["negative"] if train_cfg.use_negatives and "negative" in
                                         rows.column_names else [])
    train_rows = rows.select_columns(columns)

    model = load_model(train_cfg.model)
    model.max_seq_length = train_cfg.max_seq_length
    if train_cfg.freeze_embeddings:
        model[0].auto_model.get_input_embeddings().requires_grad_(False)
    loss = build_loss(model, train_cfg)
    evaluator = _dev_evaluator(data, train_cfg, plan_cfg)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "checkpoints"),
        max_steps=train_cfg.max_steps,
        per_device_train_batch_size=plan_cfg.batch_size // world,
        learning_rate=train_cfg.learning_rate,
        weight_decay=train_cfg.weight_decay,
        warmup_steps=round(train_cfg.warmup_ratio * train_cfg.max_steps),
        lr_scheduler_type=train_cfg.lr_scheduler_type,
        max_grad_norm=train_cfg.max_grad_norm,
        **({"gradient_checkpointing": True} if train_cfg.gradient_checkpointing else {}),
        seed=plan_cfg.seed,
        data_seed=plan_cfg.seed,
        logging_steps=train_cfg.logging_steps,
        report_to=[r for r in train_cfg.report_to if r != "none"] or "none",
        save_strategy="steps" if train_cfg.save_steps else "no",
        save_steps=train_cfg.save_steps or 500,
        save_total_limit=train_cfg.save_total_limit,
        eval_strategy="steps" if evaluator is not None else "no",
        eval_steps=train_cfg.eval_steps or None,
        batch_sampler=plan_batch_sampler(plan_cfg.batch_size),
        accelerator_config={"split_batches": True},
        prompts=prompts_for(model, train_cfg),
        dataloader_drop_last=True,
        disable_tqdm=False,
        use_cpu=on_cpu,
        **precision_flags(train_cfg.precision),
    )
    trainer_cls = make_trainer_class()
    trainer_cls.step_kinds = step_kinds
    trainer_cls.step_buckets = step_buckets
    trainer_cls.switch_step = plan.switch_step if plan_cfg.strategy == "sequential" else None
    trainer_cls.reset_at_switch = train_cfg.reset_optimizer_at_switch and plan_cfg.strategy == "sequential"
    trainer = trainer_cls(model=model, args=args, train_dataset=train_rows, loss=loss, evaluator=evaluator)
    if train_cfg.trace_batches:
        trace = out / "trace"
        trace.mkdir(parents=True, exist_ok=True)
        trainer.trace_dir = trace
        trainer.data_collator = TracingCollator(trainer.data_collator,
                                                lambda: trace / f"batches_rank{trainer.accelerator.process_index}.jsonl")

    if state.is_main_process:
        claim_output_dir(out, train_cfg, plan_cfg)
    state.wait_for_everyone()
    resume_from = _last_checkpoint(out) if train_cfg.resume else None
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume_from)
    wall = time.perf_counter() - start
    if state.is_main_process:
        record = training_record(train_cfg, plan_cfg, plan, train_data, wall, world, trainer)
        save_final(model, out, record)
    state.wait_for_everyone()
    if train_cfg.push_to_hub and state.is_main_process:
        from hf_hybrid.hub import push_model

        print(f"pushed to {push_model(str(out), train_cfg.push_to_hub, private=train_cfg.private)}")
    return out


def _dev_evaluator(data, train_cfg: TrainConfig, plan_cfg: PlanConfig):
    if not train_cfg.eval_steps:
        return None
    if train_cfg.eval_split not in data:
        raise UserError("eval_split", f"{train_cfg.data!r} has no split {train_cfg.eval_split!r} (has "
                        f"{', '.join(data)})", "choose an existing split or set --eval_steps 0")
    from hf_hybrid.evaluation import MultilingualRetrievalEvaluator

    return MultilingualRetrievalEvaluator(data[train_cfg.eval_split], name=train_cfg.eval_split)


def _last_checkpoint(out: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    folder = out / "checkpoints"
    return get_last_checkpoint(str(folder)) if folder.exists() else None


def _data_fingerprint(dataset: Dataset) -> str:
    return dataset._fingerprint


def training_record(train_cfg, plan_cfg, plan: BatchPlan, train_data: Dataset, wall: float, world: int,
                    trainer) -> dict:
    import accelerate
    import datasets
    import sentence_transformers
    import transformers

    import hf_hybrid

    languages = sorted(set(plan.index.languages) | set(plan_cfg.exclude_languages))
    steps = trainer.state.global_step
    return {
        "schema": "hf-hybrid/training/v1",
        "base_model": train_cfg.model,
        "strategy": {"name": plan_cfg.strategy, "alpha": plan_cfg.alpha if plan_cfg.strategy == "hybrid" else None,
                     "first": plan_cfg.first if plan_cfg.strategy == "sequential" else None,
                     "then": plan_cfg.then if plan_cfg.strategy == "sequential" else None,
                     "switch_step": plan.switch_step if plan_cfg.strategy == "sequential" else None,
                     "reset_optimizer_at_switch": train_cfg.reset_optimizer_at_switch,
                     "cross_pairing": plan_cfg.cross_pairing, "language_sampling": plan_cfg.language_sampling,
                     "temperature": plan_cfg.temperature if plan_cfg.language_sampling == "size" else None},
        "steps_per_kind": plan.summary()["steps_per_kind"],
        "batch_size": plan_cfg.batch_size, "max_steps": train_cfg.max_steps, "steps": steps,
        "learning_rate": train_cfg.learning_rate, "weight_decay": train_cfg.weight_decay,
        "warmup_ratio": train_cfg.warmup_ratio, "lr_scheduler_type": train_cfg.lr_scheduler_type,
        "loss": type(trainer.loss).__name__ if not isinstance(trainer.loss, dict) else "multiple",
        "scale": train_cfg.scale, "max_seq_length": train_cfg.max_seq_length,
        "languages": languages, "train_languages": plan.training_languages,
        "held_out_languages": sorted(set(languages) - set(plan.training_languages)),
        "data": {"sources": [train_cfg.data], "fingerprint": _data_fingerprint(train_data), "rows": len(train_data),
                 "groups": plan.index.num_groups},
        "seed": plan_cfg.seed,
        "versions": {"hf_hybrid": hf_hybrid.__version__, "sentence_transformers": sentence_transformers.__version__,
                     "transformers": transformers.__version__, "datasets": datasets.__version__,
                     "accelerate": accelerate.__version__, "torch": torch.__version__,
                     "python": platform.python_version()},
        "hardware": {"device": _device_name(), "num_processes": world,
                     "mixed_precision": next(iter(precision_flags(train_cfg.precision)), "fp32")},
        "wall_time_s": round(wall, 2),
        "samples_per_second": round(steps * plan_cfg.batch_size / wall, 2) if wall else None,
        "log_history": trainer.state.log_history,
    }


def _device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def save_final(model, out: Path, record: dict) -> None:
    """Save the model into a temp folder inside ``out`` and move it into place; the training record is written
    last, so its presence means the folder holds a complete model."""
    tmp = Path(tempfile.mkdtemp(prefix=".final-", dir=out))
    try:
        model.save(str(tmp))
        for item in tmp.iterdir():
            target = out / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _write_json(out / RECORD, record)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    train_cfg, plan_cfg = parse(argv, TrainConfig, PlanConfig, description=__doc__)
    out = train(train_cfg, plan_cfg)
    from accelerate import PartialState

    if PartialState(cpu=not torch.cuda.is_available()).is_main_process:
        record = json.loads((out / RECORD).read_text())
        print(f"model saved to {out} ({record['steps']} steps, {record['samples_per_second']} samples/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
