"""The report's words (hf_hybrid.experiments.findings) follow the numbers of the summary they are made from."""

from __future__ import annotations

from hf_hybrid.experiments.findings import model_findings, setups_compared


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
    return {"title": title, "reference": "hybrid-0.5", "chance_single_language_ap": 0.05, "models": {"m": {
        "suites": {"parallel": {"type": "multilingual", "table": _table(parallel)},
                   "howto": {"type": "multilingual", "table": _table(howto)},
                   "translation_howto": {"type": "translation", "table": _table(translation)}},
        "significance": significance, "pairs": {}, "scripts": {}}}}


def test_findings_say_who_wins_where_the_sets_disagree_and_what_wise_ft_gives_back():
    lines = model_findings(_summary("real", 0.6, "seq-cross-mono"), "m")
    start = next(line for line in lines if "Starting point" in line)
    assert "cross.map 0.6000 against mono.map 0.9000 (cross / mono = 0.67; a random ranking: 0.0500)" in start
    low = next(line for line in lines if "In-domain cross.map, low" in line)
    assert "best mean is `seq-cross-mono` (0.8000)" in low
    assert ("against sequential and cross-only training, `hybrid-0.5` (0.6500) is **significantly worse than** "
            "`seq-cross-mono` (Δ -0.0500 [-0.0800, -0.0200], p=0.004)") in low
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

    from hf_hybrid.experiments.grid import ExperimentConfig
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
    summary["models"]["m"]["contrasts"] = rows
    lines = [line for line in model_findings(summary, "m") if "Mined negatives" in line]
    assert len(lines) == 2 and "against `hybrid-0.5+generic` (group-blind mining: what excluding" in lines[1]
    d = by[("hybrid-0.5", "cross", "low")]
    assert f"cross.map low Δ {d['diff']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}] **p=" in lines[0]
    table = _contrast_lines(rows, "##")
    assert table[0].startswith("#### Mined negatives") and any("| hybrid-0.5+mined | hybrid-0.5+generic | low |" in t
                                                              for t in table)


def test_the_caveats_count_the_uncorrected_tests():
    from hf_hybrid.experiments.markdown import limits

    summary = _summary("real", 0.6, "hybrid-0.5")
    summary["config"] = {"data": "synthetic"}
    caveat = next(line for line in limits([summary]) if "multiplicity" in line)
    assert "this report makes 2 paired tests (2 at p < 0.05)" in caveat


def test_a_column_at_its_ceiling_in_every_row_is_named():
    """Recall@100 over a corpus of at most 100 passages is 1 for any ranking: the report says the tie is empty."""
    from hf_hybrid.experiments.markdown import _saturated

    table = _table({"base": {("all", "cross.ndcg@10"): 0.7, ("all", "cross.recall@100"): 1.0},
                    "hybrid-0.5": {("all", "cross.ndcg@10"): 0.8, ("all", "cross.recall@100"): 1.0}})
    note = _saturated(table, "all", ("cross.ndcg@10", "cross.recall@100"))
    assert note.startswith(" `cross.recall@100` is 1 in every row") and "ndcg" not in note
    table["base"]["all"]["cross.recall@100"] = _cell(0.98)
    assert _saturated(table, "all", ("cross.ndcg@10", "cross.recall@100")) == ""
