"""The report's words, generated from an experiment's summary (no number typed by hand).

Issue 19 asks the report to *say* where hybrid batches win and where sequential or cross-only training wins, by
how much and with what significance, on the held-out groups of the training source (in-domain) and on a second
set (out-of-domain) separately, and where the two disagree; what fine-tuning costs on another task (translation
retrieval: forgetting) and what the WiSE-FT remedy gives back; and why two set-ups can rank the strategies
differently. Each function here turns one of those questions into sentences from the summary's tables, so a rerun
rewrites the words with the numbers.

Significance is the paired bootstrap over query groups (:mod:`hf_hybrid.experiments.stats`), which the grid keeps
for the in-domain suite only, Holm-corrected within each family (:func:`~hf_hybrid.experiments.stats.family_of`:
one strategy against all its baselines in one setting × level cell): "significantly" means the Holm-adjusted
p < 0.05, and a raw p < 0.05 that does not survive the correction is said so. On the other suites a difference is
called clear only when the two strategies' 95 % seed intervals do not overlap.
"""

from __future__ import annotations

import math

from hf_hybrid.experiments.config import BASE, BM25, PARALLEL_SUITE, UNTRAINED, plan_settings
from hf_hybrid.experiments.variants import WISE

# The cells the issue asks about first: low-resource and zero-shot languages queried cross-lingually.
HEADLINE = (("cross", "low"), ("cross", "zero-shot"), ("multi", "all"), ("mono", "all"))


