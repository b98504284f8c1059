"""The grid's report as Markdown, generated from an experiment's ``summary.json`` (no number typed by hand).

Tables (mean ± 95 % interval over seeds), plain-sentence findings computed from them
(:mod:`hf_hybrid.experiments.findings`), the paired-bootstrap table (raw and Holm-adjusted p),
the α ablation, the WiSE-FT α curve, figure links, the reproduction block and the caveats (:func:`limits`).
"""

from __future__ import annotations

import math

from hf_hybrid.experiments.config import BASE, MINIATURE, PARALLEL_SUITE, plan_settings
from hf_hybrid.experiments.default_section import default_lines
from hf_hybrid.experiments.findings import delta_text, model_findings, survives
from hf_hybrid.experiments.stats import SETTINGS, family_of
from hf_hybrid.experiments.tradeoff import tradeoff_suites
from hf_hybrid.experiments.variants import WISE
from hf_hybrid.tables import md_table

TABLE_METRICS = ("mono.map", "cross.map", "multi.map", "multi.language_bias")
SUBSETS = ("all", "high", "low", "zero-shot")
# The cells the issue asks about first: low-resource and zero-shot languages queried cross-lingually.
SUITE_NOTES = {
    "translation": "Translation retrieval (another task than the training data; forgetting shows here): each text "
                   "against every text of another language, one relevant (its translation); pairs grouped by their "
                   "lower-resource side. ",
    "beir": "The evaluation split as BEIR folders per language pair, scored by pytrec_eval as BEIR does; mono = "
            "x→x folders, cross = x→y. ",
}
# The WiSE-FT α-curve table's columns per suite type (other suites: their main score), all languages.
WISE_COLUMNS = {"multilingual": ("cross.map", "multi.map"), "translation": ("cross.map", "en_to_low.map"),
                "beir": ("cross.ndcg@10",)}


def _fmt(cell: dict) -> str:
    mean, half = cell["mean"], cell["ci"]
    if mean is None or not math.isfinite(mean):
        return "–"
    return f"{mean:.4f}" if half is None or not math.isfinite(half) else f"{mean:.4f} ± {half:.4f}"


def _saturated(table: dict, subset: str, metrics: tuple[str, ...]) -> str:
    """Names the columns at their ceiling in every row. Recall@100 is 1 for any ranking when a folder's corpus
    holds at most 100 passages, so such a column looks like a tie that says nothing of the strategies."""
    rows = [t[subset] for t in table.values() if subset in t]
    full = [m for m in metrics if all((r.get(m, {}).get("mean") or 0) >= 1 - 5e-5 for r in rows)]
    if not rows or not full:
        return ""
    return (f" {', '.join(f'`{m}`' for m in full)} {'is' if len(full) == 1 else 'are'} 1 in every row, the untuned "
            "base included: every ranking has each relevant passage within the cut-off, so "
            f"{'this column does' if len(full) == 1 else 'these columns do'} not separate the strategies here.")


def _table(table: dict, subset: str, metrics: tuple[str, ...]) -> list[str]:
    rows = [[strategy, *(_fmt(subsets[subset][m]) for m in metrics)] for strategy, subsets in table.items()
            if subset in subsets]
    return md_table(["strategy", *metrics], rows, right_align=True).splitlines()


def has_alpha_curve(table: dict) -> bool:
    """An α curve needs two α values at least: a grid of one hybrid row (the forgetting grids) gets no figure."""
    return len(alpha_rows(table)) >= 2


def alpha_rows(table: dict) -> list[tuple[float, str]]:
    """Strategies on the α axis: cross is α = 0, mono α = 1, hybrid-α in between."""
    points = []
    for strategy in table:
        if "+" in strategy:  # a variant (+mined, +generic, a WiSE-FT +wise<α>) is not a point of the α curve
            continue
        spec = plan_settings(strategy)
        alpha = {"cross": 0.0, "mono": 1.0}.get(spec["strategy"], spec.get("alpha"))
        if spec["strategy"] in ("cross", "mono", "hybrid"):
            points.append((alpha, strategy))
    return sorted(points)


