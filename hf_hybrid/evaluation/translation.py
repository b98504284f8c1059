"""Translation retrieval: given a text in language x, find its translation among all texts in language y.

Why a second task kind: fine-tuning on a small question–passage set can damage what the base model did well
elsewhere (catastrophic forgetting; for the remedy see WiSE-FT, Wortsman et al., CVPR 2022). multilingual-e5 and
LaBSE are strong translation retrievers out of the box (bitext mining: Tatoeba, BUCC, FLORES), so a drop on this
task after question–passage fine-tuning is the forgetting a user should see next to the gains. The metric is the
one of Tatoeba / FLORES bitext mining in MTEB: for every ordered pair x → y (x ≠ y), each text of x ranks all texts
of y; exactly one is relevant (its translation). Reported: ``cross.map`` (equal to MRR with one relevant),
``cross.recall@1`` (bitext-mining accuracy), ``en_to_low.map`` (English into the low-resource and zero-shot
languages, where the forgetting was seen first) and the same grouped by the lower-resource side of each pair.

Both sides are encoded in the *query* role, as E5 prescribes for symmetric tasks ("use the query: prefix for
symmetric tasks such as semantic similarity, bitext mining"), and as sentence-transformers' ``encode_query`` does.

Sources, both offline:

* ``translation_howto`` — the passages of the bundled out-of-domain how-to set (:mod:`hf_hybrid.data.howto`),
  never used for training; translated by a language model (its data card says so).
* ``translation_cldr`` — territory names of the Unicode CLDR, read through the ``babel`` package: names written
  and vetted by people for each locale (Unicode licence), the human-translated check of the same question.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from hf_hybrid.errors import UserError
from hf_hybrid.evaluation.metrics import metrics_from_ranks, pad_relevant, source_ranks
from hf_hybrid.evaluation.multilingual import mean_metrics, pair_level, resolve_levels
from hf_hybrid.evaluation.results import SuiteResult, suite_result
from hf_hybrid.evaluation.scoring import score_source

REPORTED = ("map", "recall@1")


@dataclass
class TranslationSet:
    """Texts keyed by item and language: ``texts[item][lang]`` are translations of one another."""

    name: str
    dataset: str
    texts: dict[str, dict[str, str]]

    @property
    def languages(self) -> list[str]:
        return sorted({lang for by_lang in self.texts.values() for lang in by_lang})

    def side(self, lang: str) -> tuple[list[str], list[str]]:
        """(item keys, texts) of one language, in a fixed order."""
        keys = sorted(k for k, by_lang in self.texts.items() if lang in by_lang)
        return keys, [self.texts[k][lang] for k in keys]

    def fingerprint(self) -> str:
        import hashlib

        digest = hashlib.sha256()
        for key in sorted(self.texts):
            for lang in sorted(self.texts[key]):
                digest.update(f"{key}\x1f{lang}\x1f{self.texts[key][lang]}\x1e".encode())
        return digest.hexdigest()[:16]


def from_parallel(dataset, *, column: str = "passage", name: str, source: str) -> TranslationSet:
    """The ``column`` texts of a parallel-schema dataset, one item per group ``id``."""
    texts: dict[str, dict[str, str]] = defaultdict(dict)
    for row in dataset.select_columns(["id", "lang", column]):
        texts[str(row["id"])][row["lang"]] = row[column]
    return TranslationSet(name, source, dict(texts))


def from_cldr_territories(languages: list[str]) -> TranslationSet:
    """CLDR territory names in ``languages``: the countries and territories (two-letter codes) every language names."""
    return _from_cldr(languages, "territories", lambda code: len(code) == 2 and code.isalpha() and code != "ZZ",
                      "translation_cldr", "babel CLDR territory names")


def from_cldr_languages(languages: list[str]) -> TranslationSet:
    """CLDR language names in ``languages`` (two- and three-letter codes every language names): human-vetted short
    translations like the territory names, but disjoint from them and from every test suite, so they can choose a
    setting (the grid's ``wise_dev``: a WiSE-FT α picked on held-out data, never on the test sets)."""
    return _from_cldr(languages, "languages", lambda code: len(code) in (2, 3) and code.isalpha(),
                      "translation_cldr_languages (dev)", "babel CLDR language names")


def _from_cldr(languages: list[str], attribute: str, keep, name: str, dataset: str) -> TranslationSet:
    try:
        from babel import Locale
    except ImportError:
        raise UserError(f"suite {name}", "needs the babel package",
                        "pip install babel (it is in hf-hybrid's dependencies)") from None
    names = {lang: getattr(Locale.parse(lang), attribute) for lang in languages}
    codes = [c for c in names[languages[0]] if keep(c)]
    texts = {c: {lang: names[lang][c] for lang in languages} for c in codes if all(c in names[lang] for lang in languages)}
    return TranslationSet(name, dataset, texts)


def flat_texts(tset: TranslationSet) -> tuple[list[str], list[str], dict[str, tuple[list[str], np.ndarray]]]:
    """Every language's side in one list (texts, their languages) and, per language, its keys and row numbers:
    the rows a translation score source is built on."""
    texts: list[str] = []
    langs: list[str] = []
    rows: dict[str, tuple[list[str], np.ndarray]] = {}
    for lang in tset.languages:
        keys, side = tset.side(lang)
        rows[lang] = (keys, np.arange(len(texts), len(texts) + len(side)))
        texts += side
        langs += [lang] * len(side)
    return texts, langs, rows


def embedding_source(tset: TranslationSet, embeddings: dict[str, np.ndarray]):
    """A score source from per-language embeddings (rows in :meth:`TranslationSet.side` order)."""
    import torch

    from hf_hybrid.evaluation.scoring import EmbeddingScores

    stacked = torch.as_tensor(np.concatenate([embeddings[lang] for lang in tset.languages]))
    return EmbeddingScores(stacked, stacked)


def score_translation(tset: TranslationSet, source, levels: dict[str, str]) -> dict:
    """Every ordered pair x → y, x ≠ y: each text of x against all texts of y (one relevant: its translation).
    ``source`` scores the rows of :func:`flat_texts` (embeddings: :func:`embedding_source`; or BM25)."""
    pairs: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    _, _, rows = flat_texts(tset)
    for x, (x_keys, x_rows) in rows.items():
        for y, (y_keys, y_rows) in rows.items():
            if x == y:
                continue
            where = {k: i for i, k in enumerate(y_keys)}
            keep = [i for i, k in enumerate(x_keys) if k in where]
            if not keep:
                continue
            relevant = pad_relevant([[where[x_keys[i]]] for i in keep])
            ranks, _ = source_ranks(source, x_rows[keep], y_rows, relevant)
            values = metrics_from_ranks(ranks)
            pairs[x][y] = {m: float(values[m].mean()) for m in REPORTED}
    return {"pairs": dict(pairs), **_aggregate(pairs, levels)}


def _aggregate(pairs: dict, levels: dict[str, str]) -> dict:
    everything = [v for row in pairs.values() for v in row.values()]
    en_low = [v for y, v in pairs.get("en", {}).items() if levels.get(y) in ("low", "zero-shot")]
    groups: dict[str, list] = defaultdict(list)
    for x, row in pairs.items():
        for y, values in row.items():
            groups[pair_level(levels, x, y)].append(values)
    return {"metrics": mean_metrics(everything, "cross.") | mean_metrics(en_low, "en_to_low."),
            "by_resource": {level: mean_metrics(items, "cross.") for level, items in groups.items()}}


def evaluate_translation(model, tset: TranslationSet, *, zero_shot: list[str] | None = None,
                         resource_levels: dict[str, str] | None = None, batch_size: int = 64,
                         cache_dir: str | None = None, show_progress_bar: bool = False,
                         candidate_role: str = "query") -> SuiteResult:
    """Encode each text once (query role), or index each language with BM25, and score every ordered pair.
    ``candidate_role="passage"`` encodes the side searched in as documents instead (asymmetric retrieval: what
    ``docs/truncation.md`` compares the E5 rule with); the suite's name then says so."""
    if len(tset.languages) < 2:
        raise UserError("translation set", f"{tset.name!r} has languages {tset.languages}",
                        "give texts in at least two languages")
    texts, langs, _ = flat_texts(tset)
    source = score_source(model, texts, langs, texts, langs, query_role="query", cand_role=candidate_role,
                          batch_size=batch_size, cache_dir=cache_dir, show_progress_bar=show_progress_bar)
    levels = resolve_levels(tset.languages, resource_levels, zero_shot)
    scored = score_translation(tset, source, levels)
    name = tset.name if candidate_role == "query" else f"{tset.name} ({candidate_role} role)"
    return suite_result(name=name, type="translation", dataset=tset.dataset, split="test",
                        fingerprint=tset.fingerprint(), languages=tset.languages, resource_levels=levels,
                        metrics=scored["metrics"], main_score="cross.map", by_resource=scored["by_resource"],
                        pairs=scored["pairs"], sizes={"items": len(tset.texts)})
