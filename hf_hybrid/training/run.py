"""``train()``: one training run, top to bottom.

1. check every input before anything is written (:func:`~hf_hybrid.training.checks.check_inputs`: configs, Hub
   token, data, plan, model) and load the model;
2. take the output folder's lock and decide what the run may do there (new, resume, replace a finished run);
3. claim the folder and build the trainer: the plan's batch sampler yields global batches and
   Accelerate's ``split_batches`` hands every process its slice of the same batch, so all processes train on the
   same kind of batch; the loss gathers the candidates of all processes, so the in-batch negatives are the
   global batch's;
4. train (checkpoints are committed only once complete, see :mod:`hf_hybrid.training.checkpoints`);
5. save the model and the training record (last), rename it onto a finished run it replaces (the push, when
   asked, is the command's: :mod:`hf_hybrid.commands.train`).

Device, precision and process count belong to Accelerate (``accelerate launch``), not to our flags.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from hf_hybrid.errors import UserError
from hf_hybrid.prompts import prompt_text
from hf_hybrid.sampling import PlanConfig
from hf_hybrid.training.checkpoints import CommitCheckpoints, last_complete_checkpoint
from hf_hybrid.training.checks import RunInputs, busy, check_inputs
from hf_hybrid.training.config import TrainConfig, precision_flags
from hf_hybrid.training.feed import PlanFeed, kind_prompts
from hf_hybrid.training.hybrid_batches import accelerate_state, loss_columns, plan_arguments
from hf_hybrid.training.losses import build_loss
from hf_hybrid.training.query_side import route_documents_to_base
from hf_hybrid.training.record import training_record
from hf_hybrid.training.run_folder import RunFolder, claim, finish, inspect_output
from hf_hybrid.training.trainer import HybridTrainer, TracingCollator
from hf_hybrid.training.tuning import finalize, prepare_model, serve_frozen_prefix

FEED = ".feed"  # the lazy feed's row-number files, one folder per process, deleted when training ends


@contextlib.contextmanager
def output_lock(out: Path, state) -> Iterator[None]:
    """The main process holds the folder's lock for the whole run; every process learns whether it got it."""
    from accelerate.utils import broadcast_object_list

    from hf_hybrid.locks import FolderBusy, folder_lock

    with contextlib.ExitStack() as stack:
        refused = [False]
        if state.is_main_process:
            try:
                stack.enter_context(folder_lock(out, wait=False))
            except FolderBusy:
                refused = [True]
        if state.num_processes > 1:
            broadcast_object_list(refused)
        if refused[0]:
            raise busy(out)
        yield


def load_base_model(train_cfg: TrainConfig, path: str):
    """The base model through the one loader every stage uses (:func:`hf_hybrid.models.load_model`: offline rules,
    the tokenizer check, one-line errors), at the run's ``max_seq_length``; and the length the saved model will
    truncate to (:func:`inference_length`), read from the base before training shortens it."""
    from hf_hybrid.models import load_model

    model = load_model(path)
    saved_length = inference_length(model.max_seq_length, train_cfg.max_seq_length)
    model.max_seq_length = train_cfg.max_seq_length
    return model, saved_length


def inference_length(base_length: int | None, train_length: int) -> int:
    """The ``max_seq_length`` the trained model is saved with: the base's own, or the training length when that is
    longer. ``max_seq_length`` shortens *training* (a step's cost grows with it); saving the model with it would
    also cut every text the model embeds later. multilingual-e5 trained and saved at 96 tokens cuts almost a third
    of the how-to translation texts, and its base, read at 512, then looks better at translation retrieval for
    truncation alone: the gap that issue 29 read as forgetting, and that WiSE-FT could not win back because it
    never touched the length (``docs/truncation.md`` has the figures). Saved at the base's length, a trained model
    is compared with its base on the same texts."""
    return max(base_length or train_length, train_length)


def column_prompts(model, train_cfg: TrainConfig) -> dict[str, str] | None:
    """Column → prefix: the query rule for ``anchor``, the document rule for ``positive`` / ``negative``
    (:mod:`hf_hybrid.prompts`), unless the config sets its own prefix."""
    query = train_cfg.query_prompt if train_cfg.query_prompt is not None else prompt_text(model, "query")
    passage = train_cfg.passage_prompt if train_cfg.passage_prompt is not None else prompt_text(model, "document")
    prompts = {"anchor": query} if query else {}
    if passage:
        prompts |= {"positive": passage, "negative": passage}
    return prompts or None


def training_arguments(inputs: RunInputs, folder: RunFolder, prompts: dict | None, evaluate: bool):
    from sentence_transformers import SentenceTransformerTrainingArguments

    t, p = inputs.train, inputs.plan_cfg
    return SentenceTransformerTrainingArguments(
        output_dir=str(folder.checkpoints), max_steps=t.max_steps,
        learning_rate=t.learning_rate, weight_decay=t.weight_decay,
        warmup_steps=round(t.warmup_ratio * t.max_steps), lr_scheduler_type=t.lr_scheduler_type,
        max_grad_norm=t.max_grad_norm, **({"gradient_checkpointing": True} if t.gradient_checkpointing else {}),
        seed=p.seed, data_seed=p.seed, logging_steps=t.logging_steps,
        report_to=[r for r in t.report_to if r != "none"] or "none",
        save_strategy="steps" if t.save_steps else "no", save_steps=t.save_steps or 500,
        save_total_limit=None,  # rotation is CommitCheckpoints' job, after a checkpoint is known complete
        eval_strategy="steps" if evaluate else "no", eval_steps=t.eval_steps or None,
        **plan_arguments(p.batch_size, inputs.world),  # every process: its slice of the same global batch
        prompts=prompts, disable_tqdm=False,
        use_cpu=not torch.cuda.is_available(), **precision_flags(t.precision),
    )


