"""The report's words (hf_hybrid.experiments.findings) follow the numbers of the summary they are made from."""

from __future__ import annotations

import copy

import pytest

from hf_hybrid.experiments.findings import model_findings, setups_compared
from hf_hybrid.experiments.stats import holm, with_adjusted_p


def _cell(mean: float, ci: float = 0.01) -> dict:
    return {"mean": mean, "ci": ci, "values": [mean]}


def _table(by_strategy: dict[str, dict[tuple[str, str], float]]) -> dict:
    table: dict = {}
    for strategy, cells in by_strategy.items():
        for (subset, metric), value in cells.items():
            table.setdefault(strategy, {}).setdefault(subset, {})[metric] = _cell(value)
    return table


def _summary(title: str, base_cross: float, in_domain_best: str) -> dict:
    parallel = {s: {("all", "mono.map"): 0.9, ("all", "cross.map"): v, ("low", "cross.map"): v - 0.1}
                for s, v in (("base", base_cross), ("mono", 0.70), ("hybrid-0.5", 0.75), ("seq-cross-mono", 0.72))}
    parallel[in_domain_best][("low", "cross.map")] = 0.80
    howto = {s: {("low", "cross.map"): v} for s, v in (("base", 0.5), ("mono", 0.66), ("hybrid-0.5", 0.60),
                                                               ("seq-cross-mono", 0.615))}
    translation = {s: {("all", "cross.map"): v} for s, v in
                   (("base", 0.90), ("mono", 0.80), ("hybrid-0.5", 0.86), ("mono+wise0.5", 0.85),
                    ("hybrid-0.5+wise0.5", 0.91))}
    significance = [{"baseline": "seq-cross-mono", "setting": "cross", "subset": "low", "diff": -0.05,
                     "ci_low": -0.08, "ci_high": -0.02, "p": 0.004},
                    {"baseline": "mono", "setting": "cross", "subset": "low", "diff": 0.02, "ci_low": 0.01,
                     "ci_high": 0.03, "p": 0.01}]
    return {"title": title, "name": title, "reference": "hybrid-0.5", "chance_single_language_ap": 0.05,
            "bootstrap": 1000, "models": {"m": {
                "suites": {"parallel": {"type": "multilingual", "table": _table(parallel)},
                           "howto": {"type": "multilingual", "table": _table(howto)},
                           "translation_howto": {"type": "translation", "table": _table(translation)}},
                "significance": with_adjusted_p(significance), "pairs": {}, "scripts": {}}}}


def test_findings_say_who_wins_where_the_sets_disagree_and_what_wise_ft_gives_back():
    lines = model_findings(_summary("real", 0.6, "seq-cross-mono"), "m")
    start = next(line for line in lines if "Starting point" in line)
    assert "cross.map 0.6000 against mono.map 0.9000 (cross / mono = 0.67; a random ranking: 0.0500)" in start
    low = next(line for line in lines if "In-domain cross.map, low" in line)
    assert "best mean is `seq-cross-mono` (0.8000)" in low
    assert ("against sequential and cross-only training, `hybrid-0.5` (0.6500) is **significantly worse than** "
            "`seq-cross-mono` (Δ -0.0500 [-0.0800, -0.0200], p=0.004, **Holm p=0.008**)") in low
    assert "against the other strategies it is significantly better than `mono`" in low
    ood = next(line for line in lines if "Out-of-domain (howto) cross.map, low" in line)
    assert "best trained strategy is `mono` (0.6600)" in ood and "0.0600 lower, outside the seed intervals" in ood
    assert "in-domain the best trained strategy is `seq-cross-mono`: the two sets disagree" in ood
    assert "`hybrid-0.5` differs from `seq-cross-mono` -0.0150 (within the seed intervals)" in ood
    forget = next(line for line in lines if "Forgetting (translation_howto) cross.map" in line)
    assert "WiSE-FT (weights averaged with the base)" in forget
    assert "`mono` -0.1000, `hybrid-0.5` -0.0400. Best trained: `hybrid-0.5`." in forget
    assert "`mono+wise0.5` +0.0500 over `mono`, 50% of the loss" in forget
    assert "`hybrid-0.5+wise0.5` +0.0500 over `hybrid-0.5`, back above the base." in forget  # not "125% of the loss"
    summary = _summary("real", 0.6, "seq-cross-mono")
    del summary["models"]["m"]["suites"]["parallel"]["table"]["hybrid-0.5"]
    assert "`hybrid-0.5` has no finished run yet" in " ".join(model_findings(summary, "m"))
    summary["models"]["m"]["suites"]["howto"]["table"]["mono"]["low"]["cross.map"]["ci"] = float("nan")
    assert "0.0600 lower, one seed so far, no interval to compare" in " ".join(model_findings(summary, "m"))


