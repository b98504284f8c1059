"""One evaluation suite's result: the schema, written once, and the lookup by name.

Every runner (the LAReQA-style pools in :mod:`~hf_hybrid.evaluation.multilingual`, BEIR / CIRAL /
AfriCLIRMatrix in :mod:`~hf_hybrid.evaluation.beir`, MTEB in :mod:`~hf_hybrid.evaluation.mteb_runner`, the
grid in :mod:`hf_hybrid.experiments.grid`) builds its result with :func:`suite_result`, and every reader
(reports, cards, the experiment summary) finds a suite with :func:`find_suite` by its name, never by position.

A suite is a plain ``dict`` (a :class:`TypedDict`), because it is written to and read back from the results
JSON (``hf-hybrid/eval-results/v1``) unchanged: the keys below, in this order, are that file's schema.
"""

# No ``from __future__ import annotations`` here: TypedDict must see NotRequired[...] as objects, not strings.
from typing import NotRequired, TypedDict

SUITE_TYPES = ("multilingual", "beir", "mteb", "translation")
# The one name of a results file, wherever it is written: ``hf-hybrid evaluate --output``, a model folder and its
# Hub repo (what the card reads), a grid run's folder.
RESULTS_FILE = "results.json"


class SuiteResult(TypedDict):
    """One suite of a results file. ``metrics`` holds the headline numbers; ``main_score`` names one of them."""

    name: str  # unique within one results file: readers look suites up by it
    type: str  # one of SUITE_TYPES
    dataset: str  # where the data came from (Hub id, folder, MTEB dataset path)
    split: str
    fingerprint: str  # of the data (or the MTEB dataset revision)
    languages: list[str]
    resource_levels: dict[str, str]  # lang → "high" | "low" | "zero-shot" (multilingual suites)
    metrics: dict[str, float]
    main_score: str
    by_resource: dict[str, dict[str, float]]  # level → metrics (multilingual suites)
    pairs: dict[str, dict[str, dict[str, float]]]  # query lang → passage lang → metrics (multilingual suites)
    per_language: NotRequired[dict]  # multilingual: metrics per query language
    rank_distances: NotRequired[list[float]]  # multilingual: per query, for the bias histogram (not written to JSON)
    sizes: NotRequired[dict[str, int]]  # queries / candidates / corpus counts
    subsets: NotRequired[dict[str, dict[str, float]]]  # MTEB: scores per subset


_OPTIONAL = ("per_language", "rank_distances", "sizes", "subsets")
PLOT_ONLY = ("rank_distances",)  # per-query data used for plots only; kept out of the JSON (small, stable files)


def suite_result(*, name: str, type: str, dataset: str, split: str, fingerprint: str, languages: list[str],
                 metrics: dict[str, float], main_score: str, resource_levels: dict[str, str] | None = None,
                 by_resource: dict | None = None, pairs: dict | None = None, **optional) -> SuiteResult:
    """A :class:`SuiteResult` with every required key, in the schema's order; unknown extras are a TypeError."""
    if type not in SUITE_TYPES:
        raise ValueError(f"suite type {type!r} is not one of {SUITE_TYPES}")
    unknown = set(optional) - set(_OPTIONAL)
    if unknown:
        raise TypeError(f"unknown suite fields {sorted(unknown)}; the schema allows {_OPTIONAL}")
    suite = SuiteResult(name=name, type=type, dataset=dataset, split=split, fingerprint=fingerprint,
                        languages=list(languages), resource_levels=resource_levels or {}, metrics=metrics,
                        main_score=main_score, by_resource=by_resource or {}, pairs=pairs or {})
    suite.update({key: optional[key] for key in _OPTIONAL if optional.get(key) is not None})  # type: ignore[typeddict-item]
    return suite


def find_suite(suites: list[SuiteResult], name: str) -> SuiteResult:
    """The suite called ``name``; a KeyError naming the suites there are when it is missing."""
    for suite in suites:
        if suite["name"] == name:
            return suite
    raise KeyError(f"no suite {name!r} (suites: {', '.join(s['name'] for s in suites) or 'none'})")
