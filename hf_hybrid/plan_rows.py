"""A batch plan's rows as texts: which query, passage and negative each planned row trains on.

:func:`batch_rows` is the one place that turns a plan's row indices into texts; :func:`materialize` writes a whole
plan as a dataset in batch order (the "materialized plan" published on the Hub), and the trainer's lazy feed
(:mod:`hf_hybrid.training.feed`) reads the same rows step by step, so the two always agree.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset

from hf_hybrid.plan_config import KINDS, TRANSLATION
from hf_hybrid.sampling import Batch, BatchPlan, arrow_rows


def batch_rows(dataset_table: pa.Table, batches: list[Batch]) -> pa.Table:
    """The rows of some batches, in order: ``batch, kind, query_lang, passage_lang, anchor, positive[, negative]``.

    ``anchor`` is the query row's query, or in a translation batch its passage (``positive`` is always the passage
    row's passage). Hard negatives follow the passage: the negative is the first of the passage row's ``negatives``,
    i.e. in the passage's language. The one place that turns a plan's row indices into texts (materialize and the
    trainer's lazy feed both use it), so a materialized plan and a training run always see the same rows."""
    q = np.concatenate([b.query_rows for b in batches])
    p = np.concatenate([b.passage_rows for b in batches])
    sizes = [len(b.query_rows) for b in batches]
    translation = np.repeat([b.kind == KINDS[TRANSLATION] for b in batches], sizes)
    cols = {
        "batch": pa.array(np.repeat([b.step for b in batches], sizes), pa.int64()),
        "kind": pa.array(np.concatenate([[b.kind] * n for b, n in zip(batches, sizes, strict=True)]), pa.string()),
        "query_lang": pa.array(np.concatenate([b.query_lang for b in batches]), pa.string()),
        "passage_lang": pa.array(np.concatenate([b.passage_lang for b in batches]), pa.string()),
        "anchor": _anchors(dataset_table, q, translation),
        "positive": _take_texts(dataset_table["passage"], p),
    }
    if "negatives" in dataset_table.column_names:
        cols["negative"] = _take_texts(pc.list_element(dataset_table["negatives"], 0), p)
        if "trap_negatives" in dataset_table.column_names:
            cols["negative"] = _language_traps(dataset_table, q, p, cols["negative"])
    return pa.table(cols)


def _anchors(table: pa.Table, q: np.ndarray, translation: np.ndarray) -> pa.ChunkedArray:
    """The anchors: ``query`` of the query rows, ``passage`` where the row is in a translation batch — one take over
    the two columns laid end to end."""
    if not translation.any():
        return _take_texts(table["query"], q)
    query, passage = table["query"], table["passage"]
    if query.type != passage.type:
        query, passage = query.cast(pa.large_string()), passage.cast(pa.large_string())
    both = pa.chunked_array(query.chunks + passage.chunks, type=query.type)
    return _take_texts(both, np.where(translation, q + len(table), q))


def _language_traps(table: pa.Table, q: np.ndarray, p: np.ndarray, negative: pa.ChunkedArray) -> pa.ChunkedArray:
    """Language-trap negatives (``hf-hybrid mine --language_trap``): a cross-lingual pair (query in x, passage in
    y != x) takes the first of the QUERY row's ``trap_negatives`` (a near miss in x, never of the group) when it
    has one, so a model that ranks its own language first is penalized; a monolingual pair, or a query row
    without traps, keeps the passage row's negative."""
    langs = table["lang"].to_numpy()
    traps = table["trap_negatives"]
    has_trap = pc.fill_null(pc.list_value_length(traps), 0).to_numpy(zero_copy_only=False)[q] > 0
    use = (langs[q] != langs[p]) & has_trap
    if not use.any():
        return negative
    trap = _take_texts(pc.list_element(traps, 0), np.where(use, q, q[use][0]))
    return pc.if_else(pa.array(use), trap, negative)


_STRING_BYTES = 2**31 - 1  # Arrow's ``string`` holds at most this many bytes per array (32-bit offsets)


def _take_texts(column: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """``column.take(rows)``; as ``large_string`` when the result would pass Arrow's 2 GiB ``string`` limit (a
    very long text repeated over many plan rows: 50 MB × 43 rows is enough), which ``take`` cannot represent."""
    lengths = pc.fill_null(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
    if int(lengths[rows].sum()) > _STRING_BYTES:
        column = column.cast(pa.large_string())
    return column.take(pa.array(rows))


def materialize(dataset: Dataset, plan: BatchPlan, start: int = 0, stop: int | None = None) -> Dataset:
    """The plan as rows in batch order (see :func:`batch_rows`), steps ``start … stop-1``.

    Any trainer that reads these rows in order, ``batch_size`` at a time, reproduces the run; this is also the
    "materialized plan" config published on the Hub. Training itself does not materialize the plan (its memory
    would grow with the number of steps): it reads the same rows lazily (:mod:`hf_hybrid.training.feed`).
    """
    from tqdm.auto import tqdm

    stop = plan.max_steps if stop is None else stop
    table = arrow_rows(dataset)
    parts, chunk = [], []
    steps = plan.batches(start, stop)
    for batch in tqdm(steps, total=stop - start, desc="materializing plan", unit="step", disable=stop - start < 5000):
        chunk.append(batch)
        if len(chunk) >= 1024:
            parts.append(batch_rows(table, chunk))
            chunk = []
    if chunk:
        parts.append(batch_rows(table, chunk))
    return Dataset(pa.concat_tables(parts, promote_options="permissive"))  # string + large_string parts
