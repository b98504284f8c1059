"""WiSE-FT with α picked on held-out data, never on the test sets (issue 29: "merging chosen on held-out data").

For each fine-tuned run of a grid with ``wise_dev``, the candidates are the run itself (α = 1) and its WiSE-FT
averages at the grid's ``wise_ft`` values. Each is scored on a dev translation set that no test suite contains
(default: CLDR *language* names, human-vetted short translations, disjoint from the CLDR *territory* names of the
``translation_cldr`` suite). The rule follows the bar issue 29 sets for a default remedy: the **largest α whose dev
translation retrieval stays within ``wise_dev_tolerance`` of the base's on cross mAP and on English → low-resource
mAP**, because the in-domain gain grows with α (the α curves in ``docs/results.md``); when no α stays within it, the
α whose worst drop is smallest. The row ``<strategy>+wise@dev`` then reports, on the test suites, the candidate it
picked: the same scores as that candidate's own row, with the choice and the dev scores in its settings.

LM-Cocktail (Xiao et al., arXiv 2311.13534) picks merge weights on a few dev examples the same way; with one
fine-tuned model and its base, its weights are WiSE-FT's α.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from hf_hybrid.atomic import write_text
from hf_hybrid.errors import UserError

if TYPE_CHECKING:
    from hf_hybrid.evaluation.translation import TranslationSet
    from hf_hybrid.experiments.config import Context

CLDR_LANGUAGES = "cldr_languages"
SPLIT = "split:"  # ``split:dev``: the queries of that split of the grid's data, as translations of one another
DEV_METRICS = ("cross.map", "en_to_low.map")  # all pairs, and English into the low-resource languages


def worst_change(base: dict[str, float], scores: dict[str, float]) -> float:
    """The largest drop against the base over :data:`DEV_METRICS` (those the base has a number for): a candidate
    is as good as its worst metric, since the loss hides in English → low-resource while cross mAP rises."""
    metrics = [m for m in DEV_METRICS if isinstance(base.get(m), float) and base[m] == base[m]]  # not NaN
    return min(scores[m] - base[m] for m in metrics)


def choose_alpha(base: dict[str, float], scores: dict[float, dict[str, float]], tolerance: float) -> float:
    """The largest α whose worst dev change is at least ``−tolerance``; else the α of the smallest worst drop (the
    larger α on a tie)."""
    change = {alpha: worst_change(base, metrics) for alpha, metrics in scores.items()}
    within = [alpha for alpha, value in change.items() if value >= -tolerance]
    if within:
        return max(within)
    return max(change, key=lambda alpha: (change[alpha], alpha))


def dev_set(ctx: Context) -> TranslationSet:
    """The grid's dev translation set (``wise_dev_data``), over the evaluated languages."""
    return build_dev_set(ctx.config, sorted(ctx.levels))


def build_dev_set(cfg, languages: list[str]) -> TranslationSet:
    """The dev translation set of ``cfg`` (an ``ExperimentConfig``) over ``languages``; also what ``hf-hybrid
    check`` builds before any training."""
    from hf_hybrid.evaluation.translation import from_cldr_languages, from_parallel

    if cfg.wise_dev_data == CLDR_LANGUAGES:
        from babel.core import UnknownLocaleError

        try:
            return from_cldr_languages(languages)
        except UnknownLocaleError as err:  # a language CLDR does not know (e.g. the synthetic qaa ... qah)
            raise UserError("wise_dev_data", f"CLDR has no names in {languages} ({err})",
                            f"use {SPLIT}<split> (the queries of a held-out split of the data)") from None
    if cfg.wise_dev_data.startswith(SPLIT):
        from hf_hybrid.data import load_parallel

        split = cfg.wise_dev_data[len(SPLIT):]
        data = load_parallel(cfg.data)
        if split not in data or split in ("train", cfg.eval_split):
            raise UserError("wise_dev_data", f"{cfg.wise_dev_data!r}: {cfg.data!r} has splits {', '.join(data)}",
                            "name a held-out split that is neither trained on nor the evaluated one, e.g. split:dev")
        return from_parallel(data[split], column="query", name=f"{split} queries (dev)", source=cfg.data)
    raise UserError("wise_dev_data", repr(cfg.wise_dev_data), f"use {CLDR_LANGUAGES} or {SPLIT}<split>")


def dev_score(ctx: Context, model, tset: TranslationSet) -> dict[str, float]:
    """:data:`DEV_METRICS` of translation retrieval on the dev set; the model runs its top layers on the grid's
    shared frozen prefix, as in :func:`hf_hybrid.experiments.scoring.evaluate_run`."""
    from hf_hybrid.evaluation.translation import evaluate_translation
    from hf_hybrid.frozen_prefix import prefix_depth, served_prefix
    from hf_hybrid.models import load_model

    cfg = ctx.config
    model = load_model(str(model)) if isinstance(model, str | Path) else model
    depth = prefix_depth(model, cfg.freeze_layers) if cfg.prefix_cache else 0
    with served_prefix(model, depth):
        metrics = evaluate_translation(model, tset, resource_levels=ctx.levels)["metrics"]
    return {m: metrics[m] for m in DEV_METRICS if m in metrics}


def base_dev_score(ctx: Context, tag: str, tset: TranslationSet) -> dict[str, float]:
    """The base's dev scores, computed once per grid and base model (``<experiment>/dev/<tag>.json``)."""
    path = ctx.config.folder / "dev" / f"{tag}.json"
    if path.is_file():
        stored = json.loads(path.read_text())
        if stored.get("fingerprint") == tset.fingerprint() and "metrics" in stored:
            return stored["metrics"]
    scores = dev_score(ctx, ctx.base_models[tag], tset)
    write_text(path, json.dumps({"set": tset.name, "fingerprint": tset.fingerprint(), "metrics": scores}))
    return scores