def test_setups_are_compared_by_how_aligned_their_base_starts():
    lines = setups_compared([_summary("synthetic", 0.09, "hybrid-0.5"), _summary("real", 0.6, "seq-cross-mono")])
    assert lines[0] == "## How the set-ups differ"
    assert "| synthetic | `m` | 0.9000 | 0.0900 | 0.0500 | `hybrid-0.5` (0.8000) | `hybrid-0.5` 0.8000 |" in lines
    assert "| real | `m` | 0.9000 | 0.6000 | 0.0500 | `seq-cross-mono` (0.8000) | `hybrid-0.5` 0.6500 |" in lines
    assert setups_compared([_summary("one", 0.5, "mono")]) == []  # nothing to compare


def test_an_unfinished_grid_names_the_runs_it_lacks():
    from hf_hybrid.experiments.markdown import _unfinished

    summary = {"config": {"seeds": [0, 1, 2]}, "rows": ["base", "mono", "mono+wise0.5"],
               "models": {"m": {"seeds": {"base": [0, 1, 2], "mono": [0], "mono+wise0.5": [0, 1]}}}}
    [line, _] = _unfinished(summary)
    assert line.startswith("**Unfinished grid**: 2 rows still lack runs (`mono` seeds 1, 2; `mono+wise0.5` seed 2)")
    summary["models"]["m"]["seeds"] |= {"mono": [0, 1, 2], "mono+wise0.5": [2, 1, 0]}
    assert _unfinished(summary) == []


def test_mined_negatives_are_contrasted_with_none_and_with_group_blind_mining():
    """Issue 18: the report says what excluding a row's translations is worth (+mined against +generic), even
    when the grid's reference is another strategy."""
    import numpy as np

    from hf_hybrid.experiments.config import ExperimentConfig
    from hf_hybrid.experiments.markdown import _contrast_lines
    from hf_hybrid.experiments.report import _negatives_contrasts

    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(50), 4)
    units = {"setting": np.array(["cross", "mono"] * 100), "level": np.array(["low", "high"] * 100), "group": groups}

    def runs(shift: float) -> list:
        return [({"settings": {"seed": seed}}, {**units, "ap": rng.uniform(0.4, 0.6, 200) + shift}) for seed in (0, 1)]

    grid = {"hybrid-0.5": runs(0.0), "hybrid-0.5+mined": runs(0.1), "hybrid-0.5+generic": runs(0.1), "mono": runs(0)}
    rows = _negatives_contrasts(ExperimentConfig(name="t", data="sample", reference="hybrid-0.5", bootstrap=200), grid)
    assert {(r["strategy"], r["baseline"]) for r in rows} == {("hybrid-0.5+mined", "hybrid-0.5"),
                                                              ("hybrid-0.5+mined", "hybrid-0.5+generic")}
    by = {(r["baseline"], r["setting"], r["subset"]): r for r in rows}
    assert by[("hybrid-0.5", "cross", "low")]["p"] < 0.05 < by[("hybrid-0.5+generic", "cross", "low")]["p"]
    assert by[("hybrid-0.5", "cross", "low")]["seeds"] == [0, 1]

    summary = _summary("real", 0.6, "hybrid-0.5")
    summary["models"]["m"]["contrasts"] = with_adjusted_p(rows)
    lines = [line for line in model_findings(summary, "m") if "Mined negatives" in line]
    assert len(lines) == 2 and "against `hybrid-0.5+generic` (group-blind mining: what excluding" in lines[1]
    d = with_adjusted_p(rows)[rows.index(by[("hybrid-0.5", "cross", "low")])]
    assert f"cross.map low Δ {d['diff']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}] p={d['p']:.3f}, **Holm p=" in lines[0]
    table = _contrast_lines(with_adjusted_p(rows), "##")
    assert table[0].startswith("#### Mined negatives") and any("| hybrid-0.5+mined | hybrid-0.5+generic | low |" in t
                                                              for t in table)


