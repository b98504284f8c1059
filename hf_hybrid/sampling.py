"""Batch plans: which kind of batch (monolingual or cross-lingual) every global training step uses.

Strategies (arXiv 2408.10536, after LAReQA's batch types):

* ``mono`` (the paper's X-X-mono): every batch is monolingual — one language per batch, drawn per step;
* ``cross`` (X-Y): every batch is cross-lingual — each row has its own query language x and passage language
  y ≠ x, languages mixed inside the batch as in the paper (``cross_pairing="pair"``: one (x, y) per batch);
* ``hybrid``: each batch is mono with probability ``alpha``, cross otherwise (the paper's method, α = 0.5);
* ``sequential``: steps before ``switch_step`` use ``first``, the rest ``then`` (the two-stage baseline);
* ``mixed`` (LAReQA's X-X, an ablation): each row monolingual, languages mixed inside the batch.

Any strategy can also give a share ``beta`` of its steps to **translation** batches, against forgetting: each row is
a group's *passage* in language x and the same group's passage in y ≠ x (a pair of translations; languages mixed
inside the batch), no two rows of one group — the translation ranking task with in-batch negatives that multilingual
bases are pre-trained on (LaBSE, Feng et al., ACL 2022). Passages, not queries: the forgetting shows on passage
translation retrieval (the how-to set), and a passage is the longer, richer pair. Whether a step is a translation
batch is drawn from its own stream, so with ``beta = 0`` every plan is bit-identical to a plan without it, and with
``beta > 0`` the other steps keep their strategy's choices (hybrid: mono with probability alpha, else cross).

Why a plan and not a shuffling sampler: in-batch negatives are what make the kind of batch matter, so a batch
must be homogeneous in kind across *all* processes. A plan is drawn once, from one seed, for the global batch;
each process trains on its slice. Every random choice is a pure function of ``(seed, step)`` (or of
``(seed, pool, epoch)`` for the without-replacement pools), so any step can be regenerated — which is what
makes an interrupted run resume exactly.

Memory is linear in the number of groups: one ``groups × languages`` table of row indices (int32/int64) and one
permutation per pool; nothing is ever materialized per language pair.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset
from sentence_transformers.base.sampler import DefaultBatchSampler

from hf_hybrid.errors import UserError
from hf_hybrid.plan_config import CROSS, KINDS, MIXED, MONO, TRANSLATION, PlanConfig

_BLOCK = 4096  # steps whose per-step choices are drawn together (vectorized replay for resume)


@dataclass
class Batch:
    """One global batch: for every row, the query row and passage row of the parallel dataset. In a translation
    batch the "query row" is the row whose *passage* is the anchor (language ``query_lang``)."""

    step: int
    kind: str
    query_rows: np.ndarray
    passage_rows: np.ndarray
    query_lang: np.ndarray  # language codes (str) per row
    passage_lang: np.ndarray

    def slice(self, rank: int, world_size: int) -> Batch:
        """The contiguous slice process ``rank`` trains on (Accelerate's ``split_batches`` slicing)."""
        size = len(self.query_rows) // world_size
        part = slice(rank * size, (rank + 1) * size)
        return Batch(self.step, self.kind, self.query_rows[part], self.passage_rows[part],
                     self.query_lang[part], self.passage_lang[part])


def arrow_rows(dataset: Dataset) -> pa.Table:
    """The dataset's Arrow table numbered as the dataset numbers its rows. ``select``, ``filter`` and ``shuffle``
    keep the table and add an indices mapping, so ``dataset.data.table`` alone would give other rows; without a
    mapping this is a zero-copy slice of the table."""
    return dataset.with_format("arrow")[:]


class PlanIndex:
    """Row lookup ``(group, language) → row`` built from the ``id`` and ``lang`` Arrow columns.

    Factorizing with Arrow's dictionary encoding keeps this fast and flat on millions of rows. A row number is the
    dataset's own (:func:`arrow_rows`), as the trainer and :func:`hf_hybrid.plan_rows.materialize` read it."""

    def __init__(self, dataset: Dataset):
        table = arrow_rows(dataset.select_columns(["id", "lang"]))
        ids = pc.dictionary_encode(table["id"].cast(pa.string())).combine_chunks()
        langs = pc.dictionary_encode(table["lang"].cast(pa.string())).combine_chunks()
        self.group_of_row = ids.indices.to_numpy(zero_copy_only=False)
        lang_of_row = langs.indices.to_numpy(zero_copy_only=False)
        self.group_ids = ids.dictionary
        self.languages = [str(x) for x in langs.dictionary.to_pylist()]
        dtype = np.int32 if len(dataset) < 2**31 else np.int64
        self.row_of = np.full((len(self.group_ids), len(self.languages)), -1, dtype=dtype)
        self.row_of[self.group_of_row, lang_of_row] = np.arange(len(dataset), dtype=dtype)
        self.has_negatives = "negatives" in dataset.column_names

    @property
    def num_groups(self) -> int:
        return self.row_of.shape[0]


class BatchPlan:
    """Deterministic batch plan over a parallel dataset (see the module docstring)."""

    def __init__(self, dataset: Dataset | PlanIndex, config: PlanConfig, max_steps: int):
        config.validate()
        self.config = config
        self.max_steps = max_steps
        self.index = dataset if isinstance(dataset, PlanIndex) else PlanIndex(dataset)
        self.switch_step = config.switch_step if config.switch_step is not None else max_steps // 2
        self._train = self._training_languages()
        self._pools = self._build_pools()
        self._mono_probs = self._language_probs()
        self._perm_cache: dict[int, tuple[int, np.ndarray]] = {}
        self._block_cache: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None

    # -- set-up -------------------------------------------------------------------------------------------
    def _training_languages(self) -> np.ndarray:
        known = self.index.languages
        wanted = self.config.train_languages or known
        for code in wanted:  # held-out languages may be absent from the training data: that is their point
            if code not in known:
                raise UserError("train_languages", f"language {code!r} is not in the training data (has "
                                f"{', '.join(sorted(known))})", "remove it from train_languages or train on data that has it")
        chosen = [known.index(c) for c in wanted if c not in set(self.config.exclude_languages)]
        if not chosen:
            raise UserError("languages", "no training language left after exclusions", "train on at least one")
        return np.array(sorted(chosen), dtype=np.int64)

    def _build_pools(self) -> dict[str, np.ndarray]:
        present = self.index.row_of[:, self._train] >= 0
        per_group = present.sum(axis=1)
        b = self.config.batch_size
        pools = {f"mono:{lang}": np.flatnonzero(present[:, j]) for j, lang in enumerate(self._train)}
        pools["multi"] = np.flatnonzero(per_group >= 2)
        pools["any"] = np.flatnonzero(per_group >= 1)
        pools["all"] = np.flatnonzero(per_group == len(self._train))
        pools["translation"] = pools["multi"]  # its own draws and permutations (the pool key is its name)
        uses = self.config.uses()
        names = self.index.languages
        if MONO in uses:
            for lang in self._train:
                size = len(pools[f"mono:{lang}"])
                if size < b:
                    raise UserError("batch_size", f"language {names[lang]!r} has {size} training groups, fewer than "
                                    f"one monolingual batch of {b} needs", f"lower batch_size to <= {size} or add "
                                    f"{names[lang]!r} to exclude_languages")
        if CROSS in uses:
            need = "all" if self.config.cross_pairing == "pair" else "multi"
            if len(self._train) < 2:
                raise UserError("languages", "cross-lingual batches need at least two training languages",
                                "train on two or more languages or use strategy 'mono'")
            if len(pools[need]) < b:
                raise UserError("batch_size", f"only {len(pools[need])} groups exist in two or more training "
                                f"languages, fewer than one cross-lingual batch of {b} needs",
                                f"lower batch_size to <= {len(pools[need])}")
        if TRANSLATION in uses:
            if len(self._train) < 2:
                raise UserError("beta", "translation batches need at least two training languages",
                                "train on two or more languages or set beta 0")
            if len(pools["translation"]) < b:
                raise UserError("batch_size", f"only {len(pools['translation'])} groups exist in two or more "
                                f"training languages, fewer than one translation batch of {b} needs",
                                f"lower batch_size to <= {len(pools['translation'])} or set beta 0")
        if MIXED in uses and len(pools["any"]) < b:
            raise UserError("batch_size", f"{len(pools['any'])} groups < batch size {b}", "lower batch_size")
        return pools

    def _language_probs(self) -> np.ndarray:
        if self.config.language_sampling == "uniform":
            return np.full(len(self._train), 1.0 / len(self._train))
        sizes = np.array([len(self._pools[f"mono:{lang}"]) for lang in self._train], dtype=np.float64)
        weights = sizes ** (1.0 / self.config.temperature)
        return weights / weights.sum()

    @property
    def training_languages(self) -> list[str]:
        return [self.index.languages[j] for j in self._train]

    # -- per-step choices, drawn a block at a time -------------------------------------------------------
    def _block(self, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kinds, mono language and (pair mode) cross pair for the steps of one block; pure in (seed, block)."""
        if self._block_cache is not None and self._block_cache[0] == block:
            return self._block_cache[1:]
        rng = np.random.default_rng([self.config.seed, 1, block])
        steps = np.arange(block * _BLOCK, (block + 1) * _BLOCK)
        draw = rng.random(_BLOCK)
        c = self.config
        if c.strategy == "hybrid":
            kinds = np.where(draw < c.alpha, MONO, CROSS)
        elif c.strategy == "sequential":
            kinds = np.where(steps < self.switch_step, KINDS.index(c.first), KINDS.index(c.then))
        else:
            kinds = np.full(_BLOCK, KINDS.index(c.strategy))
        if c.beta:  # a stream of its own: the strategy's draws below are those of the plan without beta
            kinds = np.where(np.random.default_rng([c.seed, 4, block]).random(_BLOCK) < c.beta, TRANSLATION, kinds)
        mono_lang = rng.choice(len(self._train), size=_BLOCK, p=self._mono_probs)
        pair = np.stack([rng.choice(len(self._train), size=2, replace=False) for _ in range(_BLOCK)]) \
            if c.cross_pairing == "pair" else np.zeros((_BLOCK, 2), dtype=np.int64)
        self._block_cache = (block, kinds.astype(np.int8), mono_lang, pair)
        return self._block_cache[1:]

    def kind(self, step: int) -> str:
        kinds, _, _ = self._block(step // _BLOCK)
        return KINDS[int(kinds[step % _BLOCK])]

    def _pool_name(self, kind: int, mono_lang: int) -> str:
        if kind == MONO:
            return f"mono:{self._train[mono_lang]}"
        if kind == CROSS:
            return "all" if self.config.cross_pairing == "pair" else "multi"
        return "translation" if kind == TRANSLATION else "any"

    def _draws_before(self, step: int) -> dict[str, int]:
        """How many batches each pool had given before ``step``: a vectorized replay of the cheap choices."""
        counts: dict[str, int] = {}
        for block in range(step // _BLOCK + 1):
            kinds, mono_lang, _ = self._block(block)
            upto = min(_BLOCK, step - block * _BLOCK)
            if upto <= 0:
                break
            k, m = kinds[:upto], mono_lang[:upto]
            for j, n in enumerate(np.bincount(m[k == MONO], minlength=len(self._train))):
                if n:
                    name = f"mono:{self._train[j]}"
                    counts[name] = counts.get(name, 0) + int(n)
            for kind in (CROSS, MIXED, TRANSLATION):
                n = int((k == kind).sum())
                if n:
                    name = self._pool_name(kind, 0)
                    counts[name] = counts.get(name, 0) + n
        return counts

    def _groups(self, pool: str, draw: int) -> np.ndarray:
        """The ``draw``-th batch of groups from a pool: without replacement within an epoch of the pool,
        refilled with a fresh permutation of ``(seed, pool, epoch)`` when exhausted (the tail that does not
        fill a batch is skipped, so no batch ever holds one id twice)."""
        members = self._pools[pool]
        b = self.config.batch_size
        per_epoch = len(members) // b
        epoch, offset = divmod(draw, per_epoch)
        pool_key = sum(ord(ch) * 131**i for i, ch in enumerate(pool)) % (2**31)
        cached = self._perm_cache.get(pool_key)
        if cached is None or cached[0] != epoch:
            perm = np.random.default_rng([self.config.seed, 2, pool_key, epoch]).permutation(len(members))
            cached = (epoch, members[perm])
            self._perm_cache[pool_key] = cached
        return cached[1][offset * b:(offset + 1) * b]

    def _make_batch(self, step: int, draws: dict[str, int]) -> Batch:
        kinds, mono_lang, pair = self._block(step // _BLOCK)
        i = step % _BLOCK
        kind = int(kinds[i])
        pool = self._pool_name(kind, int(mono_lang[i]))
        groups = self._groups(pool, draws.get(pool, 0))
        draws[pool] = draws.get(pool, 0) + 1
        rows = self.index.row_of[groups]  # (B, L) row indices, -1 where absent
        b = len(groups)
        if kind == MONO:
            q_lang = p_lang = np.full(b, self._train[mono_lang[i]])
        elif kind == CROSS and self.config.cross_pairing == "pair":
            q_lang, p_lang = np.full(b, self._train[pair[i, 0]]), np.full(b, self._train[pair[i, 1]])
        else:
            # Per row: a uniformly random ordered pair of distinct available training languages (cross and
            # translation), or one available language (mixed). Random keys with +inf on absent languages, then
            # argsort.
            keys = np.random.default_rng([self.config.seed, 3, step]).random((b, len(self._train)))
            keys[rows[:, self._train] < 0] = np.inf
            order = self._train[np.argsort(keys, axis=1)]
            q_lang = order[:, 0]
            p_lang = order[:, 1] if kind in (CROSS, TRANSLATION) else q_lang
        arange = np.arange(b)
        names = np.array(self.index.languages, dtype=object)
        return Batch(step, KINDS[kind], rows[arange, q_lang].astype(np.int64), rows[arange, p_lang].astype(np.int64),
                     names[q_lang], names[p_lang])

    # -- public API --------------------------------------------------------------------------------------
    def batches(self, start: int = 0, stop: int | None = None) -> Iterator[Batch]:
        """Batches for steps ``start … stop-1``; starting mid-way gives exactly the batches an uninterrupted run
        would have had there."""
        stop = self.max_steps if stop is None else stop
        draws = self._draws_before(start)
        for step in range(start, stop):
            yield self._make_batch(step, draws)

    def batch(self, step: int) -> Batch:
        return next(self.batches(step, step + 1))

    def summary(self) -> dict:
        kinds = {k: 0 for k in KINDS if k != KINDS[TRANSLATION] or self.config.beta}  # as before, without beta
        for block in range(0, (self.max_steps + _BLOCK - 1) // _BLOCK):
            k, _, _ = self._block(block)
            k = k[:max(0, min(_BLOCK, self.max_steps - block * _BLOCK))]
            for j, name in enumerate(KINDS):
                if name in kinds:
                    kinds[name] += int((k == j).sum())
        return {"strategy": self.config.describe(), "config": asdict(self.config), "steps": self.max_steps,
                "switch_step": self.switch_step if self.config.strategy == "sequential" else None,
                "training_languages": self.training_languages, "steps_per_kind": kinds,
                "groups": self.index.num_groups}


class PlanBatchSampler(DefaultBatchSampler):
    """Yields the materialized plan's global batches in order: batch ``s`` is rows ``[s*B, (s+1)*B)``.

    sentence-transformers accepts a ``DefaultBatchSampler`` subclass (or a factory) as the ``batch_sampler``
    training argument. The trainer passes its per-device batch size, which is not the plan's: the global batch
    size comes from :func:`plan_batch_sampler`. With Accelerate's ``split_batches=True`` every process then
    receives its contiguous slice of the same global batch, so all processes train on the same kind of batch
    in the same step (Accelerate's default would hand successive batches to successive processes).
    """

    def __init__(self, dataset, batch_size: int, drop_last: bool = True, valid_label_columns=None,
                 generator=None, seed: int = 0, global_batch_size: int | None = None):
        super().__init__(dataset, batch_size=global_batch_size or batch_size, drop_last=True,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        self.num_batches = len(dataset) // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        b = self.batch_size
        for step in range(self.num_batches):
            yield list(range(step * b, (step + 1) * b))

    def __len__(self) -> int:
        return self.num_batches


def plan_batch_sampler(global_batch_size: int):
    """A factory for the trainer's ``batch_sampler`` argument, bound to the plan's global batch size.

    A ``functools.partial`` (not a closure) because the trainer pickles its arguments into every checkpoint."""
    return functools.partial(PlanBatchSampler, global_batch_size=global_batch_size)
