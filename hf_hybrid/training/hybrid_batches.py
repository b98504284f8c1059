"""``HybridBatches``: hybrid (or mono, cross, sequential, mixed) batches for your own sentence-transformers script.

``hf-hybrid train`` is one way to train with a batch plan; a plain :class:`~sentence_transformers.
SentenceTransformerTrainer` is the other. The trainer needs three things from the plan, and each hides a trap:

* the train dataset: the plan's rows in batch order, made on demand (:class:`~hf_hybrid.training.feed.PlanFeed`),
  so memory stays flat in the number of steps, with only the loss's columns (``materialize`` also adds ``batch``,
  ``kind``, ``query_lang``, ``passage_lang``, which would reach the loss as extra inputs);
* the training arguments: the batch sampler yields *global* batches, each process takes its slice of the same one
  (Accelerate's ``split_batches``), so the per-device batch size is the global one over the number of processes,
  and a last partial batch would be a batch of no plan (``dataloader_drop_last``);
* the loss: MultipleNegativesRankingLoss gathering the candidates of all processes, so the in-batch negatives are
  the global batch's — what makes a monolingual batch monolingual.

And on a machine without CUDA, processes started by ``accelerate launch`` join a gloo group only when Accelerate is
told it runs on CPU (:func:`accelerate_state`); otherwise each would silently train alone on the whole batch.

``hf-hybrid train`` (:mod:`hf_hybrid.training.run`) builds its trainer from the same helpers, so a script and the
command train on the same batches for the same seed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from datasets import Dataset

from hf_hybrid.errors import UserError
from hf_hybrid.plan_config import PlanConfig
from hf_hybrid.sampling import BatchPlan, plan_batch_sampler
from hf_hybrid.training.feed import PlanFeed, kind_prompts

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss


def accelerate_state():
    """The process group, started the way a batch plan needs it. Without CUDA, processes started by
    ``accelerate launch`` (torchrun) only join a gloo group when Accelerate is told it runs on CPU; otherwise each
    would silently train alone on the whole batch."""
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def plan_arguments(global_batch_size: int, world_size: int) -> dict[str, Any]:
    """The training arguments a plan needs: every process gets its slice of the same global batch."""
    if global_batch_size % world_size:
        raise UserError("batch_size", f"global batch {global_batch_size} does not split over {world_size} "
                        "processes", f"use a multiple of {world_size}")
    return {
        "per_device_train_batch_size": global_batch_size // world_size,
        "batch_sampler": plan_batch_sampler(global_batch_size),  # yields the plan's global batches, in order
        "accelerator_config": {"split_batches": True},  # every process: its slice of the same global batch
        "dataloader_drop_last": True,
    }


def loss_columns(dataset: Dataset, use_negatives: bool = True) -> list[str]:
    """What MultipleNegativesRankingLoss reads: ``anchor``, ``positive`` and, where the data has hard negatives,
    ``negative``."""
    return ["anchor", "positive"] + (["negative"] if use_negatives and "negatives" in dataset.column_names else [])


class HybridBatches:
    """
    The batches of a hybrid-batch plan (Elmahdy, Lin & Ahmad, 2024, arXiv 2408.10536), as what a plain
    :class:`~sentence_transformers.SentenceTransformerTrainer` takes: a train dataset, training arguments and a
    loss.

    Every global step is one kind of batch, drawn from ``seed``: *monolingual* (query and passage in one language,
    one language per batch) or *cross-lingual* (query in x, passage in y ≠ x), mono with probability ``alpha``
    in the ``"hybrid"`` strategy. The training arguments give every process its slice of the same global batch
    and the loss ranks each query against the passages of all processes, so the in-batch negatives are those of
    one kind of batch, whatever the number of processes. The plan is a pure function of (seed, step): the same
    settings give the batches ``hf-hybrid train`` gives.

    Args:
        dataset: A parallel ``datasets.Dataset``, one row per (group, language): ``id`` (shared by the translations
            of one question–passage pair), ``lang`` (ISO 639 code), ``query``, ``passage`` and optionally
            ``negatives`` (a list of passages in the row's language). ``hf_hybrid.load_parallel`` gives one from
            local files, the Hub, the bundled sample or a synthetic world.
        max_steps: The number of training steps; the plan draws one global batch per step.
        strategy: ``"hybrid"`` (mono with probability ``alpha``, else cross), ``"mono"``, ``"cross"``,
            ``"sequential"`` (``first`` until ``switch_step``, then ``then``) or ``"mixed"`` (each row
            monolingual, languages mixed inside the batch).
        alpha: For ``"hybrid"``: the probability that a step is monolingual (the paper's 0.5).
        batch_size: The *global* batch size, all processes together (a multiple of their number).
        seed: The seed of the plan, and of the trainer unless ``training_arguments`` is given another.
        use_negatives: Train on the first of each row's ``negatives`` where the dataset has them.
        **plan_options: The other settings of :class:`~hf_hybrid.PlanConfig`: ``first``, ``then``,
            ``switch_step``, ``cross_pairing``, ``language_sampling``, ``temperature``, ``train_languages``,
            ``exclude_languages`` (held out: zero-shot), ``beta`` (the share of translation batches).

    Example:
        ::

            from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
            from hf_hybrid import HybridBatches, MultilingualRetrievalEvaluator, load_parallel

            data = load_parallel("sample")
            model = SentenceTransformer("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")
            batches = HybridBatches(data["train"], max_steps=100, alpha=0.5, batch_size=16)
            trainer = SentenceTransformerTrainer(
                model=model,
                args=batches.training_arguments("models/hybrid", learning_rate=3e-5),
                train_dataset=batches.train_dataset("models/hybrid/feed"),
                loss=batches.loss(model),
                evaluator=MultilingualRetrievalEvaluator(data["test"], name="sample-test"),
            )
            trainer.train()

    Attributes:
        config (PlanConfig): The plan's settings.
        plan (BatchPlan): The plan itself: ``plan.batch(step)`` is a step's global batch, ``plan.summary()``
            counts the steps of every kind.
        dataset (datasets.Dataset): The parallel dataset, validated.
        columns (list[str]): The train dataset's columns: the loss's inputs.
    """

    def __init__(self, dataset: Dataset, max_steps: int, *, strategy: str = "hybrid", alpha: float = 0.5,
                 batch_size: int = 32, seed: int = 42, use_negatives: bool = True, **plan_options):
        from hf_hybrid.data.schema import validate_parallel

        unknown = sorted(set(plan_options) - {f.name for f in dataclasses.fields(PlanConfig)})
        if unknown:
            raise TypeError(f"HybridBatches got unknown settings {unknown}; the plan's settings are "
                            f"{', '.join(f.name for f in dataclasses.fields(PlanConfig))}")
        if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
            raise UserError("max_steps", f"{max_steps!r} is not a positive number of steps", "use an integer >= 1")
        if dataset._indices is not None:  # the plan reads the Arrow table: make a filtered or shuffled view real
            dataset = dataset.flatten_indices()
        self.dataset = validate_parallel(dataset)
        self.config = PlanConfig(strategy=strategy, alpha=alpha, batch_size=batch_size, seed=seed, **plan_options)
        self.plan = BatchPlan(self.dataset, self.config, max_steps)
        self.columns = loss_columns(self.dataset, use_negatives)

    @property
    def max_steps(self) -> int:
        return self.plan.max_steps

    @property
    def batch_sampler(self):
        """The ``batch_sampler`` training argument: a factory of :class:`~hf_hybrid.PlanBatchSampler` bound to the
        global batch size (the trainer passes it the per-device one)."""
        return plan_batch_sampler(self.config.batch_size)

    def train_dataset(self, folder: str | Path) -> Dataset:
        """The ``train_dataset``: the plan's rows in batch order, ``max_steps × batch_size`` of them, with only
        the loss's columns (:attr:`columns`; with ``beta`` > 0 also ``dataset_name``, the batch kind, which picks
        the prompts and which the trainer removes before the loss).

        Texts are made from the plan when the trainer asks for them, so memory does not grow with the steps; on
        disk under ``folder`` are only the row numbers (8 bytes a row, one file per process in ``rank<i>/``),
        which you may delete once training has ended.

        Args:
            folder: Where the row numbers go.
        """
        feed = PlanFeed(self.dataset, self.plan, self.columns)
        return feed.dataset(Path(folder) / f"rank{accelerate_state().process_index}")

    def training_arguments(self, output_dir: str, **kwargs) -> SentenceTransformerTrainingArguments:
        """:class:`~sentence_transformers.SentenceTransformerTrainingArguments` with what the plan needs:
        ``max_steps``, the per-device batch size (global batch // number of processes), the plan's
        ``batch_sampler``, ``accelerator_config={"split_batches": True}``, ``dataloader_drop_last=True``; ``seed``
        and ``data_seed`` default to the plan's seed, ``use_cpu`` to "no CUDA here".

        Args:
            output_dir: The trainer's output folder (checkpoints, logs).
            **kwargs: Any other training argument (``learning_rate``, ``warmup_steps``, ``eval_strategy``,
                ``prompts``, ...). Column prompts (``{"anchor": "query: ", "positive": "passage: "}``) become one
                set per batch kind when the plan has translation batches, which pair two passages and so give both
                the query prompt. A setting that would break the plan (another batch size, sampler,
                ``max_steps``, ``split_batches=False``, gradient accumulation) is refused.
        """
        from sentence_transformers import SentenceTransformerTrainingArguments

        owned = plan_arguments(self.config.batch_size, accelerate_state().num_processes)
        owned["max_steps"] = self.max_steps
        split = owned.pop("accelerator_config")
        for name, needed in owned.items():  # a sampler of one's own cannot follow the plan, whatever it is
            if name in kwargs and (name == "batch_sampler" or kwargs[name] != needed):
                raise UserError(name, f"{kwargs[name]!r} does not fit the plan (it needs {needed!r})",
                                f"leave {name} out of training_arguments: the plan sets it")
        if kwargs.get("gradient_accumulation_steps", 1) != 1:
            raise UserError("gradient_accumulation_steps", f"{kwargs['gradient_accumulation_steps']}: every "
                            f"optimizer step would take that many steps of a plan of {self.max_steps}, which then "
                            "starts over", "leave it out and raise batch_size (CachedMultipleNegativesRankingLoss "
                            "saves memory)")
        accelerator_config = kwargs.pop("accelerator_config", None) or {}
        if not isinstance(accelerator_config, dict) or not accelerator_config.get("split_batches", True):
            raise UserError("accelerator_config", "every process must take its slice of the same global batch",
                            "pass accelerator_config as a dict without split_batches=False")
        prompts = kwargs.pop("prompts", None)
        if isinstance(prompts, dict) and all(isinstance(p, str) for p in prompts.values()):
            prompts = kind_prompts(prompts, self.config)
        seed = self.config.seed
        defaults = {"seed": seed, "data_seed": seed, "use_cpu": not torch.cuda.is_available()}
        return SentenceTransformerTrainingArguments(
            output_dir=str(output_dir), prompts=prompts, accelerator_config=accelerator_config | split,
            **(defaults | kwargs | owned))

    def loss(self, model: SentenceTransformer, **kwargs) -> MultipleNegativesRankingLoss:
        """The ``loss``: :class:`~sentence_transformers.sentence_transformer.losses.MultipleNegativesRankingLoss`
        (InfoNCE with in-batch negatives, the paper's objective) with ``gather_across_devices=True``: every query
        is ranked against the passages of the whole global batch, all processes together.

        Args:
            model: The model being trained.
            **kwargs: Other arguments of MultipleNegativesRankingLoss (``scale``, ``directions``, ...).
        """
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

        if not kwargs.pop("gather_across_devices", True):
            raise UserError("gather_across_devices", "without it the negatives are one process's slice",
                            "leave gather_across_devices out")
        return MultipleNegativesRankingLoss(model, gather_across_devices=True, **kwargs)

    def __repr__(self) -> str:
        return (f"HybridBatches({self.config.describe()}, batch_size={self.config.batch_size}, "
                f"max_steps={self.max_steps}, seed={self.config.seed}, columns={self.columns})")
