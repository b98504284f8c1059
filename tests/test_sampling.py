"""Batch plans: kinds, determinism, resume, per-rank slices, no duplicate ids, negatives follow the passage."""

import numpy as np
import pyarrow as pa
import pytest
from datasets import Dataset

from hf_hybrid.data import make_world
from hf_hybrid.errors import UserError
from hf_hybrid.plan_rows import materialize
from hf_hybrid.sampling import BatchPlan, PlanBatchSampler, PlanConfig, plan_batch_sampler


@pytest.fixture(scope="module")
def world():
    return make_world(train_groups=400, dev_groups=10, test_groups=10, seed=1)


def plan(world, steps=60, **kw):
    cfg = PlanConfig(batch_size=kw.pop("batch_size", 16), exclude_languages=world.codes("zero"), **kw)
    return BatchPlan(world.dataset["train"], cfg, steps)


def rows_meta(world):
    train = world.dataset["train"]
    return np.array(train["id"]), np.array(train["lang"])


@pytest.mark.parametrize("strategy", ["mono", "cross", "hybrid", "sequential", "mixed"])
def test_every_batch_has_the_right_kind_and_no_duplicate_ids(world, strategy):
    ids, langs = rows_meta(world)
    p = plan(world, strategy=strategy)
    for batch in p.batches():
        q_ids, p_ids = ids[batch.query_rows], ids[batch.passage_rows]
        assert (q_ids == p_ids).all()  # each row is a true question-passage pair
        assert len(set(q_ids)) == len(q_ids)  # no false negatives
        assert (langs[batch.query_rows] == batch.query_lang).all()
        assert (langs[batch.passage_rows] == batch.passage_lang).all()
        if batch.kind == "mono":
            assert len(set(batch.query_lang)) == 1 and (batch.query_lang == batch.passage_lang).all()
        elif batch.kind == "cross":
            assert (batch.query_lang != batch.passage_lang).all()
            assert len(set(batch.query_lang)) > 1  # languages mixed inside the batch, as in the paper
        else:
            assert (batch.query_lang == batch.passage_lang).all() and len(set(batch.query_lang)) > 1
        assert not set(batch.query_lang) & set(world.codes("zero"))


def test_hybrid_alpha_controls_the_share_of_mono_steps(world):
    for alpha in (0.0, 0.25, 0.75, 1.0):
        kinds = plan(world, steps=2000, strategy="hybrid", alpha=alpha).summary()["steps_per_kind"]
        assert abs(kinds["mono"] / 2000 - alpha) < 0.04


def test_sequential_switches_once_at_the_switch_step(world):
    p = plan(world, steps=50, strategy="sequential", first="cross", then="mono", switch_step=20)
    kinds = [p.kind(s) for s in range(50)]
    assert kinds == ["cross"] * 20 + ["mono"] * 30


def test_plan_is_a_function_of_seed_and_step_and_resumes_exactly(world):
    full = list(plan(world, strategy="hybrid").batches())
    again = list(plan(world, strategy="hybrid").batches(start=37))
    for a, b in zip(full[37:], again, strict=True):
        assert a.kind == b.kind and (a.query_rows == b.query_rows).all() and (a.passage_rows == b.passage_rows).all()
    other = list(plan(world, strategy="hybrid", seed=7).batches())
    assert any((a.query_rows != b.query_rows).any() for a, b in zip(full, other, strict=True))


