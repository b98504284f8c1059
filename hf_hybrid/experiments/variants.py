"""Variants of a grid's strategies: the '+' suffixes that change what a run trains on (``hybrid-0.5+mined``) or how
(the remedies for forgetting: ``hybrid-0.5+distill100``, ``hybrid-0.5+trans0.2``, ``hybrid-0.5+lora8``), and the
WiSE-FT rows evaluated from a finished run without retraining (``hybrid-0.5+wise0.5``).

Kept apart from :mod:`hf_hybrid.experiments.grid` (which runs the cells) because each variant is a small policy
of its own: which data a suffix trains on, how a WiSE-FT model is made from a finished run.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from hf_hybrid.errors import UserError

WISE = "+wise"  # a WiSE-FT row is its trained strategy's name, this, and α: ``hybrid-0.5+wise0.5``


def wise_label(strategy: str, alpha: float) -> str:
    return f"{strategy}{WISE}{alpha:g}"


DEV = f"{WISE}@dev"  # the row of a strategy's WiSE-FT with α picked on a dev set (hf_hybrid.experiments.dev_merge)


def dev_label(strategy: str) -> str:
    return f"{strategy}{DEV}"


# Strategy suffixes after '+': what each sets in :func:`strategy_options` (``hybrid-0.5+mined``).
# mined: negatives mined per language with the row's group excluded; generic: the group-blind ablation.
# query: only the query encoder trains (TrainConfig.train_side, Vasilyev et al., arXiv 2407.00923).
SUFFIXES = {"mined": ("negatives", "mined"), "generic": ("negatives", "generic"), "query": ("train_side", "query")}
# Suffixes with a number (``+distill100``): the setting each sets, the number's type, and its valid values (issue
# 29's remedies). distill: TrainConfig.distill_weight λ (MSE to the frozen base beside MNRL); trans: PlanConfig.beta,
# the share of translation batches; lora: TrainConfig.lora_r, LoRA of that rank in the grid's top freeze_layers
# layers instead of training them ("LoRA learns less and forgets less", Biderman et al. 2024, arXiv 2405.09673);
# lr: TrainConfig.learning_rate for this row only (LoRA is usually trained at about 10x a full fine-tune's rate, so
# ``+lora8+lr1e-3`` beside rows at the grid's 1e-4 compares LoRA as it is used, not LoRA at the full-FT rate).
NUMBERED = {"distill": ("distill_weight", float, "λ > 0, e.g. +distill100", lambda x: 0 < x < math.inf),
            "trans": ("beta", float, "a share in (0, 1], e.g. +trans0.2", lambda x: 0 < x <= 1),
            "lora": ("lora_r", int, "an integer rank ≥ 1, e.g. +lora8", lambda x: x >= 1),
            "lr": ("learning_rate", float, "a rate in (0, 1), e.g. +lr1e-3", lambda x: 0 < x < 1)}
_NUMBERED = re.compile(r"^(" + "|".join(NUMBERED) + r")(\d*\.?\d+(?:e[+-]?\d+)?)$")
PLAN_OPTIONS = ("beta",)  # options that are PlanConfig fields
TRAIN_OPTIONS = ("distill_weight", "train_side", "lora_r", "learning_rate")  # options that are TrainConfig fields
# Options a row may not set beside a grid-wide value: a grid-wide lora_r makes every row LoRA, so a +lora row would
# compare LoRA with LoRA (a row's +distill / +query replace the grid's value on purpose: docs/cli.md).
GRID_OR_ROW = ("lora_r",)


def _suffix(name: str, suffix: str) -> tuple[str, object]:
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    match = _NUMBERED.match(suffix)
    if match:
        key, kind, valid, ok = NUMBERED[match.group(1)]
        try:
            value = kind(match.group(2))
        except ValueError:  # int("2.5")
            value = None
        if value is None or not ok(value):
            raise UserError("strategies", f"{name!r}: +{suffix} is outside its range", f"use {valid}")
        return key, value
    known = [f"+{s}" for s in SUFFIXES] + [f"+{s}<number>" for s in NUMBERED]
    raise UserError("strategies", f"{name!r}: unknown suffix +{suffix}", f"use one of {', '.join(known)}")


def strategy_options(name: str) -> dict:
    """The '+' suffixes of a strategy name as options (``hybrid-0.5+mined+distill100`` → ``{"negatives": "mined",
    "distill_weight": 100.0}``)."""
    options = {}
    for suffix in name.split("+")[1:]:
        key, value = _suffix(name, suffix)
        if key in options:
            raise UserError("strategies", f"{name!r} sets {key} twice", "keep one suffix per option")
        options[key] = value
    return options


def train_options(name: str) -> dict:
    """The suffixes' TrainConfig settings (``+distill100+query`` → ``{"distill_weight": 100.0, "train_side":
    "query"}``)."""
    return {k: v for k, v in strategy_options(name).items() if k in TRAIN_OPTIONS}


def check_row_options(cfg) -> None:
    """A grid (:class:`~hf_hybrid.experiments.config.ExperimentConfig`) whose rows set an option of
    :data:`GRID_OR_ROW` that the grid sets for every run: a one-line error, not a row that silently overrides it."""
    for name in cfg.strategies:
        for key in GRID_OR_ROW:
            if getattr(cfg, key) and key in strategy_options(name):
                raise UserError(key, f"{getattr(cfg, key)} for every run, and the row {name!r} sets its own",
                                f"set {key} either grid-wide or per row (e.g. +lora8), not both")


def wise_ft_model(base: dict, tuned: Path | str, alpha: float):
    """WiSE-FT (Wortsman et al., 2022) of a finished run without retraining: (1-α)·base + α·fine-tuned, in memory
    (``base``: the base model's state dict). Of a query-side model (``+query``), the query encoder: its document
    encoder is the base already."""
    from hf_hybrid.models import load_model
    from hf_hybrid.training.query_side import as_query_route, is_query_side
    from hf_hybrid.training.tuning import interpolate

    model = load_model(str(tuned))
    interpolate(model, as_query_route(base) if is_query_side(model) else base, alpha)
    return model