def _delta_rows(rows: list[dict], lead) -> list[str]:
    """Table rows of paired differences: the cells ``lead(row)`` names, the subset, then Δ mono | Δ cross | Δ multi."""
    keyed = {(lead(r), r["subset"], r["setting"]): r for r in rows}
    lines = []
    for names in dict.fromkeys(lead(r) for r in rows):
        for subset in SUBSETS:
            cells = [keyed.get((names, subset, s)) for s in SETTINGS]
            if any(cells):
                lines.append("| " + " | ".join([*names, subset]) + " | "
                             + " | ".join(delta_text(c) if c else "–" for c in cells) + " |")
    return lines


def _significance_lines(summary: dict, sig: list[dict], h: str) -> list[str]:
    """The paired-bootstrap table: reference − baseline per subset and setting."""
    if not sig:
        return []
    sizes = _family_sizes(sig)
    lines = [f"{h}## Significance: `{summary['reference']}` against each baseline", "",
             f"Paired bootstrap over query groups ({summary['bootstrap']} resamples, the same resample "
             "for every seed, seeds paired): Δ = reference − baseline in per-query AP, its 95 % "
             "interval, the two-sided p and the Holm-adjusted p within the cell's family (the reference against "
             f"its {sizes} baselines at that setting and level); bold where the Holm-adjusted p < 0.05, i.e. the "
             "difference survives the correction.", "",
             "| baseline | subset | Δ mono | Δ cross | Δ multi |", "| --- | --- | --- | --- | --- |"]
    return lines + _delta_rows(sig, lambda r: (r["baseline"],)) + [""]


def _family_sizes(rows: list[dict]) -> str:
    """How many comparisons the families of ``rows`` hold (``21``, or ``2–3`` where they differ)."""
    sizes: dict[tuple, int] = {}
    for row in rows:
        sizes[family_of(row)] = sizes.get(family_of(row), 0) + 1
    low, high = min(sizes.values()), max(sizes.values())
    return str(low) if low == high else f"{low}–{high}"


def _contrast_lines(contrasts: list[dict], h: str) -> list[str]:
    """Mined negatives against none and against group-blind mining (report.py's ``_negatives_contrasts``)."""
    if not contrasts:
        return []
    lines = [f"{h}## Mined negatives: translation-aware against none and against group-blind mining", "",
             "The same paired bootstrap: Δ = strategy − baseline in per-query AP, raw and Holm-adjusted p (the "
             f"family: the strategy against its {_family_sizes(contrasts)} baselines at one setting and level; bold "
             "where the adjusted p < 0.05). Against `+generic` (negatives mined without excluding the row's own "
             "group), Δ is what excluding a row's translations is worth.", "",
             "| strategy | baseline | subset | Δ mono | Δ cross | Δ multi |", "| --- | --- | --- | --- | --- | --- |"]
    return lines + _delta_rows(contrasts, lambda r: (r["strategy"], r["baseline"])) + [""]