def _names(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def _means(table: dict, subset: str, metric: str) -> dict[str, float]:
    cells = {s: t[subset][metric]["mean"] for s, t in table.items() if subset in t and metric in t[subset]}
    return {s: v for s, v in cells.items() if v is not None and math.isfinite(v)}


def _trained(strategy: str) -> bool:
    return strategy not in UNTRAINED and WISE not in strategy


def model_findings(summary: dict, tag: str) -> list[str]:
    """Every finding for one model of one experiment, in-domain first."""
    return (alignment_finding(summary, tag) + in_domain_findings(summary, tag) + negatives_findings(summary, tag)
            + lexical_finding(summary, tag) + out_of_domain_findings(summary, tag) + forgetting_findings(summary, tag))


def alignment_finding(summary: dict, tag: str) -> list[str]:
    """How aligned the untuned base already is: its cross-lingual mAP as a share of its monolingual mAP."""
    ratio = base_alignment(summary, tag)
    if ratio is None:
        return []
    cross, mono, chance = ratio
    return [f"- **Starting point**: the untuned base scores cross.map {cross:.4f} against mono.map {mono:.4f} "
            f"(cross / mono = {cross / mono:.2f}" + (f"; a random ranking: {chance:.4f}" if chance else "") + ")."]


def base_alignment(summary: dict, tag: str) -> tuple[float, float, float | None] | None:
    table = summary["models"][tag]["suites"].get(PARALLEL_SUITE, {}).get("table", {})
    cross, mono = _means(table, "all", "cross.map").get(BASE), _means(table, "all", "mono.map").get(BASE)
    if cross is None or not mono:
        return None
    return cross, mono, summary.get("chance_single_language_ap")


def _diff_interval(row: dict) -> str:
    """A paired-bootstrap difference and its 95 % interval: ``+0.0050 [+0.0002, +0.0103]``."""
    return f"{row['diff']:+.4f} [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"


def p_text(row: dict) -> str:
    """The raw p and the Holm-adjusted one beside it, the adjusted one bold where it survives (< 0.05):
    ``p=0.001, **Holm p=0.021**``."""
    holm = f"Holm p={row['p_holm']:.3f}"
    return f"p={row['p']:.3f}, " + (f"**{holm}**" if survives(row) else holm)


def survives(row: dict) -> bool:
    """Whether a paired difference is significant after the Holm correction within its family."""
    return row["p_holm"] < 0.05


def delta_text(row: dict) -> str:
    """One paired-bootstrap difference as the report's tables print it: Δ, its 95 % interval, raw and
    Holm-adjusted p (:func:`p_text`)."""
    return f"{_diff_interval(row)} {p_text(row)}"


def _rivals(strategies) -> list[str]:
    """The baselines the users' question names: the sequential orders (``seq-<first>-<then>``) and cross-only
    batches, in the grid's order."""
    return [s for s in strategies if _trained(s) and (s == "cross" or plan_settings(s)["strategy"] == "sequential")]


NOMINAL_BETTER = "nominally better (raw p < 0.05, not significant after the Holm correction) than"
NOMINAL_WORSE = "nominally worse (raw p < 0.05, not significant after the Holm correction) than"


def _verdict(row: dict) -> str:
    """Significant (survives the Holm correction), nominal (raw p < 0.05 only) or no significant difference."""
    if survives(row):
        return "**significantly better than**" if row["diff"] > 0 else "**significantly worse than**"
    if row["p"] < 0.05:
        return NOMINAL_BETTER if row["diff"] > 0 else NOMINAL_WORSE
    return "not significantly different from"


def _against(rows: list[dict]) -> list[str]:
    """Paired-bootstrap comparisons in words, grouped by verdict (better, better before correction only, no
    significant difference, worse before correction only, worse): each baseline with Δ = reference − baseline,
    its 95 % interval, raw and Holm-adjusted p."""
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(_verdict(row), []).append(f"`{row['baseline']}` (Δ {_diff_interval(row)}, {p_text(row)})")
    order = ("**significantly better than**", NOMINAL_BETTER, "not significantly different from", NOMINAL_WORSE,
             "**significantly worse than**")
    return [f"{verdict} {', '.join(groups[verdict])}" for verdict in order if verdict in groups]


def in_domain_findings(summary: dict, tag: str) -> list[str]:
    """The best strategy on the headline cells of the held-out groups; how the reference fares against the
    sequential orders and cross-only training (the users' question: every comparison, with Δ, interval, raw and
    Holm-adjusted p); then which other strategies it beats or trails significantly (paired bootstrap, Holm-adjusted
    p < 0.05 within the cell), and which only at a raw p < 0.05. The WiSE-FT rows are remedies, not strategies:
    they are left to the significance table and the forgetting findings, but they are in the cell's family, so
    they count in its correction."""
    model = summary["models"][tag]
    table = model["suites"][PARALLEL_SUITE]["table"]
    ref = summary["reference"]
    lines = []
    for setting, subset in HEADLINE:
        metric = f"{setting}.map"
        cells = _means(table, subset, metric)
        if not cells:
            continue
        best = max(cells, key=cells.get)
        family = [r for r in model["significance"] if r["setting"] == setting and r["subset"] == subset]
        sig = [r for r in family if WISE not in r["baseline"]]
        rivals = set(_rivals(r["baseline"] for r in sig))
        head = _against([r for r in sig if r["baseline"] in rivals])
        others = [r for r in sig if r["baseline"] not in rivals and r["p"] < 0.05]
        better = [r["baseline"] for r in others if survives(r) and r["diff"] > 0]
        worse = [f"`{r['baseline']}` (Δ {r['diff']:+.4f}, {p_text(r)})" for r in others
                 if survives(r) and r["diff"] < 0]
        nominal = [f"{'better' if r['diff'] > 0 else 'worse'} than `{r['baseline']}` (Δ {r['diff']:+.4f}, "
                   f"{p_text(r)})" for r in others if not survives(r)]
        verdict = []
        if better:
            verdict.append(f"significantly better than {_names(better)}")
        if worse:
            verdict.append(f"significantly worse than {', '.join(worse)}")
        if nominal:
            verdict.append(f"{', '.join(nominal)} at a raw p < 0.05 only, not after the Holm correction")
        base_note = f"; the untuned base scores {cells[BASE]:.4f}" if BASE in cells else ""
        base_note += f"; lexical `bm25` scores {cells[BM25]:.4f}" if BM25 in cells else ""
        if ref not in cells:
            standing = f"`{ref}` has no finished run yet"
        else:
            standing = f"`{ref}` ({cells[ref]:.4f}) is "
            if head:
                standing = (f"against sequential and cross-only training, {standing}{'; '.join(head)}; against the "
                            "other strategies it is ")
            standing += (" and ".join(verdict) or f"not significantly different from any {'of them' if head else 'baseline'}")
            standing += (f" (paired bootstrap over query groups; significant where the Holm-adjusted p < 0.05 over "
                         f"the cell's {len(family)} comparison{'s' if len(family) != 1 else ''}; {len(sig)} "
                         f"strateg{'ies' if len(sig) != 1 else 'y'} tested)")
        lines.append(f"- **In-domain {metric}, {subset} languages**: best mean is `{best}` ({cells[best]:.4f}); "
                     f"{standing}{base_note}.")
    return lines


def negatives_findings(summary: dict, tag: str) -> list[str]:
    """Mined hard negatives on the headline cells (issue 18): the mined strategy against the same strategy without
    mined negatives, and against group-blind mining (what excluding a row's translations is worth)."""
    contrasts = summary["models"][tag].get("contrasts", [])
    lines = []
    for strategy, baseline in dict.fromkeys((r["strategy"], r["baseline"]) for r in contrasts):
        rows = {(r["setting"], r["subset"]): r for r in contrasts
                if r["strategy"] == strategy and r["baseline"] == baseline}
        cells = [f"{setting}.map {subset} Δ {delta_text(r)}" for setting, subset in HEADLINE
                 if (r := rows.get((setting, subset)))]
        if not cells:
            continue
        what = ("group-blind mining: what excluding a row's translations is worth" if baseline.endswith("+generic")
                else "no mined negatives")
        kept = sum(survives(r) for r in rows.values() if (r["setting"], r["subset"]) in HEADLINE)
        lines.append(f"- **Mined negatives, in-domain**: `{strategy}` against `{baseline}` ({what}): "
                     f"{'; '.join(cells)} (paired bootstrap over query groups, Holm-corrected over the strategy's "
                     f"comparisons in each cell; {kept} of these {len(cells)} differences survive the correction).")
    return lines


def _pair_mean(pairs: dict, keep) -> tuple[float, int]:
    values = [v for x, row in pairs.items() for y, v in row.items() if keep(x, y)]
    return (sum(values) / len(values) if values else float("nan")), len(values)


def lexical_finding(summary: dict, tag: str) -> list[str]:
    """The sentence the BM25 row exists for: lexical matching cannot cross scripts. x→y mAP averaged over the
    pairs whose passages are in different scripts, for bm25 against the untuned base and the reference."""
    model = summary["models"][tag]
    pairs, scripts = model.get("pairs", {}), model.get("scripts") or {}
    if BM25 not in pairs or not scripts:
        return []

    def differ(x, y):
        return x != y and scripts.get(x) != scripts.get(y)

    def share(x, y):
        return x != y and scripts.get(x) == scripts.get(y)

    lexical, n_differ = _pair_mean(pairs[BM25], differ)
    if not n_differ:
        return []
    others = [f"`{s}` {_pair_mean(pairs[s], differ)[0]:.4f}" for s in dict.fromkeys([BASE, summary["reference"]])
              if s in pairs]
    same, n_same = _pair_mean(pairs[BM25], share)
    mono, _ = _pair_mean(pairs[BM25], lambda x, y: x == y)
    chance = summary.get("chance_single_language_ap")
    line = (f"- **Lexical matching cannot cross scripts**: on the {n_differ} cross-lingual pairs whose passages are "
            f"in different scripts ({', '.join(sorted(set(scripts.values())))}), `bm25` scores x→y mAP "
            f"{lexical:.4f}" + (f" (a random ranking: {chance:.4f})" if chance else "")
            + (f", against {' and '.join(others)}" if others else "") + ".")
    if n_same:
        line += f" On the {n_same} pairs that share a script it scores {same:.4f} (shared words, names, numbers)"
        line += f", and {mono:.4f} within one language."
    else:
        line += f" Within one language it scores {mono:.4f}."
    return [line]


def _intervals(table: dict, subset: str, metric: str, a: str, b: str) -> str:
    """Whether the 95 % seed intervals of ``a`` and ``b`` overlap, in words; a one-seed mean has no interval."""
    ca, cb = table[a][subset][metric], table[b][subset][metric]
    if not all(math.isfinite(c.get("ci") or float("nan")) for c in (ca, cb)):
        return "one seed so far, no interval to compare"
    apart = abs(ca["mean"] - cb["mean"]) > ca["ci"] + cb["ci"]
    return f"{'outside' if apart else 'within'} the seed intervals"


def _rival_gaps(table: dict, subset: str, metric: str, ref: str, cells: dict[str, float], best: str) -> str:
    """The reference against the sequential orders and cross-only training on a suite without a bootstrap: the
    difference in means and whether the seed intervals separate them (the best strategy is said already)."""
    rivals = [s for s in _rivals(cells) if s not in (ref, best)]
    if ref not in cells or not rivals:
        return ""
    apart = [_intervals(table, subset, metric, ref, s) for s in rivals]
    gaps = [f"from `{s}` {cells[ref] - cells[s]:+.4f}" for s in rivals]
    if len(set(apart)) == 1:
        return f"; `{ref}` differs {', '.join(gaps)} ({apart[0]})"
    return f"; `{ref}` differs " + ", ".join(f"{g} ({a})" for g, a in zip(gaps, apart, strict=True))


def out_of_domain_findings(summary: dict, tag: str) -> list[str]:
    """The headline cells on every other multilingual suite (a second source, never trained on), beside the
    in-domain winner: where the best trained strategy differs, the sentence says the two sets disagree."""
    suites = summary["models"][tag]["suites"]
    ref = summary["reference"]
    in_domain = suites.get(PARALLEL_SUITE, {}).get("table", {})
    lines = []
    for name, suite in suites.items():
        if name == PARALLEL_SUITE or suite["type"] != "multilingual":
            continue
        table = suite["table"]
        for setting, subset in HEADLINE:
            metric = f"{setting}.map"
            cells = {s: v for s, v in _means(table, subset, metric).items() if _trained(s)}
            if not cells:
                continue
            best = max(cells, key=cells.get)
            home = {s: v for s, v in _means(in_domain, subset, metric).items() if _trained(s)}
            home_best = max(home, key=home.get) if home else None
            gap = ""
            if ref in cells and best != ref:
                gap = (f"; `{ref}` scores {cells[ref]:.4f}, {cells[best] - cells[ref]:.4f} lower, "
                       f"{_intervals(table, subset, metric, best, ref)}")
            gap += _rival_gaps(table, subset, metric, ref, cells, best)
            base = _means(table, subset, metric).get(BASE)
            agree = ("" if home_best is None else
                     f"; in-domain the best trained strategy is also `{best}`" if home_best == best else
                     f"; **in-domain the best trained strategy is `{home_best}`: the two sets disagree**")
            lines.append(f"- **Out-of-domain ({name}) {metric}, {subset} languages**: best trained strategy is "
                         f"`{best}` ({cells[best]:.4f}){gap}" + (f"; the untuned base scores {base:.4f}" if base
                                                                    is not None else "") + f"{agree}.")
    return lines


def forgetting_findings(summary: dict, tag: str) -> list[str]:
    """Translation retrieval (another task than the training data): each trained strategy's change against the
    untuned base, the reference against sequential and cross-only training there (for CLDR, the one human-written
    set: whether a finding holds on human text), and how much of a loss each WiSE-FT row gives back."""
    suites = summary["models"][tag]["suites"]
    lines = []
    for name, suite in suites.items():
        if suite["type"] != "translation":
            continue
        for metric, subset in (("cross.map", "all"), ("en_to_low.map", "all")):
            cells = _means(suite["table"], subset, metric)
            base = cells.get(BASE)
            trained = {s: v for s, v in cells.items() if _trained(s)}
            if base is None or not trained:
                continue
            changes = ", ".join(f"`{s}` {v - base:+.4f}" for s, v in trained.items())
            best = max(trained, key=trained.get)
            line = (f"- **Forgetting ({name}) {metric}, {subset}**: the untuned base scores {base:.4f}; fine-tuning "
                    f"changes it by {changes}. Best trained: `{best}`"
                    + _rival_gaps(suite["table"], subset, metric, summary["reference"], trained, best) + ".")
            remedies = []
            for s, v in cells.items():
                parent = s.split(WISE)[0]
                if WISE in s and parent in trained:
                    remedies.append(f"`{s}` {v - trained[parent]:+.4f} over `{parent}`"
                                    + _share_of_loss(base, trained[parent], v))
            if remedies:
                line += " WiSE-FT (weights averaged with the base): " + "; ".join(remedies) + "."
            lines.append(line)
    return lines


def _share_of_loss(base: float, trained: float, averaged: float) -> str:
    """How much of what fine-tuning lost the weight average wins back. A share over 100 % (a loss within noise,
    recovered many times over) reads as a large effect, so that case says "back above the base" instead; no share
    where nothing was lost or nothing came back."""
    lost, regained = base - trained, averaged - trained
    if lost <= 1e-9 or regained <= 0:
        return ""
    return ", back above the base" if averaged >= base else f", {regained / lost:.0%} of the loss"


def setups_compared(summaries: list[dict]) -> list[str]:
    """Why two set-ups can rank the strategies differently: per experiment, how far above chance its untuned base
    already retrieves across languages, and which strategy wins cross-lingual retrieval for low-resource
    languages there."""
    rows = []
    for summary in summaries:
        for tag, model in summary["models"].items():
            aligned = base_alignment(summary, tag)
            table = model["suites"].get(PARALLEL_SUITE, {}).get("table", {})
            cells = {s: v for s, v in _means(table, "low", "cross.map").items() if _trained(s)}
            if aligned is None or not cells:
                continue
            cross, mono, chance = aligned
            best, ref = max(cells, key=cells.get), summary["reference"]
            rows.append(f"| {summary['title']} | `{tag}` | {mono:.4f} | {cross:.4f} | "
                        + (f"{chance:.4f}" if chance else "–") + f" | `{best}` ({cells[best]:.4f}) | `{ref}` "
                        + (f"{cells[ref]:.4f}" if ref in cells else "no run yet") + " |")
    if len(rows) < 2:
        return []
    return ["## How the set-ups differ", "",
            "How well the untuned base already retrieves within and across languages on the held-out groups "
            "(beside a random ranking), and the best trained strategy for low-resource languages queried "
            "cross-lingually, with the reference's score there. A base that already maps languages near each other "
            "leaves cross-lingual batches less to teach, and gives monolingual batches an aligned space to keep; a "
            "base near chance must learn the alignment from the cross-lingual batches themselves.", "",
            "| experiment | model | base mono.map | base cross.map | random | best trained on cross.map, low | "
            "reference on it |",
            "| --- | --- | ---: | ---: | ---: | --- | ---: |", *rows, ""]