def test_holm_adjusts_as_by_hand():
    """Holm (1979): the i-th smallest of m p-values times m − i + 1, then a running maximum, capped at 1."""
    # sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → 0.06 (never below the one before)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.9, 0.3, 0.6]) == pytest.approx([1.0, 0.9, 1.0])  # 0.3·3 = 0.9, 0.6·2 = 1.2 → 1, 0.9 → 1
    assert holm([0.001] * 3) == pytest.approx([0.003] * 3) and holm([]) == []


def test_a_difference_is_significant_only_where_it_survives_the_correction_within_its_cell():
    """Each (setting, level) cell is its own family: the raw p stays, the Holm p sits beside it, and the words say
    "significantly" only where the Holm p < 0.05."""
    from hf_hybrid.experiments.markdown import _significance_lines

    rows = [{"baseline": b, "setting": "cross", "subset": "low", "diff": d, "ci_low": d - 0.01, "ci_high": d + 0.01,
             "p": p} for b, d, p in (("seq-cross-mono", -0.05, 0.04), ("mono", 0.02, 0.03))]
    rows.append({**rows[0], "subset": "all", "p": 0.04})  # another cell: a family of one, 0.04 survives
    adjusted = with_adjusted_p(rows)
    assert [r["p_holm"] for r in adjusted] == pytest.approx([0.06, 0.06, 0.04])
    assert [r["p"] for r in adjusted] == [0.04, 0.03, 0.04] and "p_holm" not in rows[0]
    summary = _summary("real", 0.6, "seq-cross-mono")
    summary["models"]["m"]["significance"] = adjusted
    low = next(line for line in model_findings(summary, "m") if "In-domain cross.map, low" in line)
    assert ("`hybrid-0.5` (0.6500) is nominally worse (raw p < 0.05, not significant after the Holm correction) "
            "than `seq-cross-mono` (Δ -0.0500 [-0.0600, -0.0400], p=0.040, Holm p=0.060)") in low
    assert ("against the other strategies it is better than `mono` (Δ +0.0200, p=0.030, Holm p=0.060) at a raw "
            "p < 0.05 only, not after the Holm correction") in low
    assert "over the cell's 2 comparisons" in low and "**" not in low.split("**:", 1)[1]
    table = _significance_lines(summary, adjusted, "##")
    assert "| seq-cross-mono | all | – | -0.0500 [-0.0600, -0.0400] p=0.040, **Holm p=0.040** | – |" in table
    assert "| seq-cross-mono | low | – | -0.0500 [-0.0600, -0.0400] p=0.040, Holm p=0.060 | – |" in table


def test_the_caveats_count_the_tests_before_and_after_the_correction():
    from hf_hybrid.experiments.markdown import limits

    summary = _summary("real", 0.6, "hybrid-0.5")
    summary["config"] = {"data": "synthetic"}
    caveat = next(line for line in limits([summary]) if "Holm" in line)
    assert "This report makes 2 paired tests: 2 at a raw p < 0.05, of which 2 survive the Holm–Bonferroni" in caveat
    assert "(1 families here, of 2 to 2 comparisons)" in caveat and "here at most 0.002" in caveat


