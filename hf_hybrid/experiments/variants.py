"""Variants of a grid's strategies: the '+' suffixes that change what a run trains on (``hybrid-0.5+mined``), and
the WiSE-FT rows evaluated from a finished run without retraining (``hybrid-0.5+wise0.5``).

Kept apart from :mod:`hf_hybrid.experiments.grid` (which runs the cells) because each variant is a small policy
of its own: which data a suffix trains on, how a WiSE-FT model is made from a finished run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from hf_hybrid.errors import UserError

if TYPE_CHECKING:
    from hf_hybrid.experiments.grid import Context


WISE = "+wise"  # a WiSE-FT row is its trained strategy's name, this, and α: ``hybrid-0.5+wise0.5``


def wise_label(strategy: str, alpha: float) -> str:
    return f"{strategy}{WISE}{alpha:g}"


# Strategy suffixes after '+': what each sets in :func:`strategy_options` (``hybrid-0.5+mined``).
# mined: negatives mined per language with the row's group excluded; generic: the group-blind ablation.
SUFFIXES = {"mined": ("negatives", "mined"), "generic": ("negatives", "generic")}


def strategy_options(name: str) -> dict:
    """The '+' suffixes of a strategy name as options (``hybrid-0.5+mined`` → ``{"negatives": "mined"}``)."""
    options = {}
    for suffix in name.split("+")[1:]:
        if suffix not in SUFFIXES:
            raise UserError("strategies", f"{name!r}: unknown suffix +{suffix}",
                            f"use one of {', '.join('+' + s for s in SUFFIXES)}")
        key, value = SUFFIXES[suffix]
        if key in options:
            raise UserError("strategies", f"{name!r} sets {key} twice", "keep one suffix per option")
        options[key] = value
    return options


def mined_data(ctx: Context, tag: str, mode: str) -> Path:
    """The training data with negatives mined by the base model (``mode``: mined or generic), once per
    experiment: cached under ``<experiment>/mined/``, keyed by the miner's settings, the data and the base model."""
    from hf_hybrid.mining import MineConfig
    from hf_hybrid.mining.cli import save
    from hf_hybrid.mining.mine import mine_dataset

    cfg = ctx.config
    mine_cfg = MineConfig(data=cfg.data, model=ctx.base_models[tag], generic=mode == "generic")
    key = json.dumps({"settings": mine_cfg.settings(), "data": cfg.data}, sort_keys=True, default=str)
    folder = cfg.folder / "mined" / f"{tag}-{mode}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if not (folder / "summary.json").exists():
        data, summary = mine_dataset(mine_cfg)
        save(str(folder), data, summary)
    return folder / "parallel"


def wise_ft_model(base: dict, tuned: Path | str, alpha: float):
    """WiSE-FT (Wortsman et al., 2022) of a finished run without retraining: (1-α)·base + α·fine-tuned, in memory
    (``base``: the base model's state dict)."""
    from hf_hybrid.models import load_model
    from hf_hybrid.training.tuning import interpolate

    model = load_model(str(tuned))
    interpolate(model, base, alpha)
    return model