def _alpha_lines(table: dict, h: str) -> list[str]:
    """The α ablation table, when the grid has more than the two ends (cross and mono)."""
    alpha = alpha_rows(table)
    if len(alpha) <= 2:
        return []
    lines = [f"{h}## α ablation (share of monolingual batches; cross = 0, mono = 1)", "",
             "| α | strategy | mono.map | cross.map | cross.map (low) | cross.map (zero-shot) | multi.map |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for a, s in alpha:
        t = table[s]
        lines.append(f"| {a:.2f} | {s} | {_fmt(t['all']['mono.map'])} | {_fmt(t['all']['cross.map'])} | "
                     f"{_fmt(t['low']['cross.map']) if 'low' in t else '–'} | "
                     f"{_fmt(t['zero-shot']['cross.map']) if 'zero-shot' in t else '–'} | "
                     f"{_fmt(t['all']['multi.map'])} |")
    return lines + [""]


def _shape(suite: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A suite's table columns and level rows (a summary written before they were recorded: the defaults)."""
    multilingual = suite["type"] == "multilingual"
    return (tuple(suite.get("metrics") or (TABLE_METRICS if multilingual else (suite["main_score"],))),
            tuple(suite.get("subsets") or (SUBSETS if multilingual else ("all",))))


def wise_curves(table: dict, at_least: int = 2) -> dict[str, list[tuple[float, str]]]:
    """Per trained strategy with WiSE-FT rows at ``at_least`` α or more: its points from the base (α = 0) through
    each ``<strategy>+wise<α>`` to the fine-tuned strategy itself (α = 1)."""
    curves: dict[str, list[tuple[float, str]]] = {}
    for row in table:
        parent, _, alpha = row.rpartition(WISE)
        if parent in table and alpha and alpha[0].isdigit():  # not the dev-picked row (``+wise@dev``)
            curves.setdefault(parent, []).append((float(alpha), row))
    return {parent: [(0.0, BASE), *sorted(points), (1.0, parent)] for parent, points in curves.items()
            if len(points) >= at_least and BASE in table}


def _wise_lines(suites: dict, h: str) -> list[str]:
    """The WiSE-FT α curve, one column per suite and headline metric, when a strategy has WiSE-FT rows at several
    α: how much of the fine-tuned model each suite wants back."""
    curves = wise_curves(suites.get(PARALLEL_SUITE, {}).get("table", {}))
    if not curves:
        return []
    columns = [(name, m) for name, suite in suites.items()
               for m in WISE_COLUMNS.get(suite["type"], (suite["main_score"],))
               if m in _shape(suite)[0] and "all" in _shape(suite)[1]]
    lines = [f"{h}## WiSE-FT α curve ((1 − α)·base + α·fine-tuned; α = 0 is the base, α = 1 the fine-tuned run)",
             "", "Mean ± 95 % interval over seeds, all languages, per suite.", "",
             "| strategy | α | " + " | ".join(f"{name} {m}" for name, m in columns) + " |",
             "| --- | ---: |" + " ---: |" * len(columns)]
    for parent, points in curves.items():
        for alpha, row in points:
            lines.append(f"| {parent} | {alpha:.2f} | " + " | ".join(
                _fmt(suites[name]["table"][row]["all"][m]) if row in suites[name]["table"] else "–"
                for name, m in columns) + " |")
    return lines + [""]


def _dev_choice_lines(model: dict) -> list[str]:
    """Which α each ``+wise@dev`` row picked on the dev set, per seed (hf_hybrid.experiments.dev_merge)."""
    choices = model.get("wise_dev") or {}
    if not choices:
        return []
    lines = ["WiSE-FT α picked on the dev set (never on a test suite; `hf_hybrid.experiments.dev_merge`: the largest "
             "α whose dev translation cross mAP and English → low-resource mAP both stay within the tolerance of the "
             "base's):", ""]
    for row, picks in choices.items():
        lines.append(f"- `{row}`: " + ", ".join(f"seed {p['seed']}: α = {p['alpha']:g} (worst dev change against "
                                                 f"the base {p['change']:+.4f})" for p in picks))
    return lines + [""]


def _scored_lengths(model: dict, trained_at: int | None, tag: str = "") -> list[str]:
    """One line on the length every row read its texts at: a row cut shorter than another loses on long texts for
    truncation alone, which a table would show as a difference between models (issue 29, ``docs/truncation.md``).
    A summary from before the lengths were recorded has none: for a real base model its trained rows were read at
    the training length (the miniature's base is pre-trained at that length, so its rows read alike)."""
    found = _lengths_read(model, tag)
    if not found:
        return []
    if None in found:
        return [f"**Rows scored at different lengths.** These runs predate the record of it: every trained row read "
                f"texts cut at the training's {trained_at} tokens, the base at its own length, so on texts longer "
                f"than {trained_at} tokens a difference against the base includes truncation "
                "([truncation](truncation.md)).", ""]
    if len(found) > 1:
        rows = ", ".join(f"{s}: {'/'.join(map(str, v))}" for s, v in model["scored_lengths"].items())
        return [f"**Rows scored at different lengths** (tokens: {rows}): a difference between them includes "
                "truncation.", ""]
    return [f"Every row read texts cut at {found.pop()} tokens.", ""]


def _lengths_read(model: dict, tag: str) -> set[int | None]:
    """The lengths the rows read texts at; ``{None}`` for a real model's summary from before they were recorded (its
    trained rows read the training length), empty for the miniature's (its rows read alike)."""
    lengths = model.get("scored_lengths")
    if lengths is None:
        return set() if tag == MINIATURE else {None}
    return {n for values in lengths.values() for n in values}


def _read_alike(model: dict, tag: str) -> bool:
    """Whether every row read its texts at one length (:func:`_scored_lengths`): the default rule compares each row
    with the base, which a difference in truncation alone would decide on long texts."""
    found = _lengths_read(model, tag)
    return None not in found and len(found) <= 1


def render(summary: dict, figures_prefix: str = "figures", heading: int = 1) -> str:
    """The Markdown report of one experiment (``heading`` = level of its title)."""
    h = "#" * heading
    lines = [f"{h} {summary['title']}", ""]
    n_runs = sum(len(v) for m in summary["models"].values() for v in m["seeds"].values())
    levels = summary["levels"]
    by_level = {lv: sorted(c for c, x in levels.items() if x == lv) for lv in ("high", "low", "zero-shot")}
    lines += [f"{n_runs} runs ({summary['wall_s']:.0f} s of training and evaluation). Fine-tuning languages: "
              f"{', '.join(summary['train_languages'])}. Evaluated languages by level: "
              + "; ".join(f"{lv}: {', '.join(c) or '–'}" for lv, c in by_level.items()) + ".", ""]
    lines += _unfinished(summary)
    if summary.get("chance_single_language_ap") is not None:
        lines += [f"A random ranking scores mAP ≈ {summary['chance_single_language_ap']:.4f} in one language's "
                  "candidates (mono and x→y settings): compare the tables with it.", ""]
    for tag, model in summary["models"].items():
        lines += [f"{h}# Model `{tag}` (base: `{model['base_model']}`)", ""]
        lines += _scored_lengths(model, summary["config"].get("max_seq_length"), tag)
        if PARALLEL_SUITE in model["suites"]:
            lines += ["What the numbers show (generated from the tables below):", ""] + model_findings(summary, tag)
            lines += [""]
        for suite_name, suite in model["suites"].items():
            metrics, subsets = _shape(suite)
            for subset in subsets:
                if not any(subset in t for t in suite["table"].values()):
                    continue
                lines += [f"{h}## {suite_name}: {subset} languages", "",
                          "Mean ± 95 % Student-t interval over seeds; mAP over the full ranking (higher is "
                          "better); language bias = mean rank distance (lower is better). Cross-lingual pairs are "
                          "grouped by their lower-resource side." if suite["type"] == "multilingual" else
                          SUITE_NOTES.get(suite["type"], "") + f"Mean ± 95 % interval over seeds of "
                          f"{', '.join(f'`{m}`' for m in metrics)}." + _saturated(suite["table"], subset, metrics),
                          ""]
                lines += _table(suite["table"], subset, metrics) + [""]
        lines += _significance_lines(summary, model["significance"], h)
        lines += _contrast_lines(model.get("contrasts", []), h)
        lines += _alpha_lines(model["suites"].get(PARALLEL_SUITE, {}).get("table", {}), h)
        lines += _wise_lines(model["suites"], h) + _dev_choice_lines(model)
        if _read_alike(model, tag):
            lines += default_lines(model, summary["config"].get("reference"), h,
                                   planned=len(summary["config"].get("seeds") or []))
        lines += [f"{h}## Figures", ""]
        alpha = has_alpha_curve(model["suites"].get(PARALLEL_SUITE, {}).get("table", {}))
        figures = [("bars", "mAP per setting and strategy"), *([("alpha", "the α curve")] if alpha else []),
                   ("heatmaps", "x→y mAP per strategy")]
        if tradeoff_suites(model):
            figures.append(("tradeoff", "in-domain gain over the base against translation retrieval lost, each "
                                        "strategy and remedy with its 95 % interval"))
        for kind, caption in figures:
            name = f"{summary['name']}_{tag}_{kind}.png"
            lines += [f"![{caption}]({figures_prefix}/{name})", ""]
    lines += _reproduce(summary, h)
    return "\n".join(lines)


def _unfinished(summary: dict) -> list[str]:
    """A grid still running (it is checkpointed and may span sittings) says so above its tables: which runs are
    missing, so a mean over fewer seeds is never read as the finished answer."""
    seeds, rows = summary["config"].get("seeds") or [], summary.get("rows") or []
    missing = []
    for tag in summary["models"]:
        done = summary["models"][tag]["seeds"]
        missing += [f"`{row}` seed{'s' if len(left) > 1 else ''} {', '.join(map(str, left))}" for row in rows
                    if (left := [seed for seed in seeds if seed not in done.get(row, [])])]
    if not missing:
        return []
    return [f"**Unfinished grid**: {len(missing)} row{'s' if len(missing) > 1 else ''} still lack runs ("
            + "; ".join(missing) + "). Means without an interval come from one seed; rerunning the command below "
            "finishes the grid (finished runs are skipped) and rewrites this section.", ""]


def _reproduce(summary: dict, h: str) -> list[str]:
    import yaml

    lines = [f"{h}## Reproduce", "", "```bash", summary["command"] or "python -m hf_hybrid.experiments", "```", "",
             "Settings the grid ran with:", "", "```yaml",
             yaml.safe_dump({k: v for k, v in summary["config"].items() if k not in ("combine",)},
                            sort_keys=False).strip(), "```", ""]
    if summary.get("pretraining"):
        p = summary["pretraining"]
        lines += [f"Miniature encoder (MLM pre-training, cached as `mlm-{p['fingerprint']}`): "
                  f"{p['sentences']} monolingual sentences, vocabulary {p['vocab_size']}, MLM loss "
                  f"{p['final_mlm_loss']} (mean over the training steps).", ""]
    lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in summary["versions"].items()) + ".", ""]
    return lines


