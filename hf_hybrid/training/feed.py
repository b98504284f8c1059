"""The trainer's rows, computed from the plan when it asks for them: memory flat in the number of steps.

Materializing the plan (``max_steps × batch_size`` rows of text, 2 M for the paper's 20 k steps × 100) before the
first step does not scale; the plan is a pure function of (seed, step), so every row can be made on demand.
sentence-transformers' trainer takes a ``datasets.Dataset`` (it drives our batch sampler, its model card reads
the dataset), so the feed *is* one: a memory-mapped Arrow file holding only the row numbers ``0 … N-1`` (written
in chunks, 8 bytes a row on disk, only the pages read are resident), with ``set_transform`` turning the row numbers
the DataLoader asks for into ``anchor`` / ``positive`` / ``negative`` texts through :func:`~hf_hybrid.sampling.
batch_rows` — the same function ``materialize`` uses, so the texts are exactly the materialized plan's.

Training reads steps in order, so the feed keeps the plan's own iterator running (``BatchPlan.batches``, which
carries the pools' draw counts forward) and restarts it only on a jump (resume, the model card's samples).

With translation batches (``beta > 0``) every row also carries its batch kind as ``dataset_name``, the key by which
sentence-transformers' collator picks a set of prompts per batch (:func:`kind_prompts`), and which its trainer
removes before the loss.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
from datasets import Dataset

from hf_hybrid.plan_config import KINDS, TRANSLATION, PlanConfig
from hf_hybrid.plan_rows import batch_rows
from hf_hybrid.sampling import Batch, BatchPlan, arrow_rows

_CHUNK = 1 << 20  # row numbers written per Arrow record batch
_RECENT = 8  # batches kept: the DataLoader prefetches ahead of the step the loss is computed for


class PlanFeed:
    """Rows and per-step labels of a plan, made on demand. ``columns``: what the trainer sees."""

    def __init__(self, dataset: Dataset, plan: BatchPlan, columns: list[str]):
        self.table, self.plan, self.columns = arrow_rows(dataset), plan, columns
        self.batch_size = plan.config.batch_size
        self.kind_column = bool(plan.config.beta)  # per-kind prompts need the kind on every row
        self._stream, self._next = None, -1
        self._recent: OrderedDict[int, Batch] = OrderedDict()

    def batch(self, step: int) -> Batch:
        if step in self._recent:
            return self._recent[step]
        if step != self._next:
            self._stream = self.plan.batches(step)
        batch = next(self._stream)
        self._next = step + 1
        self._recent[step] = batch
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        return batch

    def label(self, step: int) -> tuple[str, ...]:
        """The step's batch kind and language-pair bucket (``mono/sw-sw``, ``cross/en-sw`` for one pair per batch,
        ``cross/mixed`` when pairs vary inside the batch), for the per-kind and per-bucket loss logs."""
        if step >= self.plan.max_steps:
            return ()
        batch = self.batch(step)
        q, p = set(batch.query_lang), set(batch.passage_lang)
        pair = f"{q.pop()}-{p.pop()}" if len(q) == 1 and len(p) == 1 else "mixed"
        return batch.kind, f"{batch.kind}/{pair}"

    def transform(self, rows: dict) -> dict[str, list]:
        """``set_transform`` hook: row numbers → texts, grouped by step (a DataLoader batch is one step's slice)."""
        numbers = np.asarray(rows["row"], dtype=np.int64)
        out: dict[str, list] = {c: [] for c in self.columns}
        steps, positions = np.divmod(numbers, self.batch_size)
        for step in dict.fromkeys(steps.tolist()):
            part = batch_rows(self.table, [self.batch(step)]).take(pa.array(positions[steps == step]))
            for column in self.columns:
                out[column].extend(part[column].to_pylist())
            if self.kind_column:
                out.setdefault("dataset_name", []).extend(part["kind"].to_pylist())
        return out

    def dataset(self, folder: Path) -> Dataset:
        """The trainer's dataset: ``max_steps × batch_size`` row numbers on disk under ``folder``, plus the
        transform. (A jump back inside one ``transform`` call never happens: a call asks for one step's rows.)"""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "rows.arrow"
        total = self.plan.max_steps * self.batch_size
        schema = pa.schema([("row", pa.int64())])
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
            for start in range(0, total, _CHUNK):
                numbers = pa.array(np.arange(start, min(total, start + _CHUNK), dtype=np.int64))
                writer.write_batch(pa.record_batch([numbers], schema=schema))
        rows = Dataset.from_file(str(path))
        # datasets tries to hash the transform for its cache and warns that it cannot (the feed holds a live
        # iterator); nothing here is cached, so the random fingerprint it falls back to is right: no warning.
        verbosity = datasets.logging.get_verbosity()
        datasets.logging.set_verbosity_error()
        try:
            rows.set_transform(self.transform)
        finally:
            datasets.logging.set_verbosity(verbosity)
        return rows

    def head(self, steps: int) -> Dataset:
        """The first ``steps`` steps' rows as a small in-memory dataset (for the model card's examples)."""
        steps = min(steps, self.plan.max_steps)
        batches = [self.batch(s) for s in range(steps)]
        return Dataset(batch_rows(self.table, batches).select(self.columns))


def kind_prompts(prompts: dict[str, str] | None, plan_cfg: PlanConfig) -> dict | None:
    """The trainer's ``prompts``: the column prompts (``anchor`` → query prompt, ``positive`` / ``negative`` →
    passage prompt) as they are, or with translation batches one set per batch kind, in sentence-transformers'
    per-dataset form (``{kind: {column: prompt}}``, matched to the ``dataset_name`` the feed gives each row).

    A translation batch pairs two passages, a symmetric task: both sides (and a negative) get the *query* prompt,
    as E5 prescribes for bitext ("use the query: prefix for symmetric tasks such as … bitext mining") and as the
    translation-retrieval evaluation encodes both sides (:mod:`hf_hybrid.evaluation.translation`). Without this,
    the column rule would put the query prompt on one passage and the passage prompt on its translation."""
    if not prompts or not plan_cfg.beta:
        return prompts
    query = {column: prompts["anchor"] for column in ("anchor", "positive", "negative")} if "anchor" in prompts \
        else {}
    return {kind: query if kind == KINDS[TRANSLATION] else prompts for kind in KINDS}