def test_pools_are_drawn_without_replacement_then_refilled(world):
    p = plan(world, steps=400, strategy="mono", batch_size=20)
    seen: dict = {}
    for batch in p.batches():
        seen.setdefault(batch.query_lang[0], []).extend(batch.query_rows.tolist())
    ids, _ = rows_meta(world)
    for lang, rows in seen.items():
        pool = p._pools[f"mono:{p.index.languages.index(lang)}"]
        per_epoch = (len(pool) // 20) * 20
        first_epoch = rows[:per_epoch]
        assert len(set(first_epoch)) == len(first_epoch)  # no repeat before the pool is exhausted


def test_uniform_language_sampling_is_the_default_and_size_sampling_follows_pool_sizes(world):
    def shares(**kw):
        p = plan(world, steps=3000, strategy="mono", **kw)
        langs = [p.batch(s).query_lang[0] for s in range(0, 3000, 10)]
        return {lang: langs.count(lang) / len(langs) for lang in set(langs)}

    uniform = shares()
    assert max(uniform.values()) - min(uniform.values()) < 0.12
    sized = shares(language_sampling="size", temperature=1.0)
    high, low = world.codes("high")[0], world.codes("low")[0]
    assert sized[high] > 3 * sized.get(low, 0)


def test_per_rank_slices_cover_the_global_batch(world):
    batch = plan(world, strategy="cross").batch(3)
    parts = [batch.slice(r, 4) for r in range(4)]
    assert np.array_equal(np.concatenate([p.query_rows for p in parts]), batch.query_rows)
    assert all(p.kind == batch.kind for p in parts)


def test_hard_negatives_follow_the_passage_language(world):
    p = plan(world, steps=10, strategy="cross")
    rows = materialize(world.dataset["train"], p)
    train = world.dataset["train"]
    for row, batch_row in zip(rows.select(range(16)), p.batch(0).passage_rows, strict=True):
        assert row["negative"] == train[int(batch_row)]["negatives"][0]
        assert train[int(batch_row)]["lang"] == row["passage_lang"]


def test_pair_mode_uses_one_language_pair_per_batch(world):
    p = plan(world, strategy="cross", cross_pairing="pair")
    for batch in p.batches(0, 10):
        assert len(set(batch.query_lang)) == 1 and len(set(batch.passage_lang)) == 1
        assert batch.query_lang[0] != batch.passage_lang[0]


def array_bytes(obj, skip: frozenset = frozenset(), seen: set | None = None) -> int:
    """Bytes of every NumPy and Arrow array reachable from ``obj`` through attributes (less those in ``skip``),
    dicts, lists and tuples, each array counted once."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, (np.ndarray, pa.Array, pa.ChunkedArray, pa.Table)):
        return obj.nbytes
    if isinstance(obj, dict):
        return sum(array_bytes(v, skip, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(array_bytes(v, skip, seen) for v in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return sum(array_bytes(v, skip, seen) for k, v in vars(obj).items() if k not in skip)
    return 0


def test_plan_and_feed_memory_grow_with_groups_and_not_with_steps(world, monkeypatch):
    """What sampling.py ("memory is linear in the number of groups ... nothing is ever materialized per language
    pair") and training/feed.py ("memory flat in the number of steps") claim, measured: the bytes of every array a
    PlanFeed holds (its plan and index included, the dataset itself not) once it has given every step's batch, for
    the first 100, 200 and 400 groups of the world (counted from the ``id`` column) and for 10x more steps. Blocks of
    32 steps instead of 4096, so that the runs cross many blocks (the per-step choices are drawn, and cached, a
    block at a time) and many epochs of every pool. Anything kept per step, a cache of every block, or a table per
    language pair or per pair of groups fails one of the three assertions."""
    from hf_hybrid import sampling
    from hf_hybrid.training.feed import PlanFeed

    monkeypatch.setattr(sampling, "_BLOCK", 32)
    train = world.dataset["train"]
    ids = np.array(train["id"])
    groups = list(dict.fromkeys(ids.tolist()))
    languages = len(set(train["lang"]))

    def held(num_groups: int, steps: int) -> int:
        rows = np.flatnonzero(np.isin(ids, groups[:num_groups]))
        data = Dataset(train.data.table.take(pa.array(rows)))
        cfg = PlanConfig(batch_size=16, strategy="hybrid", exclude_languages=world.codes("zero"))
        feed = PlanFeed(data, BatchPlan(data, cfg, steps), ["anchor", "positive"])
        for step in range(steps):
            feed.batch(step)
        return array_bytes(feed, skip=frozenset({"table"}))

    small, medium, large = held(100, 50), held(200, 50), held(400, 50)
    longer = held(400, 500)
    assert longer - large < 450, (large, longer)  # under one byte per extra step: nothing is kept per step
    per_group = (large - small) / 300
    assert abs((medium - small) / 100 - per_group) < 0.1 * per_group, (small, medium, large)  # linear in groups
    assert 4 * languages <= per_group <= 32 * languages, per_group  # a few numbers per (group, language)


@pytest.mark.parametrize("kw, field", [({"strategy": "nope"}, "strategy"), ({"alpha": -0.1}, "alpha"),
                                        ({"batch_size": 1}, "batch_size"), ({"first": "zz"}, "first"),
                                        ({"train_languages": ["en"]}, "train_languages"),
                                        ({"seed": -1}, "seed"), ({"temperature": float("nan")}, "temperature"),
                                        ({"switch_step": -2}, "switch_step"),
                                        ({"train_languages": "qaa"}, "train_languages"),
                                        ({"strategy": "mono", "batch_size": 100}, "batch_size")])
def test_bad_plan_settings_name_the_field(world, kw, field):
    with pytest.raises(UserError) as err:
        plan(world, **kw)
    assert err.value.field == field
    assert "\n" not in str(err.value)


def test_batch_sampler_yields_consecutive_global_batches():
    ds = Dataset.from_dict({"anchor": [str(i) for i in range(40)], "positive": [str(i) for i in range(40)]})
    sampler = plan_batch_sampler(8)(ds, batch_size=4, drop_last=False)
    assert isinstance(sampler, PlanBatchSampler)
    batches = list(sampler)
    assert len(sampler) == 5 and batches[1] == list(range(8, 16))


def test_texts_past_arrows_string_limit_become_large_strings(monkeypatch):
    """A very long text repeated over many plan rows passes Arrow's 2 GiB ``string`` limit (a 50 MB line over 43
    rows): the rows switch to ``large_string`` instead of overflowing. The limit is lowered here so the test
    exercises the same path in kilobytes."""
    import pyarrow as pa

    from hf_hybrid import plan_rows

    data = make_world(train_groups=200, dev_groups=0, test_groups=0, seed=0).dataset["train"]
    plan = BatchPlan(data, PlanConfig(batch_size=8, seed=1), 30)
    expected = materialize(data, plan)
    monkeypatch.setattr(plan_rows, "_STRING_BYTES", 500)
    rows = materialize(data, plan)
    assert rows.data.table.schema.field("positive").type == pa.large_string()
    assert rows["positive"] == expected["positive"] and rows["anchor"] == expected["anchor"]


def test_a_shuffled_or_filtered_dataset_is_indexed_by_its_own_row_numbers(world):
    """select/filter/shuffle keep Arrow's table and add an indices mapping: the index must read through it."""
    from hf_hybrid.sampling import PlanIndex

    train = world.dataset["train"]
    for view in (train.shuffle(seed=3), train.filter(lambda lang: lang != train[0]["lang"], input_columns="lang")):
        index, flat = PlanIndex(view), PlanIndex(view.flatten_indices())
        assert np.array_equal(index.row_of, flat.row_of) and index.languages == flat.languages
        g, lang = np.argwhere(index.row_of >= 0)[7]
        row = view[int(index.row_of[g, lang])]
        assert (row["id"], row["lang"]) == (index.group_ids[g].as_py(), index.languages[lang])
        cfg = PlanConfig(batch_size=8, exclude_languages=world.codes("zero"))
        rows = materialize(view, BatchPlan(view, cfg, 5))  # the texts of the view's rows, not the table's
        assert rows["anchor"] == materialize(view.flatten_indices(), BatchPlan(view.flatten_indices(), cfg, 5))["anchor"]