LIMITS = [
    "The synthetic languages are generated: a shared concept inventory, regular word orders, cognates made by "
    "letter mutation and (where the world sets shared_names) names written alike in every language. Real languages "
    "differ in morphology, tokenization and topic, and real low-resource languages have noisy, scarce pre-training "
    "text; the miniature models only the last of these (less MLM text). Its monolingual text draws words at "
    "random, so MLM pre-training teaches word forms, not meaning: the miniature's starting cross-lingual ability "
    "rests on shared names and cognate pieces alone, where XLM-R's also comes from distributional alignment.",
    "The encoders are small and trained for few steps on few examples; XLM-R and LaBSE at the paper's scale may "
    "rank the strategies differently.",
    "Intervals are over seeds (fine-tuning randomness and batch plans), not over data sets; the bootstrap is over "
    "query groups of one test set. A difference without a significant p-value is not evidence of no difference.",
]
SAMPLE_LIMIT = ("The real-language grid uses the bundled sample (400 training and 100 test groups per language, "
                "written and translated by a language model, not by people), so its intervals are wide and its "
                "low-resource texts are not native writing.")


def _multiplicity(summaries: list[dict]) -> list[str]:
    """How many paired tests the report makes, how many fall below 0.05 before and after the Holm correction, what
    a family is and why Holm: the reader's guard against reading a lone p < 0.05 among many as a finding."""
    families: dict[tuple, int] = {}
    tests, floor = [], 0.0
    for s in summaries:
        for tag, m in s["models"].items():
            for kind in ("significance", "contrasts"):
                for r in m.get(kind, []):
                    tests.append(r)
                    key = (s["name"], tag, kind, *family_of(r))
                    families[key] = families.get(key, 0) + 1
                    floor = max(floor, families[key] / (s["bootstrap"] + 1))
    if not tests:
        return []
    hits, kept = sum(r["p"] < 0.05 for r in tests), sum(survives(r) for r in tests)
    return [f"This report makes {len(tests)} paired tests: {hits} at a raw p < 0.05, of which {kept} survive the "
            "Holm–Bonferroni correction (Holm 1979) within their family; the tables give both p-values and the "
            "findings call a difference significant only where it survives. A family is one model's comparisons of "
            "one strategy (the reference; in the mined-negatives contrasts, the mined strategy) against all its "
            "baselines in one setting × level cell of the in-domain suite, e.g. the reference against every other "
            "row on cross.map for low-resource languages: what one sentence of the findings, or one column of a "
            f"significance table at one level, claims at once ({len(families)} families here, of {min(families.values())} to "
            f"{max(families.values())} comparisons). Holm rather than Benjamini–Hochberg: the comparisons of a "
            "family share the reference's per-query scores and the same bootstrap resamples, so they are dependent, "
            "and Holm bounds the chance of any false 'significantly' in a family by 5 % under any dependence, while "
            "Benjamini–Hochberg bounds only the expected share of false ones, and only under independence or "
            "positive dependence. Families are not pooled across cells, levels or experiments: each answers its own "
            "question, and a difference that recurs in a second world or evaluation set is stronger evidence than "
            "one corrected p. With a bootstrap of B resamples no p is below 1/(B + 1), so the smallest Holm p of a "
            f"family of m is m/(B + 1); here at most {floor:.3f}, "
            + ("below 0.05, so the largest family can still show a significant difference." if floor < 0.05 else
               "so the largest family cannot show a significant difference at all: rerun it with more resamples "
               "(bootstrap).")]