def test_a_column_at_its_ceiling_in_every_row_is_named():
    """Recall@100 over a corpus of at most 100 passages is 1 for any ranking: the report says the tie is empty."""
    from hf_hybrid.experiments.markdown import _saturated

    table = _table({"base": {("all", "cross.ndcg@10"): 0.7, ("all", "cross.recall@100"): 1.0},
                    "hybrid-0.5": {("all", "cross.ndcg@10"): 0.8, ("all", "cross.recall@100"): 1.0}})
    note = _saturated(table, "all", ("cross.ndcg@10", "cross.recall@100"))
    assert note.startswith(" `cross.recall@100` is 1 in every row") and "ndcg" not in note
    table["base"]["all"]["cross.recall@100"] = _cell(0.98)
    assert _saturated(table, "all", ("cross.ndcg@10", "cross.recall@100")) == ""


def _wise_grid() -> dict:
    """A model with WiSE-FT rows at two α for hybrid-0.5 and one for mono, on the in-domain and a translation
    suite, two seeds (the untuned base the same in both)."""
    def cell(values: list[float]) -> dict:
        return {"mean": sum(values) / len(values), "ci": 0.01, "values": values}

    rows = {"base": (0.50, 0.90), "hybrid-0.5": (0.70, 0.80), "hybrid-0.5+wise0.25": (0.60, 0.88),
            "hybrid-0.5+wise0.5": (0.65, 0.86), "mono": (0.60, 0.70), "mono+wise0.5": (0.55, 0.85)}
    spread = {"base": (0.0, 0.0)}
    suites = {name: {"type": kind, "main_score": metrics[0], "metrics": metrics, "subsets": ["all"], "table": {
        row: {"all": {m: cell([v[i] + d for d in spread.get(row, (-0.02, 0.02))]) for m in metrics}}
        for row, v in rows.items()}} for name, kind, metrics, i in
        (("parallel", "multilingual", ["cross.map", "multi.map"], 0),
         ("translation_howto", "translation", ["cross.map", "en_to_low.map"], 1))}
    return {"suites": suites, "seeds": {row: [0, 1] for row in rows}}


def test_wise_rows_at_several_alphas_give_a_curve_per_suite():
    from hf_hybrid.experiments.markdown import _wise_lines, wise_curves

    model = _wise_grid()
    table = model["suites"]["parallel"]["table"]
    assert wise_curves(table) == {"hybrid-0.5": [(0.0, "base"), (0.25, "hybrid-0.5+wise0.25"),
                                                 (0.5, "hybrid-0.5+wise0.5"), (1.0, "hybrid-0.5")]}
    assert set(wise_curves(table, at_least=1)) == {"hybrid-0.5", "mono"}
    lines = _wise_lines(model["suites"], "##")
    assert lines[0].startswith("#### WiSE-FT α curve")
    assert ("| strategy | α | parallel cross.map | parallel multi.map | translation_howto cross.map | "
            "translation_howto en_to_low.map |") in lines
    assert "| hybrid-0.5 | 0.25 | 0.6000 ± 0.0100 | 0.6000 ± 0.0100 | 0.8800 ± 0.0100 | 0.8800 ± 0.0100 |" in lines
    assert "| hybrid-0.5 | 0.00 | 0.5000 ± 0.0100 |" in " ".join(lines) and not any("| mono |" in x for x in lines)


def test_an_alpha_curve_needs_two_alpha_values():
    """A grid with one hybrid row (the forgetting grids) gets no α figure and no link to one (the shipped report's
    links are checked to resolve in tests/test_readme.py)."""
    from hf_hybrid.experiments.markdown import has_alpha_curve

    table = _wise_grid()["suites"]["parallel"]["table"]
    assert has_alpha_curve(table)  # hybrid-0.5 (α 0.5) and mono (α 1); base and WiSE-FT rows are no α points
    del table["mono"]
    assert not has_alpha_curve(table)


