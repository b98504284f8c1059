"""BEIR-format retrieval: datasets by name (BEIR's own download) or from a local BEIR folder, monolingual or
cross-lingual (queries file in one language, corpus in another). Metrics come from ``pytrec_eval``, exactly as
BEIR computes them, on an exact top-k run scored in chunks from embeddings computed once.

A BEIR folder is ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``, ``text``) and
``qrels/<split>.tsv`` (header ``query-id  corpus-id  score``), as in Thakur et al., NeurIPS 2021.
"""

from __future__ import annotations

import csv
import hashlib
import json
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytrec_eval
import torch
from sentence_transformers import SentenceTransformer

from hf_hybrid.errors import UserError
from hf_hybrid.evaluation.results import SuiteResult, suite_result
from hf_hybrid.evaluation.scoring import score_source

BEIR_URL = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/{name}.zip"


@dataclass
class RetrievalData:
    """Queries, corpus and graded qrels of one ad-hoc retrieval test collection."""

    name: str
    queries: dict[str, str]
    corpus: dict[str, str]
    qrels: dict[str, dict[str, int]]
    split: str = "test"
    query_lang: str | None = None
    corpus_lang: str | None = None
    metrics: tuple[str, ...] = ("ndcg@10", "recall@100")
    dataset: str = ""
    extra: dict = field(default_factory=dict)

    def validate(self) -> RetrievalData:
        """One-line errors for an empty corpus and for qrels naming unknown queries or documents."""
        if not self.corpus:
            raise UserError("corpus", f"{self.name!r} has an empty corpus", "give a corpus with documents")
        if not self.qrels:
            raise UserError("qrels", f"{self.name!r} has no judgements for split {self.split!r}",
                            "give a qrels file with query-id, corpus-id, score rows")
        unknown_q = sorted(set(self.qrels) - set(self.queries))
        if unknown_q:
            raise UserError("qrels", f"{self.name!r} names unknown query {unknown_q[0]!r} ({len(unknown_q)} in all)",
                            "make every qrels query-id appear in the queries file")
        unknown_d = sorted({d for rel in self.qrels.values() for d in rel} - set(self.corpus))
        if unknown_d:
            raise UserError("qrels", f"{self.name!r} names unknown document {unknown_d[0]!r} ({len(unknown_d)} in all)",
                            "make every qrels corpus-id appear in the corpus")
        return self

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for table in (self.queries, self.corpus):
            for key in sorted(table):
                digest.update(f"{key}\x1f{table[key]}\x1e".encode())
        digest.update(json.dumps(self.qrels, sort_keys=True).encode())
        return digest.hexdigest()[:16]


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise UserError("beir", f"file {str(path)!r} not found", "give a BEIR folder with corpus.jsonl and queries.jsonl")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels_tsv(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels: a header line, then ``query-id<TAB>corpus-id<TAB>score``."""
    if not path.is_file():
        raise UserError("qrels", f"file {str(path)!r} not found", "give qrels/<split>.tsv or pick an existing --split")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader, None)
        for row in reader:
            if len(row) >= 3 and int(row[2]) > 0:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def read_trec_qrels(path: Path) -> dict[str, dict[str, int]]:
    """TREC qrels: ``qid Q0 docid relevance`` separated by whitespace (CIRAL, AfriCLIRMatrix)."""
    if not path.is_file():
        raise UserError("qrels", f"file {str(path)!r} not found", "check the folder layout")
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 4 and int(parts[3]) > 0:
            qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return qrels


def load_beir_folder(
    folder: str | Path, *, split: str = "test", queries_file: str | Path | None = None,
    query_lang: str | None = None, corpus_lang: str | None = None,
) -> RetrievalData:
    """A local BEIR folder; ``queries_file`` swaps in queries in another language (cross-lingual BEIR)."""
    root = Path(folder)
    if not root.is_dir():
        raise UserError("beir", f"folder {str(root)!r} not found", "give a BEIR folder or a BEIR dataset name")
    corpus = {str(d["_id"]): f"{d.get('title', '')} {d['text']}".strip() for d in read_jsonl(root / "corpus.jsonl")}
    queries = {str(q["_id"]): q["text"] for q in read_jsonl(Path(queries_file) if queries_file else root / "queries.jsonl")}
    qrels = read_qrels_tsv(root / "qrels" / f"{split}.tsv")
    name = root.name if not queries_file else f"{root.name}[{Path(queries_file).stem}]"
    return RetrievalData(name, queries, corpus, qrels, split, query_lang, corpus_lang, dataset=str(root)).validate()


def download_beir(name: str, cache_dir: str | Path) -> Path:
    """BEIR's own download path (the zip on the UKP server), unpacked once into ``cache_dir``."""
    target = Path(cache_dir) / name
    if (target / "corpus.jsonl").is_file():
        return target
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    archive = Path(cache_dir) / f"{name}.zip"
    try:
        urllib.request.urlretrieve(BEIR_URL.format(name=name), archive)
    except OSError as err:
        raise UserError("beir", f"cannot download {name!r} ({err.__class__.__name__})",
                        "check the name (e.g. scifact, nfcorpus) and the network, or give a local BEIR folder") from None
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(cache_dir)
    archive.unlink()
    return target


def exact_top_k(queries: torch.Tensor, corpus: torch.Tensor, k: int, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by dot product, ``chunk`` queries at a time so memory stays ``chunk × |corpus|``."""
    from hf_hybrid.evaluation.scoring import EmbeddingScores

    return source_top_k(EmbeddingScores(queries, corpus), queries.shape[0], corpus.shape[0], k, chunk)


def source_top_k(source, n_queries: int, n_docs: int, k: int, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of every query over all documents of a :class:`~hf_hybrid.evaluation.scoring.ScoreSource`
    (embeddings or BM25), ``chunk`` queries at a time."""
    k = min(k, n_docs)
    docs = np.arange(n_docs)
    scores, indices = [], []
    for start in range(0, n_queries, chunk):
        top = source.scores(np.arange(start, min(start + chunk, n_queries)), docs).topk(k, dim=1)
        scores.append(top.values.cpu().numpy())
        indices.append(top.indices.cpu().numpy())
    return np.concatenate(scores), np.concatenate(indices)


_TREC_MEASURES = {"ndcg": "ndcg_cut", "recall": "recall", "map": "map_cut"}


def score_run(data: RetrievalData, run: dict[str, dict[str, float]]) -> dict[str, float]:
    """``pytrec_eval`` means over the judged queries for ``data.metrics`` (names like ``ndcg@10``)."""
    measures = {f"{_TREC_MEASURES[m.split('@')[0]]}.{m.split('@')[1]}" for m in data.metrics}
    per_query = pytrec_eval.RelevanceEvaluator(data.qrels, measures).evaluate(run)
    out = {}
    for metric in data.metrics:
        base, k = metric.split("@")
        key = f"{_TREC_MEASURES[base]}_{k}"
        out[metric] = float(np.mean([per_query[q][key] for q in data.qrels]))
    return out


def evaluate_retrieval(
    model: SentenceTransformer, data: RetrievalData, *, batch_size: int = 64, cache_dir: str | None = None,
    show_progress_bar: bool = True, suite_type: str = "beir",
) -> SuiteResult:
    """Encode queries and corpus once (or index them with BM25), retrieve the exact top 1000, and score with
    pytrec_eval. BM25 tokenizes by ``query_lang`` / ``corpus_lang`` when the collection names them."""
    qids = [q for q in data.queries if q in data.qrels]
    dids = list(data.corpus)
    source = score_source(model, [data.queries[q] for q in qids], [data.query_lang] * len(qids),
                          [data.corpus[d] for d in dids], [data.corpus_lang] * len(dids), batch_size=batch_size,
                          cache_dir=cache_dir, show_progress_bar=show_progress_bar)
    scores, indices = source_top_k(source, len(qids), len(dids), 1000)
    run = {q: {dids[j]: float(s) for j, s in zip(indices[i], scores[i], strict=True)} for i, q in enumerate(qids)}
    langs = [lang for lang in (data.query_lang, data.corpus_lang) if lang]
    return suite_result(
        name=data.name, type=suite_type, dataset=data.dataset or data.name, split=data.split,
        fingerprint=data.fingerprint(), languages=list(dict.fromkeys(langs)), metrics=score_run(data, run),
        main_score=data.metrics[0], sizes={"queries": len(qids), "corpus": len(dids)},
    )


def run_beir(
    model: SentenceTransformer, folder_or_name: str | Path, *, split: str = "test",
    queries_file: str | Path | None = None, download_dir: str | Path | None = None, **kwargs,
) -> SuiteResult:
    """One BEIR suite: a local folder, or a BEIR dataset name fetched by BEIR's own download path."""
    path = Path(folder_or_name)
    if not path.exists() and "/" not in str(folder_or_name):
        path = download_beir(str(folder_or_name), download_dir or Path.home() / ".cache" / "hf_hybrid" / "beir")
    return evaluate_retrieval(model, load_beir_folder(path, split=split, queries_file=queries_file), **kwargs)
