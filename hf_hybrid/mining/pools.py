"""Candidate pools of one split: every distinct passage once, which groups it belongs to, and which rows search
which pool.

Why per-language pools: the plan moves a row's hard negative with its passage into the passage's language
(:func:`hf_hybrid.plan_rows.batch_rows`), so a row's negatives must be in the row's own language; a pooled search
would also rank the positive's translations first (in a parallel corpus they are the nearest passages by
construction), which is the false negative this miner exists to avoid. ``generic`` keeps one pool of all
languages, as a generic miner does, for the ablation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from datasets import Dataset


@dataclass
class Pools:
    passages: list[str]  # distinct passage texts of the split
    passage_of_row: np.ndarray  # row -> index into ``passages``
    group_passages: dict[str, np.ndarray]  # id -> indices of every passage of the group (all languages)
    pools: dict[str, np.ndarray]  # pool name (a language, or "all") -> candidate passage indices
    rows_of_pool: dict[str, np.ndarray]  # pool name -> rows that search it


def build_pools(split: Dataset, *, generic: bool) -> Pools:
    """Index the split's passages; one pool per language, or one pool ``all`` when ``generic``."""
    ids, langs, texts = split["id"], split["lang"], split["passage"]
    index: dict[str, int] = {}
    passage_of_row = np.array([index.setdefault(t, len(index)) for t in texts], dtype=np.int64)
    groups: dict[str, set[int]] = {}
    for row, gid in enumerate(ids):
        groups.setdefault(gid, set()).add(int(passage_of_row[row]))
    group_passages = {gid: np.array(sorted(members), dtype=np.int64) for gid, members in groups.items()}
    lang_arr = np.array(langs)
    if generic:
        names = {"all": np.ones(len(lang_arr), dtype=bool)}
    else:
        names = {lang: lang_arr == lang for lang in sorted(set(langs))}
    pools = {name: np.unique(passage_of_row[mask]) for name, mask in names.items()}
    rows = {name: np.flatnonzero(mask) for name, mask in names.items()}
    return Pools(list(index), passage_of_row, group_passages, pools, rows)
