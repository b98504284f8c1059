"""Mine hard negatives for parallel data: per-language pools, never a passage of the row's own group.

Written by hand rather than through sentence-transformers' ``util.mine_hard_negatives`` because that function
excludes only the anchor's own positive text(s): it has no notion of a *group* of parallel positives, so in a
pooled multilingual corpus it returns the positive's translations as "hard negatives" (the nearest passages, by
construction of parallel data), it cannot search one pool per row language in one call, nor count what it
excluded. The false-negative guards follow its definitions exactly (``range_min`` / ``range_max``,
``absolute_margin``: keep a candidate only if ``score + margin <= positive``; ``relative_margin``: only if
``score <= positive - |positive| * margin``; ``max_score``; ``range_min`` skips the first survivors of the
guards; ``sampling`` top or random), so settings carry over. Scores are cosine similarities of embeddings
encoded once per distinct text (:func:`hf_hybrid.evaluation.embeddings.encode_unique`), searched by exact
torch top-k per pool (a pool is one language of one split; FAISS pays off only far beyond that size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from datasets import Dataset, DatasetDict

from hf_hybrid.errors import UserError
from hf_hybrid.mining.config import MineConfig
from hf_hybrid.mining.pools import Pools, build_pools

_CHUNK = 1024  # query rows scored per matrix product (bounds memory at 1024 x pool size floats)


@dataclass
class Mined:
    negatives: list[list[str]]
    traps: list[list[str]] | None
    counts: dict = field(default_factory=dict)


def _guards(scores: np.ndarray, positive: float, cfg: MineConfig) -> np.ndarray:
    """Mask of candidates that pass sentence-transformers' false-negative guards."""
    keep = np.ones(len(scores), dtype=bool)
    if cfg.absolute_margin is not None:
        keep &= scores + cfg.absolute_margin <= positive
    if cfg.relative_margin is not None:
        keep &= scores <= positive - abs(positive) * cfg.relative_margin
    if cfg.max_score is not None:
        keep &= scores <= cfg.max_score
    return keep


