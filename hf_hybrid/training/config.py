"""``TrainConfig``: every setting of a run except the batch plan (:class:`~hf_hybrid.sampling.PlanConfig`).

One dataclass shared by the CLI flags, the YAML configs and the Python API (``hf_hybrid.config.parse``). The
defaults are the paper's set-up where it states one (arXiv 2408.10536: AdamW, lr 3e-5, weight decay 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from hf_hybrid.errors import UserError

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
                                                                       "document prompt: 'document', 'passage' "
                                                                       "or 'corpus', as encode_document)"})
    max_seq_length: int = field(default=128, metadata={"help": "truncate texts to this many tokens"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "trade compute for memory"})
    freeze_embeddings: bool = field(default=False, metadata={"help": "keep the token embedding matrix fixed: "
                                                                     "for 250k-piece vocabularies (XLM-R, E5) on CPU "
                                                                     "it is most of the weights and of a step's time"})
    freeze_layers: int = field(default=0, metadata={"help": "train only the top N transformer layers (and the "
                                                            "pooler / heads after them); 0: train every layer. "
                                                            "Backward stops at layer L-N: a CPU step costs less"})
    prefix_cache: bool = field(default=True, metadata={"help": "with freeze_layers N, compute the frozen lower "
                                                               "layers' hidden states of a text once, on disk, and "
                                                               "run only the top N layers at every step and in "
                                                               "scoring (hf_hybrid.frozen_prefix); false: recompute "
                                                               "them. LoRA adapts every layer: no frozen prefix"})
    prefix_cache_dir: str | None = field(default=None, metadata={"help": "folder of the frozen-prefix cache "
                                                                         "(default: $HF_HYBRID_PREFIX_CACHE, else "
                                                                         "~/.cache/hf_hybrid/frozen_prefix)"})
    lora_r: int = field(default=0, metadata={"help": "train LoRA adapters of this rank instead of the weights "
                                                     "(peft; 0: off)"})
    lora_alpha: float = field(default=16.0, metadata={"help": "LoRA scaling numerator (update = alpha/r * B A)"})
    lora_dropout: float = field(default=0.0, metadata={"help": "dropout on the LoRA branch's input"})
    lora_target_modules: list[str] = field(default_factory=list,
                                           metadata={"help": "linear layers that get adapters (default: peft's "
                                                             "choice for the architecture: query, value for "
                                                             "BERT / XLM-R)"})
    save_adapter: bool = field(default=False, metadata={"help": "LoRA: save the adapter (loads with peft "
                                                                "installed) instead of merged weights"})
    wise_ft: float = field(default=1.0, metadata={"help": "WiSE-FT: save (1-a)*base + a*fine-tuned weights "
                                                          "(a in [0, 1]; 1: the fine-tuned model) against "
                                                          "forgetting (Wortsman et al., 2022)"})
    precision: str = field(default="auto", metadata={"help": "auto (bf16 on GPUs that have it, fp16 on other "
                                                             "GPUs, fp32 on CPU) | bf16 | fp16 | fp32"})
    reset_optimizer_at_switch: bool = field(default=False, metadata={"help": "sequential: restart optimizer "
                                                                              "state and schedule at the switch"})
    save_steps: int = field(default=0, metadata={"help": "checkpoint every N steps (0: only the final model)"})
    save_total_limit: int = field(default=2, metadata={"help": "checkpoints kept"})
    resume: bool = field(default=False, metadata={"help": "resume an interrupted run of this config and data "
                                                          "from its last complete checkpoint"})
    overwrite_output_dir: bool = field(default=False, metadata={"help": "replace a finished run in output_dir "
                                                                        "(the old model stays until the new one "
                                                                        "is complete)"})
    logging_steps: int = field(default=10, metadata={"help": "log every N steps"})
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"],
                                 metadata={"help": "trackers (tensorboard, wandb, …, or none)"})
    eval_steps: int = field(default=0, metadata={"help": "evaluate on the dev split every N steps (0: never)"})
    eval_split: str = field(default="dev", metadata={"help": "split for periodic evaluation"})
    trace_batches: bool = field(default=False, metadata={"help": "write the texts each process trains on per "
                                                                 "step to <output_dir>/trace (for audits)"})
    push_to_hub: str | None = field(default=None, metadata={"help": "push the trained model to this Hub repo"})
    private: bool = field(default=False, metadata={"help": "create the Hub repo as private"})
    dry_run: bool = field(default=False, metadata={"help": "check everything that could fail after hours (data, "
                                                           "plan, model, output folder, processes, precision) and "
                                                           "print a summary, without training (hf-hybrid check)"})

    def validate(self) -> None:
        from hf_hybrid.config import check_types

        check_types(self)
        if self.loss not in LOSSES:
            raise UserError("loss", f"unknown loss {self.loss!r}", f"use one of {', '.join(LOSSES)}")
        if self.max_steps < 1:
            raise UserError("max_steps", f"{self.max_steps}", "train for at least one step")
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise UserError("precision", repr(self.precision), "use auto, bf16, fp16 or fp32")
        if self.precision in ("bf16", "fp16") and not torch.cuda.is_available():
            raise UserError("precision", f"{self.precision} needs a GPU and none is visible",
                            "use --precision auto (fp32 on CPU)")
        if self.resume and self.overwrite_output_dir:
            raise UserError("resume", "--resume and --overwrite_output_dir contradict each other",
                            "pass --resume to continue an interrupted run, or --overwrite_output_dir to replace a "
                            "finished one")


def precision_flags(precision: str) -> dict:
    """bf16 on GPUs that support it, fp16 on older GPUs, fp32 on CPU (``auto``)."""
    if precision == "auto":
        if not torch.cuda.is_available():
            return {}
        return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}
    return {"bf16": {"bf16": True}, "fp16": {"fp16": True}}.get(precision, {})
