"""The grid's settings: :class:`ExperimentConfig` (what a YAML file in ``configs/experiments/`` sets), the names
of its rows (strategies, the untrained baselines, the suffixes of :mod:`~hf_hybrid.experiments.variants`), and
:class:`Context`, what every run of one grid shares. Running the grid is :mod:`~hf_hybrid.experiments.grid`."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hf_hybrid.errors import UserError
from hf_hybrid.evaluation.suites import SUITES
from hf_hybrid.experiments.variants import (
    PLAN_OPTIONS,
    check_row_options,
    dev_label,
    strategy_options,
    wise_label,
)
from hf_hybrid.ranges import SEED, check_ranges

MINIATURE = "mlm"  # the model name that means "the miniature encoder pre-trained on this config's world"
# The base model evaluated as it is, without fine-tuning: the point every strategy starts from. Its runs are
# identical across seeds (kept per seed so the paired bootstrap pairs it like any other row).
BASE = "base"
# The lexical baseline (hf_hybrid.bm25): like the base, never trained and evaluated once for all seeds.
BM25 = "bm25"
UNTRAINED = (BASE, BM25)
PARALLEL_SUITE = "parallel"  # the name of the suite of the grid's own evaluation data (every run has it)
OWN_DATA_TASK = "parallel"  # in mteb_tasks: the grid's evaluation data as an MTEB retrieval task
DEFAULT_ROWS = ("base", "bm25", "mono", "cross", "hybrid-0.25", "hybrid-0.5", "hybrid-0.75", "seq-mono-cross",
              "seq-cross-mono", "mixed")
# Training options forwarded to every run's TrainConfig (which weights train: hf_hybrid.training.tuning).
TUNING = ("freeze_embeddings", "freeze_layers", "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules",
          "distill_weight", "train_side")
_STRATEGY = re.compile(r"^(mono|cross|mixed|base|bm25)$|^hybrid-(\d*\.?\d+)$|^seq-(mono|cross|mixed)-(mono|cross|mixed)$")


@dataclass
class ExperimentConfig:
    """A grid and its report. YAML files in ``configs/experiments/`` set any of these."""

    name: str = field(default="experiment", metadata={"help": "experiment name (folder under output_dir)",
                                                      "kind": "text"})
    title: str = field(default="", metadata={"help": "report title (default: the name)", "kind": "text"})
    output_dir: str = field(default="hf_hybrid_out/experiments", metadata={"help": "where grids are written",
                                                                           "kind": "output"})
    data: str = field(default="synthetic", metadata={"help": "parallel data source for training and evaluation "
                                                             "(synthetic:..., sample, a file, a Hub id)",
                                                     "kind": "source"})
    models: list[str] = field(default_factory=lambda: [MINIATURE],
                              metadata={"help": f"base models; '{MINIATURE}' = the miniature pre-trained on the "
                                                "synthetic world of `data`", "kind": "model"})
    strategies: list[str] = field(default_factory=lambda: list(DEFAULT_ROWS),
                                  metadata={"help": "mono, cross, mixed, hybrid-<alpha>, seq-<first>-<then>, "
                                                    "base (no fine-tuning), bm25 (lexical baseline); suffix "
                                                    "+mined / +generic: train on hard negatives mined by the base "
                                                    "model; remedies for forgetting: +distill<λ> (distill_weight), "
                                                    "+trans<β> (a share β of translation batches), +query (only "
                                                    "the query encoder trains), +lora<r> (LoRA of rank r in the "
                                                    "trained top layers), e.g. hybrid-0.5+distill100",
                                            "kind": "text"})
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2], metadata={"help": "seeds (>= 3 for intervals)",
                                                                          "range": SEED})
    reference: str = field(default="hybrid-0.5", metadata={"help": "the strategy tested against every other",
                                                           "kind": "text"})
    train_languages: list[str] | None = field(default=None, metadata={"help": "fine-tuning languages (synthetic "
                                                                              "default: the high-resource ones)",
                                                                      "kind": "text"})
    zero_shot: list[str] | None = field(default=None, metadata={"help": "languages reported as zero-shot "
                                                                        "(default: evaluated but never trained)",
                                                                "kind": "text"})
    max_steps: int = field(default=100, metadata={"help": "optimizer steps of every run",
                                                  "range": "[1, inf)"})
    batch_size: int = field(default=32, metadata={"help": "global batch size of every run",
                                                  "range": "[2, inf)",
                                                  "fix": "in-batch negatives need a batch size of at least 2"})
    learning_rate: float = field(default=5e-4, metadata={"help": "AdamW learning rate", "range": "(0, inf)"})
    warmup_ratio: float = field(default=0.1, metadata={"help": "share of warm-up steps", "range": "[0, 1]"})
    max_seq_length: int = field(default=32, metadata={"help": "tokens per text", "range": "[1, inf)"})
    use_negatives: bool = field(default=True, metadata={"help": "train with the data's hard negatives"})
    query_prompt: str | None = field(default=None, metadata={"help": "query prefix (default: the model's own)",
                                                             "kind": "text"})
    passage_prompt: str | None = field(default=None, metadata={"help": "passage prefix (default: the model's)",
                                                               "kind": "text"})
    eval_data: str = field(default="", metadata={"help": "parallel source of the LAReQA-style suite "
                                                         "(default: data)", "kind": "source"})
    eval_split: str = field(default="test", metadata={"help": "split of `data` evaluated", "kind": "text"})
    eval_groups: int = field(default=0, metadata={"help": "evaluate only the first N groups (0: all)",
                                                  "range": "[0, inf)",
                                                  "fix": "use 0 (all) or a number of groups"})
    suites: list[str] = field(default_factory=list, metadata={"help": "named suites also evaluated: xquad_r, "
                                                                      "mlqa_r, ciral, africlirmatrix",
                                                              "choices": tuple(SUITES)})
    africlirmatrix_dir: str | None = field(default=None, metadata={"help": "africlirmatrix: the release folder",
                                                                   "kind": "folder"})
    mteb_tasks: list[str] = field(default_factory=list, metadata={"help": "MTEB tasks or benchmarks also "
                                                                          "evaluated (e.g. BelebeleRetrieval, BEIR-NL; "
                                                                          f"'{OWN_DATA_TASK}': the evaluation data)",
                                                                  "kind": "text"})
    beir: list[str] = field(default_factory=list, metadata={"help": "BEIR folders or names also evaluated",
                                                            "kind": "text"})
    beir_pairs: bool = field(default=False, metadata={"help": "also export the evaluation split as BEIR folders per "
                                                               "language pair (<experiment>/beir_pairs) and score "
                                                               "them: nDCG@10, Recall@100"})
    freeze_embeddings: bool = field(default=False, metadata={"help": "keep the token embeddings fixed (see train)"})
    freeze_layers: int = field(default=0, metadata={"help": "train only the top N transformer layers (0: all)",
                                                    "range": "[0, inf)",
                                                    "fix": "use 0 (every layer) or a layer count"})
    lora_r: int = field(default=0, metadata={"help": "train LoRA adapters of this rank (0: off; saved merged)",
                                             "range": "[0, inf)", "fix": "use 0 (off) or a rank such as 8"})
    lora_alpha: float = field(default=16.0, metadata={"help": "LoRA scaling numerator", "range": "(0, inf)"})
    lora_dropout: float = field(default=0.0, metadata={"help": "LoRA dropout", "range": "[0, 1)"})
    lora_target_modules: list[str] = field(default_factory=list, metadata={"help": "LoRA layers (default: peft's)",
                                                                           "kind": "text"})
    distill_weight: float = field(default=0.0, metadata={"help": "every run: λ·MSE to the frozen base's embeddings "
                                                                 "beside MNRL (see train --distill_weight; a row's "
                                                                 "+distill<λ> overrides it); 0: off",
                                                         "range": "[0, inf)"})
    train_side: str = field(default="both", metadata={"help": "every run: both, or query (only the query encoder "
                                                              "trains; see train --train_side; a row's +query "
                                                              "sets it)", "choices": ("both", "query")})
    prefix_cache: bool = field(default=True, metadata={"help": "with freeze_layers, compute the frozen layers' "
                                                               "states of a text once for every run and scoring "
                                                               "pass of the grid (see train --prefix_cache)"})
    wise_ft: list[float] = field(default_factory=list,
                                 metadata={"help": "WiSE-FT α values at which every fine-tuned run is also evaluated, "
                                                   "without retraining: (1-α)·base + α·fine-tuned, reported as "
                                                   "<strategy>+wise<α> (e.g. hybrid-0.5+wise0.5)",
                                           "range": "[0, 1)",
                                           "fix": "list α values such as [0.5] (1 is the fine-tuned model itself, "
                                                  "always evaluated)"})
    wise_dev: bool = field(default=False, metadata={"help": "also report <strategy>+wise@dev: of the fine-tuned run "
                                                             "and its wise_ft averages, the largest α whose "
                                                             "translation retrieval on a dev set stays within "
                                                             "wise_dev_tolerance of the base (picked on held-out "
                                                             "data, never on the test sets)"})
    wise_dev_data: str = field(default="cldr_languages", metadata={
        "help": "wise_dev's dev set: cldr_languages (CLDR language names, disjoint from every test suite) or "
                "split:<name> (the queries of a held-out split of data)", "kind": "text"})
    wise_dev_tolerance: float = field(default=0.01, metadata={"help": "wise_dev: how far below the base's dev "
                                                                      "cross mAP and English -> low-resource mAP "
                                                                      "an α may fall (issue 29's 0.01)",
                                                              "range": "[0, 1]"})
    bootstrap: int = field(default=1000, metadata={"help": "bootstrap resamples for the significance test",
                                                   "range": "[100, inf)",
                                                   "fix": "use at least 100 resamples (1000 recommended)"})
    keep_models: bool = field(default=False, metadata={"help": "keep fine-tuned weights (off: delete after "
                                                               "evaluation, keep the training record)"})
    mlm_steps: int = field(default=300, metadata={"help": f"'{MINIATURE}': MLM pre-training steps",
                                                  "range": "[1, inf)"})
    mlm_sentences: int = field(default=3000, metadata={"help": f"'{MINIATURE}': sentences per language",
                                                       "range": "[1, inf)"})
    mlm_hidden_size: int = field(default=64, metadata={"help": f"'{MINIATURE}': encoder width",
                                                       "range": "[1, inf)"})
    mlm_layers: int = field(default=2, metadata={"help": f"'{MINIATURE}': transformer layers",
                                                 "range": "[1, inf)"})
    mlm_vocab_size: int = field(default=2000, metadata={"help": f"'{MINIATURE}': WordPiece vocabulary",
                                                        "range": "[1, inf)"})
    report: str = field(default="", metadata={"help": "report path (default: <output_dir>/<name>/report.md)",
                                              "kind": "output_file"})
    figures_dir: str = field(default="", metadata={"help": "figures folder (default: figures/ beside report)",
                                                   "kind": "output"})
    summary_copy: str = field(default="", metadata={"help": "also write summary.json here (e.g. docs/summaries/"
                                                             "<name>.json), so --combine can rebuild the report "
                                                             "without the run folders",
                                                    "kind": "output_file"})
    combine: list[str] = field(default_factory=list, metadata={"help": "instead of running: merge these finished "
                                                                      "experiment folders (or their summary "
                                                                      "files) into one report",
                                                               "kind": "path"})

    def validate(self) -> None:
        from hf_hybrid.config import check_types

        check_types(self)
        check_ranges(self)  # every range, choice and kind declared above
        for name in self.strategies:
            plan_settings(name)
        check_row_options(self)  # a row's +lora8 beside a grid-wide lora_r: one line, not a silent override
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise UserError("seeds", f"{self.seeds}", "give distinct seeds (>= 3 for confidence intervals)")
        if not self.models:
            raise UserError("models", "empty", f"give at least one base model, e.g. {MINIATURE}")
        if MINIATURE in self.models and not self.data.startswith("synthetic"):
            raise UserError("models", f"{MINIATURE!r} with data {self.data!r}",
                            "the miniature needs synthetic data; use data: synthetic:... or another model")
        for name in self.suites:
            if SUITES[name].needs_root and not getattr(self, f"{name}_dir", None):
                raise UserError(f"{name}_dir", "missing", f"give a local copy of the release ({SUITES[name].source})")
        if self.wise_dev and not self.wise_ft:
            raise UserError("wise_dev", "set without wise_ft α values to choose from", "add e.g. wise_ft: [0.25, 0.5, 0.75]")
        if self.reference not in self.rows():
            raise UserError("reference", repr(self.reference), f"use one of {self.rows()}")

    @property
    def folder(self) -> Path:
        return Path(self.output_dir) / self.name

    def rows(self) -> list[str]:
        """Every row of the report: the strategies, then each trained one at every WiSE-FT α."""
        return list(self.strategies) + [row for s in self.strategies if s not in UNTRAINED
                                        for row in self.variants(s)]

    def variants(self, strategy: str) -> list[str]:
        """The rows evaluated from one trained strategy's runs without retraining: WiSE-FT at each α, then the α
        picked on the dev set (:mod:`hf_hybrid.experiments.dev_merge`)."""
        if strategy in UNTRAINED:
            return []
        return [wise_label(strategy, a) for a in self.wise_ft] + ([dev_label(strategy)] if self.wise_dev else [])

    def run_fingerprint(self) -> str:
        """What makes two runs of one (model, strategy, seed) comparable: everything except the grid's extent
        (models, strategies, seeds) and the report/output locations."""
        skip = {"name", "title", "output_dir", "models", "strategies", "seeds", "reference", "report",
                "figures_dir", "summary_copy", "combine", "bootstrap", "keep_models", "mteb_tasks", "beir",
                "beir_pairs", "suites", "africlirmatrix_dir"}
        skip.update(("wise_ft", "wise_dev", "wise_dev_data", "wise_dev_tolerance"))  # variants of the same runs
        skip.add("prefix_cache")  # how fast, not what: cached and recomputed runs agree within 1e-5
        defaults = ExperimentConfig.__dataclass_fields__
        # Options at their default leave the fingerprint of grids made before the options existed unchanged.
        payload = {k: v for k, v in asdict(self).items() if k not in skip
                   and not (k in TUNING and v == (defaults[k].default_factory() if k == "lora_target_modules"
                                                  else defaults[k].default))}
        # Trained models are scored at their base's length since issue 29 (hf_hybrid.training.run.inference_length);
        # runs scored at the training's max_seq_length are not comparable with them, so they are never reused.
        payload["scored_at"] = "inference length"
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def plan_settings(name: str) -> dict:
    """Strategy name → :class:`~hf_hybrid.sampling.PlanConfig` fields (``hybrid-0.5`` → hybrid, alpha 0.5);
    ``base`` → ``{"strategy": "base"}`` and ``bm25`` → ``{"strategy": "bm25"}``, which are never trained.
    Suffixes after '+' are checked here and read by :func:`strategy_options`; those that set a plan field
    (``+trans0.2`` → ``beta``) are in the result."""
    options = {k: v for k, v in strategy_options(name).items() if k in PLAN_OPTIONS}
    return options | _base_plan_settings(name.split("+")[0])


def _base_plan_settings(name: str) -> dict:
    match = _STRATEGY.match(name)
    if not match:
        raise UserError("strategies", f"unknown strategy {name!r}",
                        "use mono, cross, mixed, hybrid-<alpha> (e.g. hybrid-0.5), seq-<first>-<then> "
                        "(e.g. seq-mono-cross), base (no fine-tuning) or bm25 (lexical baseline)")
    single, alpha, first, then = match.groups()
    if single:
        return {"strategy": single}
    if alpha is not None:
        if not 0 <= float(alpha) <= 1:
            raise UserError("strategies", f"{name!r}: alpha {alpha} is outside [0, 1]", "use e.g. hybrid-0.5")
        return {"strategy": "hybrid", "alpha": float(alpha)}
    if first == then:
        raise UserError("strategies", f"{name!r} switches to the same kind", f"use {first} instead")
    return {"strategy": "sequential", "first": first, "then": then}


def model_tag(model: str) -> str:
    """A folder name for a base model (``intfloat/multilingual-e5-small`` → ``intfloat--multilingual-e5-small``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "--", Path(model).name if Path(model).exists() else model).strip("-")


@dataclass
class Context:
    """What every run of one grid shares: the resolved base models, evaluation data and language levels."""

    config: ExperimentConfig
    base_models: dict[str, str]  # tag → local folder or Hub id
    eval_data: object  # datasets.Dataset
    train_languages: list[str]
    levels: dict[str, str]  # language → high | low | zero-shot
    pretrain_record: dict | None = None