def limits(summaries: list[dict]) -> list[str]:
    """The fixed caveats, plus the ones the numbers call for (a model that never left chance level)."""
    items = list(LIMITS)
    if any(s["config"].get("data") == "sample" for s in summaries):
        items.append(SAMPLE_LIMIT)
    if any("translation_cldr" in m["suites"] for s in summaries for m in s["models"].values()):
        items.append("No part of the bundled sample or the how-to set is human-translated; the one evaluation set "
                     "written by people is CLDR's territory names (`translation_cldr`), so whether a finding holds "
                     "on human translations can be read only from that suite's rows, and it is a translation task, "
                     "not question answering.")
    items += _multiplicity(summaries)
    for summary in summaries:
        chance = summary.get("chance_single_language_ap")
        for tag, model in summary["models"].items():
            table = model["suites"].get(PARALLEL_SUITE, {}).get("table", {})
            best = max((t["all"]["cross.map"]["mean"] for t in table.values()), default=None)
            if chance and best is not None and best < 3 * chance:
                items.append(f"In \"{summary['title']}\" (`{tag}`), the best cross-lingual mAP of any strategy "
                             f"({best:.4f}) is less than three times chance ({chance:.4f}): at this size the model "
                             "barely learned to cross languages, so the grid cannot rank the strategies on the "
                             "cross-lingual question; it shows only how the kind of batch trades monolingual "
                             "ranking against a weak cross-lingual signal.")
    return ["## What these results cannot show", ""] + [f"- {item}" for item in items] + [""]
