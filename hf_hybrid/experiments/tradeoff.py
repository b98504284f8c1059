"""The trade-off a fine-tuned retriever makes, read from a grid's summary: what it gains in-domain over its base
against the translation retrieval it loses (issue 29), and which row, if any, may become the default.

The figure (:mod:`hf_hybrid.experiments.figures`) and the report (:mod:`hf_hybrid.experiments.markdown`) both read
these numbers; they live here so that neither imports the other.

**The default rule** (issue 29, item 4). A row may become the quickstart's and the recipes' default when, on the mean
over seeds,

1. its translation retrieval stays within ``tolerance`` (0.01) of the base's on every translation suite, in cross mAP
   and in English → low-resource mAP (the two columns of the trade-off figure), and
2. it keeps at least ``keep`` (80 %) of the reference's (``hybrid-0.5``) in-domain gain over the base in cross mAP and
   in multi mAP: ``gain(row) / gain(reference)``.

Means, not interval bounds: the rule is the issue's, stated on the averages a user reads in the tables; the
intervals are printed beside them so that a pass by a hair can be seen as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from hf_hybrid.experiments.config import BASE, PARALLEL_SUITE, UNTRAINED
from hf_hybrid.experiments.stats import mean_ci

# The translation-retrieval suites whose loss the trade-off plots (what fine-tuning forgets).
TRANSLATION_SUITES = ("translation_howto", "translation_cldr")
IN_DOMAIN_METRICS = ("cross.map", "multi.map")
TRANSLATION_METRICS = ("cross.map", "en_to_low.map")


def tradeoff_suites(model: dict) -> list[str]:
    """The translation suites the trade-off reads for ``model`` (those with an untuned base row, beside an in-domain
    suite with one); empty when there is no trade-off to show."""
    suites = model["suites"]
    if BASE not in suites.get(PARALLEL_SUITE, {}).get("table", {}):
        return []
    return [name for name in TRANSLATION_SUITES if BASE in suites.get(name, {}).get("table", {})]


def gain(model: dict, suite: str, metric: str, row: str) -> tuple[float, float]:
    """``row`` − the untuned base on ``metric`` (all languages), mean and 95 % Student-t half-width over seeds; a
    seed's difference is against the base's run of the same seed where there is one (else the base's mean)."""
    table, seeds = model["suites"][suite]["table"], model["seeds"]
    base = dict(zip(seeds[BASE], table[BASE]["all"][metric]["values"], strict=True))
    base_mean = table[BASE]["all"][metric]["mean"]
    values = zip(seeds[row], table[row]["all"][metric]["values"], strict=True)
    return mean_ci([v - (base.get(s) if base.get(s) is not None else base_mean) for s, v in values if v is not None])


def translation_columns(model: dict) -> list[tuple[str, str]]:
    """(suite, metric) of every translation change the trade-off reads."""
    suites = model["suites"]
    return [(name, m) for name in tradeoff_suites(model) for m in TRANSLATION_METRICS
            if m in suites[name]["table"][BASE]["all"]]


def trained_rows(model: dict) -> list[str]:
    """The rows with a trade-off to show: trained (not the base, not BM25) and scored on every translation suite."""
    columns = translation_columns(model)
    return [s for s in model["suites"][PARALLEL_SUITE]["table"] if s not in UNTRAINED
            and all(s in model["suites"][name]["table"] for name, _ in columns)]


@dataclass(frozen=True)
class DefaultRule:
    """Issue 29's bar for a default (module docstring)."""

    tolerance: float = 0.01  # the most translation mAP a default may lose against the base
    keep: float = 0.8  # the least share of the reference's in-domain gain it must keep


ISSUE_29_RULE = DefaultRule()


def judge_defaults(model: dict, reference: str, rule: DefaultRule = ISSUE_29_RULE) -> list[dict]:
    """Every trained row against the rule: its translation changes ``{(suite, metric): (mean, half-width)}``, the
    share of the reference's in-domain gain it keeps per metric (None where the reference gained nothing), its worst
    translation change, and whether it ``passes``. Empty when the model has no trade-off or no reference row."""
    rows, columns = trained_rows(model), translation_columns(model)
    if not columns or reference not in rows:
        return []
    reference_gain = {m: gain(model, PARALLEL_SUITE, m, reference)[0] for m in IN_DOMAIN_METRICS}
    verdicts = []
    for row in rows:
        changes = {(suite, m): gain(model, suite, m, row) for suite, m in columns}
        kept = {m: (gain(model, PARALLEL_SUITE, m, row)[0] / reference_gain[m] if reference_gain[m] > 0 else None)
                for m in IN_DOMAIN_METRICS}
        worst = min(mean for mean, _ in changes.values())
        verdicts.append({"row": row, "seeds": len(model["seeds"][row]), "changes": changes, "kept": kept,
                         "worst_change": worst,
                         "passes": worst >= -rule.tolerance and all(k is not None and k >= rule.keep
                                                                    for k in kept.values())})
    return verdicts
