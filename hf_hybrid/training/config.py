"""``TrainConfig``: every setting of a run except the batch plan (:class:`~hf_hybrid.sampling.PlanConfig`).

One dataclass shared by the CLI flags, the YAML configs and the Python API (``hf_hybrid.config.parse``). The
defaults are the paper's set-up where it states one (arXiv 2408.10536: AdamW, lr 3e-5, weight decay 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from hf_hybrid.errors import UserError

LOSSES = ("mnrl", "cached_mnrl")
TRAIN_SIDES = ("both", "query")
SCHEDULES = ("linear", "cosine", "constant_with_warmup")  # the shapes hf_hybrid.training.schedule draws
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
# transformers' report_to values (INTEGRATION_TO_CALLBACK, whose import takes seconds; tests/test_ranges.py compares)
TRACKERS = ("none", "all", "azure_ml", "clearml", "codecarbon", "comet_ml", "dagshub", "dvclive", "flyte", "kubeflow",
            "mlflow", "neptune", "swanlab", "tensorboard", "trackio", "wandb")


@dataclass
class TrainConfig:
    """Everything about a run except the batch plan (see :class:`~hf_hybrid.sampling.PlanConfig`)."""

    model: str = field(default="intfloat/multilingual-e5-small",
                       metadata={"help": "base model: Hub id or local folder (offline: see `hf-hybrid models`)",
                                 "kind": "model"})
    data: str = field(default="sample", metadata={"help": "training data source (see `hf-hybrid build --help`)",
                                                  "kind": "source"})
    output_dir: str = field(default="hf_hybrid_out/model", metadata={"help": "the trained model folder",
                                                                     "kind": "output"})
    max_steps: int = field(default=100, metadata={"help": "optimizer steps (same for every strategy)",
                                                  "range": "[1, inf)", "fix": "train for at least one step"})
    learning_rate: float = field(default=3e-5, metadata={"help": "AdamW learning rate (the paper: 3e-5)",
                                                         "range": "(0, inf)",
                                                         "fix": "use e.g. 3e-5 (the paper)"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay (the paper: 0.01)",
                                                        "range": "[0, inf)"})
    warmup_ratio: float = field(default=0.1, metadata={"help": "share of steps of linear warm-up",
                                                       "range": "[0, 1]"})
    lr_scheduler_type: str = field(default="linear", metadata={"help": "linear | cosine | constant_with_warmup",
                                                               "choices": SCHEDULES})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping",
                                                        "range": "[0, inf)",
                                                        "fix": "use e.g. 1.0, or 0 for none"})
    loss: str = field(default="mnrl", metadata={"help": "mnrl (MultipleNegativesRankingLoss) or cached_mnrl "
                                                        "(GradCache, for batches larger than memory)",
                                                "choices": LOSSES})
    mini_batch_size: int = field(default=32, metadata={"help": "cached_mnrl: mini-batch size",
                                                       "range": "[1, inf)"})
    scale: float = field(default=20.0, metadata={"help": "similarity scale (1 / temperature)",
                                                 "range": "(0, inf)"})
    symmetric: bool = field(default=False, metadata={"help": "also rank queries given passages"})
    use_negatives: bool = field(default=True, metadata={"help": "use hard negatives where the data has them"})
    query_prompt: str | None = field(default=None, metadata={"help": "query prefix (default: the model's "
                                                                     "'query' prompt, e.g. E5's 'query: ')",
                                                             "kind": "text"})
    passage_prompt: str | None = field(default=None, metadata={"help": "passage prefix (default: the model's "
                                                                       "document prompt: 'document', 'passage' "
                                                                       "or 'corpus', as encode_document)",
                                                               "kind": "text"})
    max_seq_length: int = field(default=128, metadata={"help": "truncate texts to this many tokens",
                                                       "range": "[1, inf)"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "trade compute for memory"})
    freeze_embeddings: bool = field(default=False, metadata={"help": "keep the token embedding matrix fixed: "
                                                                     "for 250k-piece vocabularies (XLM-R, E5) on CPU "
                                                                     "it is most of the weights and of a step's time"})
    freeze_layers: int = field(default=0, metadata={"help": "train only the top N transformer layers (and the "
                                                            "pooler / heads after them); 0: train every layer. "
                                                            "Backward stops at layer L-N: a CPU step costs less. "
                                                            "With lora_r: LoRA adapters in those N layers only",
                                                    "range": "[0, inf)",
                                                    "fix": "use 0 (every layer) or a layer count"})
    prefix_cache: bool = field(default=True, metadata={"help": "with freeze_layers N, compute the frozen lower "
                                                               "layers' hidden states of a text once, on disk, and "
                                                               "run only the top N layers at every step and in "
                                                               "scoring (hf_hybrid.frozen_prefix); false: recompute "
                                                               "them. Also with lora_r (adapters in the top N "
                                                               "layers only); plain LoRA has no frozen prefix"})
    prefix_cache_dir: str | None = field(default=None, metadata={"help": "folder of the frozen-prefix cache "
                                                                         "(default: $HF_HYBRID_PREFIX_CACHE, else "
                                                                         "~/.cache/hf_hybrid/frozen_prefix)",
                                                                 "kind": "output"})
    lora_r: int = field(default=0, metadata={"help": "train LoRA adapters of this rank instead of the weights "
                                                     "(peft; 0: off). Every layer is adapted (no frozen prefix "
                                                     "for prefix_cache), or with freeze_layers N only the top N "
                                                     "(the lower layers are cached as without LoRA)",
                                             "range": "[0, inf)", "fix": "use 0 (off) or a rank such as 8"})
    lora_alpha: float = field(default=16.0, metadata={"help": "LoRA scaling numerator (update = alpha/r * B A)",
                                                      "range": "(0, inf)",
                                                      "fix": "use a positive scaling, e.g. 16"})
    lora_dropout: float = field(default=0.0, metadata={"help": "dropout on the LoRA branch's input",
                                                       "range": "[0, 1)", "fix": "use e.g. 0.0 or 0.1"})
    lora_target_modules: list[str] = field(default_factory=list,
                                           metadata={"help": "linear layers that get adapters (default: peft's "
                                                             "choice for the architecture: query, value for "
                                                             "BERT / XLM-R)", "kind": "text"})
    save_adapter: bool = field(default=False, metadata={"help": "LoRA: save the adapter (loads with peft "
                                                                "installed) instead of merged weights"})
    wise_ft: float = field(default=1.0, metadata={"help": "WiSE-FT: save (1-a)*base + a*fine-tuned weights "
                                                          "(a in [0, 1]; 1: the fine-tuned model) against "
                                                          "forgetting (Wortsman et al., 2022)",
                                                  "range": "[0, 1]",
                                                  "fix": "use e.g. 0.5 (half-way to the base) or 1 (off)"})
    distill_weight: float = field(default=0.0, metadata={"help": "against forgetting: add λ·MSE(embedding, the "
                                                                 "frozen base's embedding) of the batch's anchors "
                                                                 "and positives to MNRL (Reimers & Gurevych, EMNLP "
                                                                 "2020; sentence-transformers' MSELoss, a mean over "
                                                                 "coordinates: (2-2cos)/dim for unit vectors, so λ "
                                                                 "of the order of the dimension weighs a unit of "
                                                                 "squared distance like MNRL); 0: off",
                                                         "range": "[0, inf)"})
    train_side: str = field(default="both", metadata={"help": "both | query: train only the query encoder, "
                                                              "against forgetting (Vasilyev et al., arXiv "
                                                              "2407.00923); documents are encoded by the frozen "
                                                              "base, in training and in the saved model (a "
                                                              "sentence-transformers Router: encode_query uses the "
                                                              "trained weights, encode_document the base's)",
                                                      "choices": TRAIN_SIDES})
    precision: str = field(default="auto", metadata={"help": "auto (bf16 on GPUs that have it, fp16 on other "
                                                             "GPUs, fp32 on CPU) | bf16 | fp16 | fp32",
                                                     "choices": PRECISIONS})
    reset_optimizer_at_switch: bool = field(default=False, metadata={"help": "sequential: restart optimizer "
                                                                              "state and schedule at the switch"})
    save_steps: int = field(default=0, metadata={"help": "checkpoint every N steps (0: only the final model)",
                                                 "range": "[0, inf)",
                                                 "fix": "use 0 (no checkpoints) or a step count"})
    save_total_limit: int = field(default=2, metadata={"help": "checkpoints kept",
                                                       "range": "[0, inf)",
                                                       "fix": "use the number of checkpoints to keep (0: all)"})
    resume: bool = field(default=False, metadata={"help": "resume an interrupted run of this config and data "
                                                          "from its last complete checkpoint"})
    overwrite_output_dir: bool = field(default=False, metadata={"help": "replace a finished run in output_dir "
                                                                        "(the old model stays until the new one "
                                                                        "is complete)"})
    logging_steps: int = field(default=10, metadata={"help": "log every N steps", "range": "[1, inf)"})
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"],
                                 metadata={"help": "trackers (tensorboard, wandb, …, or none)",
                                           "choices": TRACKERS})
    eval_steps: int = field(default=0, metadata={"help": "evaluate on the dev split every N steps (0: never)",
                                                 "range": "[0, inf)",
                                                 "fix": "use 0 (never) or a step count"})
    eval_split: str = field(default="dev", metadata={"help": "split for periodic evaluation", "kind": "text"})
    trace_batches: bool = field(default=False, metadata={"help": "write the texts each process trains on per "
                                                                 "step to <output_dir>/trace (for audits)"})
    push_to_hub: str | None = field(default=None, metadata={"help": "push the trained model to this Hub repo",
                                                            "kind": "repo_id"})
    private: bool = field(default=False, metadata={"help": "create the Hub repo as private"})
    dry_run: bool = field(default=False, metadata={"help": "check everything that could fail after hours (data, "
                                                           "plan, model, output folder, processes, precision) and "
                                                           "print a summary, without training (hf-hybrid check)"})

    @property
    def caches_prefix(self) -> bool:
        """Whether the run reads its frozen layers back from the frozen-prefix cache: ``freeze_layers`` leaves a
        frozen prefix (also with LoRA, which then adapts only the top layers) and ``prefix_cache`` is on."""
        return bool(self.prefix_cache and self.freeze_layers)

    def validate(self) -> None:
        from hf_hybrid.config import check_types
        from hf_hybrid.ranges import check_ranges

        check_types(self)
        check_ranges(self)  # every range and choice declared above
        if self.precision in ("bf16", "fp16") and not torch.cuda.is_available():
            raise UserError("precision", f"{self.precision} needs a GPU and none is visible",
                            "use --precision auto (fp32 on CPU)")
        if self.distill_weight and self.loss != "mnrl":
            raise UserError("distill_weight", f"needs --loss mnrl, not {self.loss}",
                            "use --loss mnrl (GradCache does not keep the embeddings the distillation term needs)")
        if self.train_side == "query" and self.loss != "mnrl":
            raise UserError("train_side", f"query needs --loss mnrl, not {self.loss}",
                            "use --loss mnrl (the documents' base embeddings are computed once, without GradCache)")
        if self.train_side == "query" and self.save_adapter:
            raise UserError("train_side", "query with --save_adapter", "drop --save_adapter: a query-side model is "
                            "saved as two encoders behind a Router, the query one with merged LoRA weights")
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
