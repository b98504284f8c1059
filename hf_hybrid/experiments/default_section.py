"""The report's section "Which row may become the default": issue 29's rule (:mod:`hf_hybrid.experiments.tradeoff`)
applied to every trained row, as a table and a one-sentence verdict."""

from __future__ import annotations

import math

from hf_hybrid.experiments.tradeoff import IN_DOMAIN_METRICS, ISSUE_29_RULE, DefaultRule, judge_defaults
from hf_hybrid.tables import md_table


def default_lines(model: dict, reference: str | None, h: str, rule: DefaultRule = ISSUE_29_RULE,
                   planned: int = 0) -> list[str]:
    """Issue 29's rule for a default (:mod:`hf_hybrid.experiments.tradeoff`) applied to every trained row: a table
    of what each loses in translation retrieval and keeps of the reference's in-domain gain, and the verdict."""
    verdicts = judge_defaults(model, reference, rule) if reference else []
    if not verdicts:
        return []
    columns = list(verdicts[0]["changes"])
    header = (["row", "seeds"] + [f"{suite} Δ {metric}" for suite, metric in columns]
              + [f"kept of the {metric} gain" for metric in IN_DOMAIN_METRICS] + ["meets the rule"])
    share = lambda k: "–" if k is None else f"{100 * k:.0f} %"  # noqa: E731
    rows = [[f"`{v['row']}`", str(v["seeds"])]
            + [f"{mean:+.4f}" + (f" ± {half:.4f}" if math.isfinite(half) else "") for mean, half in v["changes"].values()]
            + [share(v["kept"][m]) for m in IN_DOMAIN_METRICS] + ["**yes**" if v["passes"] else "no"]
            for v in verdicts]
    lines = [f"{h}## Which row may become the default", "",
             f"Issue 29's rule, on the mean over seeds: translation retrieval within {rule.tolerance:g} of the base on "
             f"every translation suite (Δ, ± the 95 % interval), and at least {100 * rule.keep:.0f} % of "
             f"`{reference}`'s in-domain gain over the base kept in {' and '.join(IN_DOMAIN_METRICS)} (in-domain "
             "suite, all languages).", "", *md_table(header, rows).splitlines(), ""]
    verdict = _verdict(verdicts, rule)
    if planned and (short := [v["row"] for v in verdicts if v["seeds"] < planned]):
        verdict += (f" The grid is unfinished: {len(short)} of these {len(verdicts)} rows have fewer than its "
                    f"{planned} seeds, so this is not yet the answer.")
    return lines + [verdict, ""]


def _verdict(verdicts: list[dict], rule: DefaultRule) -> str:
    """One sentence: the rows that meet the rule, or the nearest miss from each side."""
    passing = [f"`{v['row']}`" for v in verdicts if v["passes"]]
    if passing:
        return f"**Meets the rule: {', '.join(passing)}.**"
    kept = lambda v: min(k if k is not None else -math.inf for k in v["kept"].values())  # noqa: E731
    within = [v for v in verdicts if v["worst_change"] >= -rule.tolerance]
    keeping = [v for v in verdicts if kept(v) >= rule.keep]
    parts = ["**No row meets the rule.**"]
    if within:
        best = max(within, key=kept)
        parts.append(f"Of the rows within the tolerance, `{best['row']}` keeps the most of the in-domain gain "
                     f"({max(kept(best), 0) * 100:.0f} % at the least).")
    if keeping:
        best = max(keeping, key=lambda v: v["worst_change"])
        parts.append(f"Of the rows keeping {100 * rule.keep:.0f} % of it, `{best['row']}` loses the least "
                     f"translation mAP (worst Δ {best['worst_change']:+.4f}).")
    return " ".join(parts)
