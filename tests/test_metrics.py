"""Metric correctness: our closed forms from ranks against pytrec_eval, and hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest
import pytrec_eval
import torch

from hf_hybrid.evaluation import metrics
from hf_hybrid.evaluation.metrics import (
    metrics_from_ranks,
    pad_relevant,
    rank_distance,
    ranks_from_scores,
    relevant_ranks,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_pytrec_eval_on_random_runs(seed):
    rng = np.random.default_rng(seed)
    n_queries, n_docs = 40, 150
    scores = rng.random((n_queries, n_docs))  # distinct floats: no ties, so the orderings agree
    relevant = [sorted(rng.choice(n_docs, size=rng.integers(1, 15), replace=False).tolist())
                for _ in range(n_queries)]
    qrels = {f"q{i}": {f"d{j}": 1 for j in rel} for i, rel in enumerate(relevant)}
    run = {f"q{i}": {f"d{j}": float(scores[i, j]) for j in range(n_docs)} for i in range(n_queries)}
    measures = {"map", "ndcg_cut.10", "recall.1,10,100", "recip_rank"}
    reference = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)

    ranks = ranks_from_scores(torch.from_numpy(scores), torch.from_numpy(pad_relevant(relevant))).numpy()
    ours = metrics_from_ranks(ranks)
    for i in range(n_queries):
        ref = reference[f"q{i}"]
        assert ours["map"][i] == pytest.approx(ref["map"], abs=1e-4)  # trec_eval prints 4 decimals
        assert ours["ndcg@10"][i] == pytest.approx(ref["ndcg_cut_10"], abs=1e-4)
        for k in (1, 10, 100):
            assert ours[f"recall@{k}"][i] == pytest.approx(ref[f"recall_{k}"], abs=1e-4)
        first_rank = 1.0 / ref["recip_rank"]
        expected_mrr10 = ref["recip_rank"] if first_rank <= 10 + 1e-9 else 0.0
        assert ours["mrr@10"][i] == pytest.approx(expected_mrr10, abs=1e-4)


def test_chunked_ranks_match_unchunked_and_topk(monkeypatch):
    # A budget of 16 queries per chunk: 70 queries take 5 chunks, the last one partial.
    monkeypatch.setattr(metrics, "_COMPARE_BUDGET", 2 * 300 * 16)
    assert metrics.query_chunk(2, 300) == 16
    rng = np.random.default_rng(3)
    q = torch.nn.functional.normalize(torch.from_numpy(rng.normal(size=(70, 8))), dim=1)
    c = torch.nn.functional.normalize(torch.from_numpy(rng.normal(size=(300, 8))), dim=1)
    rel = pad_relevant([[i % 300, (i * 7) % 300] for i in range(70)])
    whole = ranks_from_scores(q @ c.T, torch.from_numpy(rel)).numpy()
    chunked, tops = relevant_ranks(q, c, rel, top_k=5)
    np.testing.assert_array_equal(whole, chunked)
    np.testing.assert_array_equal(tops, (q @ c.T).topk(5, dim=1).indices.numpy())


def test_ties_are_broken_by_candidate_index():
    scores = torch.tensor([[0.5, 0.9, 0.5, 0.5]])
    ranks = ranks_from_scores(scores, torch.tensor([[2, 0]]))
    assert ranks.tolist() == [[2.0, 3.0]]  # order 1, 0, 2, 3: among equal scores 0 precedes 2


def test_map_at_20_hand_worked():
    # R = 3 relevant at ranks 2, 5 and 30: hits in the top 20 are ranks 2 and 5.
    # XTREME-R: (1/2 + 2/5) / min(3, 20) = 0.9 / 3 = 0.3; full AP adds 3/30: (0.5 + 0.4 + 0.1) / 3.
    ranks = np.array([[2.0, 5.0, 30.0]])
    m = metrics_from_ranks(ranks)
    assert m["map@20"][0] == pytest.approx(0.3)
    assert m["map"][0] == pytest.approx(1.0 / 3.0)
    # R = 25 relevant, all at ranks 1..25: mAP@20 divides by min(25, 20) = 20, 20 hits of precision 1 → 1.0
    assert metrics_from_ranks(np.arange(1, 26, dtype=float)[None])["map@20"][0] == pytest.approx(1.0)
    # a single relevant at rank 21 is outside the top 20
    assert metrics_from_ranks(np.array([[21.0]]))["map@20"][0] == 0.0


def test_rank_distance_hand_worked():
    inf = np.inf
    ranks = np.array([[1.0, 4.0, 9.0], [3.0, 3.5, inf], [7.0, inf, inf]])
    dist = rank_distance(ranks)
    assert dist[0] == 8.0  # 9 − 1
    assert dist[1] == 0.5
    assert np.isnan(dist[2])  # one relevant passage: no spread


def test_queries_without_relevant_are_rejected():
    with pytest.raises(ValueError, match="at least one relevant"):
        metrics_from_ranks(np.array([[np.inf]]))