def _top_candidates(q: torch.Tensor, c: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by cosine (embeddings are L2-normalised), chunked over queries."""
    scores, indices = [], []
    for start in range(0, len(q), _CHUNK):
        top = torch.topk(q[start:start + _CHUNK] @ c.T, k=k, dim=1)
        scores.append(top.values.numpy())
        indices.append(top.indices.numpy())
    return np.concatenate(scores), np.concatenate(indices)


def _pooled_translations(q_emb: torch.Tensor, p_emb: torch.Tensor, pools: Pools, ids: list[str], k: int) -> int:
    """How many of the rows' group translations a pooled, group-blind search would rank in its top ``k``
    candidates (besides the row's own passage): what the per-language pools and the group exclusion keep out."""
    total = 0
    for start in range(0, len(q_emb), _CHUNK):
        scores = q_emb[start:start + _CHUNK] @ p_emb.T
        kth = torch.topk(scores, k=min(k + 1, scores.shape[1]), dim=1).values[:, -1]  # +1: room for the own one
        for j in range(len(scores)):
            row = start + j
            group = pools.group_passages[ids[row]]
            others = group[group != pools.passage_of_row[row]]
            total += int((scores[j, torch.from_numpy(others)] >= kth[j]).sum())
    return total


def _pick(survivors: np.ndarray, cfg: MineConfig, rng: np.random.Generator) -> np.ndarray:
    if cfg.sampling == "random" and len(survivors) > cfg.num_negatives:
        return survivors[np.sort(rng.choice(len(survivors), size=cfg.num_negatives, replace=False))]
    return survivors[:cfg.num_negatives]


def _select(rows, top_idx, top_scores, positives, pools: Pools, ids, cfg, rng, counts) -> dict[int, tuple]:
    """Per row: drop the group's passages (or, generic, only the row's own), apply the guards, pick."""
    chosen = {}
    for j, row in enumerate(rows):
        own = pools.passage_of_row[row]
        group = pools.group_passages[ids[row]]
        cand, sc = top_idx[j], top_scores[j]
        excluded = (cand == own) if cfg.generic else np.isin(cand, group)
        cand, sc = cand[~excluded][:cfg.range_max], sc[~excluded][:cfg.range_max]
        keep = _guards(sc, float(positives[j]), cfg)
        counts["dropped_by_guards"] += int((~keep).sum())
        survivors = cand[keep][cfg.range_min:]
        picked = _pick(survivors, cfg, rng)
        counts["translations_returned"] += int(np.isin(picked, group).sum())
        chosen[row] = (picked, survivors[:cfg.language_trap])
    return chosen


def mine_split(split: Dataset, model, cfg: MineConfig) -> Mined:
    """Negatives (and trap negatives) for every row of ``split``, in row order."""
    from hf_hybrid.evaluation.embeddings import encode_unique

    pools = build_pools(split, generic=cfg.generic)
    q_emb = encode_unique(model, split["query"], role="query", batch_size=cfg.batch_size, show_progress_bar=False)
    p_emb = encode_unique(model, pools.passages, role="passage", batch_size=cfg.batch_size,
                          show_progress_bar=False)
    q_emb, p_emb = q_emb.float().cpu(), p_emb.float().cpu()
    ids = split["id"]
    largest_group = max(len(g) for g in pools.group_passages.values())
    rng = np.random.default_rng(cfg.seed)
    counts = {"translations_excluded": 0, "dropped_by_guards": 0, "translations_returned": 0}
    chosen: dict[int, tuple] = {}
    for name in sorted(pools.pools):
        pool, rows = pools.pools[name], pools.rows_of_pool[name]
        k = min(len(pool), cfg.range_max + largest_group)
        top_scores, local = _top_candidates(q_emb[rows], p_emb[pool], k)
        positives = (q_emb[rows] * p_emb[pools.passage_of_row[rows]]).sum(1).numpy()
        chosen |= _select(rows, pool[local], top_scores, positives, pools, ids, cfg, rng, counts)
    if not cfg.generic:
        counts["translations_excluded"] += _pooled_translations(q_emb, p_emb, pools, ids, cfg.range_max)
    text = pools.passages
    negatives = [[text[i] for i in chosen[row][0]] for row in range(len(split))]
    traps = [[text[i] for i in chosen[row][1]] for row in range(len(split))] if cfg.language_trap else None
    sizes = np.array([len(n) for n in negatives])
    counts |= {"rows": len(split), "negatives_per_row": {"min": int(sizes.min()), "mean": round(float(sizes.mean()), 3),
                                                         "max": int(sizes.max())},
               "rows_short": int((sizes < cfg.num_negatives).sum()), "rows_without": int((sizes == 0).sum()),
               "pools": {name: len(pool) for name, pool in pools.pools.items()}}
    return Mined(negatives, traps, counts)


def mine_dataset(cfg: MineConfig, model=None) -> tuple[DatasetDict, dict]:
    """Load ``cfg.data``, mine ``cfg.splits`` with ``cfg.model`` (or the given model); returns (data, summary).
    A mined split gets a ``negatives`` column (replacing any it had) and, with ``language_trap``,
    ``trap_negatives``; the other splits are returned unchanged."""
    from hf_hybrid.data import group_counts, load_parallel
    from hf_hybrid.models import load_model

    cfg.validate()
    data = load_parallel(cfg.data, languages=cfg.languages)
    missing = [s for s in cfg.splits if s not in data]
    if missing:
        raise UserError("splits", f"{cfg.data!r} has no split {missing[0]!r} (has {', '.join(data)})",
                        "choose splits the source has")
    model = model if model is not None else load_model(cfg.model)
    summary: dict = {"source": cfg.data, "splits": {}, "mining": {"model": cfg.model, "settings": cfg.settings(),
                                                                   "splits": {}}}
    out = {}
    for name, split in data.items():
        summary["splits"][name] = {"rows": len(split), "groups_per_language": group_counts(split)}
        if name not in cfg.splits:
            out[name] = split
            continue
        mined = mine_split(split, model, cfg)
        summary["mining"]["splits"][name] = mined.counts
        out[name] = _with_column(split, "negatives", mined.negatives)
        if mined.traps is not None:
            out[name] = _with_column(out[name], "trap_negatives", mined.traps)
    return DatasetDict(out), summary


def _with_column(split: Dataset, name: str, values: list[list[str]]) -> Dataset:
    from datasets import Sequence, Value

    if name in split.column_names:
        split = split.remove_columns(name)
    return split.add_column(name, values, feature=Sequence(Value("string")))