def test_the_tradeoff_figure_plots_gains_over_the_base_paired_by_seed(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hf_hybrid.evaluation.report import save_figure
    from hf_hybrid.experiments.figures import _tradeoff
    from hf_hybrid.experiments.tradeoff import gain, tradeoff_suites

    model = _wise_grid()
    mean, half = gain(model, "translation_howto", "cross.map", "hybrid-0.5")  # seeds 0.78, 0.82 against 0.90
    assert mean == pytest.approx(-0.10) and half == pytest.approx(12.706 * 0.02, rel=1e-3)
    assert tradeoff_suites(model) == ["translation_howto"]
    fig, name = _tradeoff(plt, {"title": "t", "name": "x"}, "m", model)
    assert name == "x_m_tradeoff.png" and len(fig.axes) == 2 * 2  # in-domain cross, multi × translation cross, en→low
    assert save_figure(fig, tmp_path / name).stat().st_size > 1000
    del model["suites"]["translation_howto"]
    assert tradeoff_suites(model) == []  # no translation suite: no figure, no link


def test_the_default_rule_needs_both_translation_kept_and_most_of_the_gain():
    """Issue 29's rule: within 0.01 of the base on every translation column and ≥ 80 % of hybrid-0.5's in-domain
    gain in cross and multi mAP; the report names the rows that meet it, or the nearest miss from each side."""
    from hf_hybrid.experiments.default_section import default_lines as _default_lines
    from hf_hybrid.experiments.tradeoff import judge_defaults

    model = _wise_grid()
    verdicts = {v["row"]: v for v in judge_defaults(model, "hybrid-0.5")}
    assert not any(v["passes"] for v in verdicts.values())
    wise = verdicts["hybrid-0.5+wise0.25"]  # in-domain 0.60 against 0.50 → 0.70; translation 0.88 against 0.90
    assert wise["kept"]["cross.map"] == pytest.approx(0.5) and wise["worst_change"] == pytest.approx(-0.02)
    assert verdicts["hybrid-0.5"]["kept"] == {"cross.map": 1.0, "multi.map": 1.0}
    assert "**No row meets the rule.**" in _default_lines(model, "hybrid-0.5", "##")[-2]
    assert _default_lines(model, "hybrid-0.5", "##", planned=3)[-2].endswith("fewer than its 3 seeds, so this is "
                                                                             "not yet the answer.")

    suites = model["suites"]
    for name, value in (("parallel", 0.68), ("translation_howto", 0.895)):  # keeps 90 %, loses 0.005
        suites[name]["table"]["hybrid-0.5+distill"] = copy.deepcopy(suites[name]["table"]["hybrid-0.5"])
        for cell in suites[name]["table"]["hybrid-0.5+distill"]["all"].values():
            cell.update(mean=value, values=[value, value])
    model["seeds"]["hybrid-0.5+distill"] = [0, 1]
    lines = _default_lines(model, "hybrid-0.5", "##")
    assert lines[-2] == "**Meets the rule: `hybrid-0.5+distill`.**"
    assert "| `hybrid-0.5+distill` | 2 | -0.0050 ± 0.0000 | -0.0050 ± 0.0000 | 90 % | 90 % | **yes** |" in lines
    assert _default_lines(model, None, "##") == [] and judge_defaults(model, "absent") == []


def test_the_default_rule_is_applied_only_where_every_row_read_texts_at_one_length():
    from hf_hybrid.experiments.markdown import _read_alike

    assert _read_alike({"scored_lengths": {"base": [512], "hybrid-0.5": [512, 512]}}, "e5")
    assert not _read_alike({"scored_lengths": {"base": [512], "hybrid-0.5": [96]}}, "e5")
    assert not _read_alike({}, "e5")  # a summary from before the lengths were recorded (truncation.md)