def dev_evaluator(inputs: RunInputs):
    if not inputs.train.eval_steps:
        return None
    from hf_hybrid.evaluation import MultilingualRetrievalEvaluator

    split = inputs.train.eval_split
    return MultilingualRetrievalEvaluator(inputs.data[split], name=split)


def build_trainer(inputs: RunInputs, folder: RunFolder, model, rank: int) -> HybridTrainer:
    t, p = inputs.train, inputs.plan_cfg
    feed = PlanFeed(inputs.train_data, inputs.plan, loss_columns(inputs.train_data, t.use_negatives))
    # The card's example sentences from the first steps: sentence-transformers would otherwise sample 1000 rows
    # from anywhere in the plan, each a jump of the lazy feed.
    model.model_card_data.set_widget_examples(feed.head(max(1, 1000 // p.batch_size)))
    evaluator = dev_evaluator(inputs)
    sequential = p.strategy == "sequential"
    trainer = HybridTrainer(
        model=model, args=training_arguments(inputs, folder, kind_prompts(column_prompts(model, t), p),
                                        evaluator is not None),
        train_dataset=feed.dataset(folder.work / FEED / f"rank{rank}"), loss=build_loss(model, t),
        evaluator=evaluator, callbacks=[CommitCheckpoints(keep=t.save_total_limit)], step_label=feed.label,
        switch_step=inputs.plan.switch_step if sequential else None,
        reset_at_switch=t.reset_optimizer_at_switch and sequential,
        trace_dir=folder.work / "trace" if t.trace_batches else None,
    )
    if trainer.trace_dir is not None:
        trainer.trace_dir.mkdir(parents=True, exist_ok=True)
        trainer.data_collator = TracingCollator(
            trainer.data_collator, lambda: trainer.trace_dir / f"batches_rank{trainer.accelerator.process_index}.jsonl")
    return trainer


def run_trainer(trainer: HybridTrainer, folder: RunFolder) -> float:
    """Train; returns the wall time. Ctrl-C becomes one line that says whether ``--resume`` can continue."""
    start = time.perf_counter()
    try:
        trainer.train(resume_from_checkpoint=str(folder.resume_from) if folder.resume_from else None)
    except KeyboardInterrupt:
        if folder.replaces_finished:
            raise UserError("training", "interrupted", f"{str(folder.out)!r} still holds the finished run it was "
                            "to replace; run again to replace it") from None
        last = last_complete_checkpoint(folder.checkpoints)
        if last is not None:
            raise UserError("training", f"interrupted (last complete checkpoint: {last.name})",
                            "resume with --resume") from None
        raise UserError("training", "interrupted before its first checkpoint",
                        "run again to start over (--save_steps N writes checkpoints to resume from)") from None
    return time.perf_counter() - start


def train(train_cfg: TrainConfig, plan_cfg: PlanConfig) -> Path:
    """Run one training job; returns the model folder."""
    state = accelerate_state()
    inputs = check_inputs(train_cfg, plan_cfg, world=state.num_processes)
    out = Path(train_cfg.output_dir)
    model, saved_length = load_base_model(train_cfg, inputs.model_path)  # a bad Hub id fails here, not later
    start = prepare_model(model, train_cfg, plan_cfg.seed)  # which weights train; their starting values if WiSE-FT needs them
    with output_lock(out, state):
        folder = inputs.folder = inspect_output(train_cfg, plan_cfg, inputs.data_fingerprint)
        state.wait_for_everyone()  # every process has read the folder before the main one claims it
        if state.is_main_process:
            claim(folder, train_cfg, plan_cfg, inputs.data_fingerprint)
        state.wait_for_everyone()
        trainer = build_trainer(inputs, folder, model, state.process_index)
        prefix = serve_frozen_prefix(model, train_cfg)
        try:
            wall = run_trainer(trainer, folder)
        finally:
            if prefix is not None:
                prefix.flush()  # what this run computed serves the next run of the same base and depth
                prefix.detach()
            shutil.rmtree(folder.work / FEED / f"rank{state.process_index}", ignore_errors=True)
            with contextlib.suppress(OSError):  # the last process out removes the emptied folder
                (folder.work / FEED).rmdir()
        if state.is_main_process:
            finalize(model, train_cfg, start)
            model.max_seq_length = saved_length
            route_documents_to_base(model, train_cfg, inputs.model_path)  # train_side query: documents stay the base's
            data = {"fingerprint": inputs.data_fingerprint, "rows": len(inputs.train_data)}
            finish(folder, model, training_record(train_cfg, plan_cfg, inputs.plan, data, wall, state.num_processes,
                                                  trainer, saved_length))
        state.wait_for_everyone()
    return out
