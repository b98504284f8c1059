"""Parallel evaluation data as BEIR folders, one per language pair, and their scores through the BEIR path.

The question our users bring is phrased in BEIR terms (zero-shot retrieval, nDCG@10, Recall@100), while the paper
reports LAReQA's mAP. Exporting the parallel test split as one BEIR folder per ordered pair (queries in x, corpus in
y; Thakur et al., NeurIPS 2021, cross-lingual the way XOR-TyDi / CLIRMatrix pair a query language with a document
language) lets every model be scored by the same files any BEIR user can read, beside mAP:

    <out>/<x>-<y>/corpus.jsonl     the passages in y (``_id`` = group id)
    <out>/<x>-<y>/queries.jsonl    the questions in x (``_id`` = group id)
    <out>/<x>-<y>/qrels/test.tsv   each question → its group's passage in y (score 1)

Scoring reads the folders back with :func:`~hf_hybrid.evaluation.beir.load_beir_folder` and scores an exact run
with ``pytrec_eval`` (:func:`~hf_hybrid.evaluation.beir.score_run`), as BEIR does; each distinct text is encoded
once for all pairs (100 folders share 10 languages' texts). Aggregates: ``mono`` = x → x pairs, ``cross`` = x → y,
x ≠ y, each macro-averaged over pairs and grouped by the lower-resource side of a pair, as the multilingual suite
groups them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import torch

from hf_hybrid.atomic import atomic_dir
from hf_hybrid.bm25 import BM25Model, BM25Scores
from hf_hybrid.evaluation.beir import RetrievalData, load_beir_folder, score_run, source_top_k
from hf_hybrid.evaluation.embeddings import encode_unique, model_fingerprint
from hf_hybrid.evaluation.multilingual import mean_metrics, pair_level, resolve_levels
from hf_hybrid.evaluation.results import SuiteResult, suite_result
from hf_hybrid.evaluation.scoring import EmbeddingScores

METRICS = ("ndcg@10", "recall@100")
MANIFEST = "pairs.json"


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def export_beir_pairs(dataset, out: str | Path, *, name: str = "parallel") -> Path:
    """Write one BEIR folder per ordered language pair of a parallel-schema split; the whole tree is replaced
    atomically, so a reader never sees half an export. Returns ``out``."""
    by_lang: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in dataset.select_columns(["id", "lang", "query", "passage"]):
        by_lang[row["lang"]][str(row["id"])] = row
    langs = sorted(by_lang)
    with atomic_dir(out) as tmp:
        for x in langs:
            for y in langs:
                shared = sorted(set(by_lang[x]) & set(by_lang[y]))
                folder = tmp / f"{x}-{y}"
                (folder / "qrels").mkdir(parents=True)
                _write_jsonl(folder / "corpus.jsonl", [{"_id": g, "title": "", "text": r["passage"]}
                                                       for g, r in sorted(by_lang[y].items())])
                _write_jsonl(folder / "queries.jsonl", [{"_id": g, "text": by_lang[x][g]["query"]} for g in shared])
                (folder / "qrels" / "test.tsv").write_text(
                    "query-id\tcorpus-id\tscore\n" + "".join(f"{g}\t{g}\t1\n" for g in shared), encoding="utf-8")
        (tmp / MANIFEST).write_text(json.dumps({"name": name, "languages": langs}, indent=2) + "\n")
    return Path(out)


def load_beir_pairs(folder: str | Path) -> dict[tuple[str, str], RetrievalData]:
    """The exported pairs, read back through the BEIR reader."""
    root = Path(folder)
    langs = json.loads((root / MANIFEST).read_text())["languages"]
    return {(x, y): load_beir_folder(root / f"{x}-{y}", query_lang=x, corpus_lang=y) for x in langs for y in langs}


def _pair_scores(pairs: dict, source_for) -> dict[str, dict[str, dict[str, float]]]:
    """pytrec_eval scores of every pair; ``source_for(x, y, query_texts, doc_texts)`` gives the pair's
    :class:`~hf_hybrid.evaluation.scoring.ScoreSource`."""
    out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for (x, y), data in pairs.items():
        qids, dids = list(data.queries), list(data.corpus)
        source = source_for(x, y, [data.queries[q] for q in qids], [data.corpus[d] for d in dids])
        scores, indices = source_top_k(source, len(qids), len(dids), 100)
        run = {q: {dids[j]: float(s) for j, s in zip(indices[i], scores[i], strict=True)} for i, q in enumerate(qids)}
        data.metrics = METRICS
        out[x][y] = score_run(data, run)
    return dict(out)


def _embedding_sources(model, pairs: dict, **kwargs):
    """Each distinct text encoded once for all pairs; a pair's source stacks its rows."""
    queries = sorted({t for d in pairs.values() for t in d.queries.values()})
    docs = sorted({t for d in pairs.values() for t in d.corpus.values()})
    q_emb = dict(zip(queries, encode_unique(model, queries, role="query", **kwargs), strict=True))
    d_emb = dict(zip(docs, encode_unique(model, docs, role="passage", **kwargs), strict=True))
    return lambda x, y, q_texts, d_texts: EmbeddingScores(torch.stack([q_emb[t] for t in q_texts]),
                                                          torch.stack([d_emb[t] for t in d_texts]))


def _bm25_sources(model):
    """A BM25 index over each pair's corpus (language y), its queries tokenized as language x."""
    return lambda x, y, q_texts, d_texts: BM25Scores(model, q_texts, [x] * len(q_texts), d_texts, [y] * len(d_texts))


def _aggregate(pair_scores: dict, levels: dict[str, str]) -> tuple[dict, dict]:
    settings = {"mono": [], "cross": []}
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for x, row in pair_scores.items():
        for y, values in row.items():
            setting = "mono" if x == y else "cross"
            settings[setting].append(values)
            groups[pair_level(levels, x, y)][setting].append(values)
    metrics = {k: v for s, items in settings.items() for k, v in mean_metrics(items, f"{s}.").items()}
    by_resource = {lv: {k: v for s, items in sets.items() for k, v in mean_metrics(items, f"{s}.").items()}
                   for lv, sets in groups.items()}
    return metrics, by_resource


def evaluate_beir_pairs(model, folder: str | Path, *, zero_shot: list[str] | None = None,
                        resource_levels: dict[str, str] | None = None, batch_size: int = 64,
                        show_progress_bar: bool = False) -> SuiteResult:
    """nDCG@10 and Recall@100 of every exported pair, aggregated into mono / cross and by resource level."""
    pairs = load_beir_pairs(folder)
    if isinstance(model, BM25Model):
        source_for = _bm25_sources(model)
    else:
        source_for = _embedding_sources(model, pairs, batch_size=batch_size, show_progress_bar=show_progress_bar,
                                        fingerprint=model_fingerprint(model))
    scores = _pair_scores(pairs, source_for)
    queries = {t for d in pairs.values() for t in d.queries.values()}
    docs = {t for d in pairs.values() for t in d.corpus.values()}
    langs = sorted(scores)
    levels = resolve_levels(langs, resource_levels, zero_shot)
    metrics, by_resource = _aggregate(scores, levels)
    manifest = json.loads((Path(folder) / MANIFEST).read_text())
    return suite_result(name="beir_pairs", type="beir", dataset=f"{manifest['name']} as BEIR folders per pair",
                        split="test", fingerprint=_fingerprint(pairs), languages=langs, resource_levels=levels,
                        metrics=metrics, main_score="cross.ndcg@10", by_resource=by_resource, pairs=scores,
                        sizes={"pairs": len(pairs), "queries": len(queries), "corpus": len(docs)})


def _fingerprint(pairs: dict) -> str:
    import hashlib

    return hashlib.sha256("".join(d.fingerprint() for _, d in sorted(pairs.items())).encode()).hexdigest()[:16]
