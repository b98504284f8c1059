"""The frozen-prefix cache (hf_hybrid.frozen_prefix): a cached run is the recomputed run, with or without LoRA in
the top layers, on the tiny all-MiniLM-L6-v2 (6 layers; freeze_layers 2 leaves a prefix of 4)."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from sentence_transformers import SentenceTransformer

from hf_hybrid.frozen_prefix import FrozenPrefix, frozen_depth, prefix_key
from hf_hybrid.prefix_store import PrefixStore
from hf_hybrid.train import main as train_main
from hf_hybrid.training.files import TRAINING_RECORD as RECORD

ROOT = Path(__file__).resolve().parents[1]
BASE = ["--config", str(ROOT / "configs" / "quickstart-test.yaml"), "--learning_rate", "1e-4", "--max_steps", "4",
        "--freeze_layers", "2", "--trace_batches"]
TEXTS = ["horila vopeke vuli goza", "query: where is the market?", "passage: a much longer text " * 6, "x"]


def train(out: Path, cache: Path, *argv: str) -> Path:
    assert train_main([*BASE, "--output_dir", str(out), "--prefix_cache_dir", str(cache), *argv]) == 0
    return out


def losses(out: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (out / "trace" / "rank0.jsonl").read_text().splitlines()]


# LoRA in the same top layers, at 10x the learning rate (as LoRA is usually trained): its weights move by ~1e-3 in
# 4 steps, not ~1e-4, so that agreeing within 1e-5 says something
@pytest.mark.parametrize("tuning", [[], ["--lora_r", "4", "--learning_rate", "1e-3"]],
                         ids=["top-layers", "lora-in-top-layers"])
def test_cached_training_equals_recomputed_training(tmp_path, minilm_path, tuning):
    cache = tmp_path / "cache"
    recomputed = train(tmp_path / "recomputed", cache, "--prefix_cache", "false", *tuning)
    assert not cache.exists()  # off means off
    cached = train(tmp_path / "cached", cache, *tuning)  # cold: every text computed once, then served
    warm = train(tmp_path / "warm", cache, *tuning)  # every text read back from the shards of the run before
    for out in (cached, warm):
        assert losses(out) == pytest.approx(losses(recomputed), abs=1e-5)
        a, b = load_file(str(recomputed / "model.safetensors")), load_file(str(out / "model.safetensors"))
        gap = {k: (a[k] - b[k]).abs().max().item() for k in a}
        # An attention key bias adds q·b to every score of a query's row, which softmax ignores: its true gradient
        # is zero, what it gets is rounding, and Adam scales that up to about lr/10 a step. It changes no output
        # and follows the last bit of the prefix's states (computed in another batch shape when cached), so it is
        # held to the step size; every other weight to 1e-5.
        noise = {k for k in a if k.endswith("attention.self.key.bias")}
        worst = max(gap.keys() - noise, key=gap.get)
        assert gap[worst] < 1e-5, (worst, gap[worst])
        assert all(gap[k] < 1e-4 for k in noise), {k: gap[k] for k in noise}
    record = json.loads((warm / RECORD).read_text())["fine_tuning"]
    assert record["frozen_prefix"] == {"dropout": False, "cache": True, "dtype": "float32"}
    assert json.loads((recomputed / RECORD).read_text())["fine_tuning"]["frozen_prefix"]["cache"] is False
    # One store (the base's prefix, depth 4: LoRA in the top layers leaves it the base's), written by the cold run
    # and only read by the warm one.
    (folder,) = cache.iterdir()
    assert folder.name == prefix_key(SentenceTransformer(minilm_path, device="cpu"), 4)
    assert len(list(folder.glob("*.index.npz"))) == 1


def test_prefix_runs_without_dropout_and_trained_model_shares_the_base_prefix(tmp_path, minilm_path):
    out = train(tmp_path / "m", tmp_path / "cache")
    base, trained = SentenceTransformer(minilm_path, device="cpu"), SentenceTransformer(str(out), device="cpu")
    assert prefix_key(base, 4) == prefix_key(trained, 4)  # only layers 4 and 5 changed
    assert prefix_key(base, 4) != prefix_key(base, 3) and prefix_key(base, 5) != prefix_key(trained, 5)
    for p in base.parameters():
        p.requires_grad_(False)
    for p in base[0].auto_model.encoder.layer[5].parameters():
        p.requires_grad_(True)
    assert frozen_depth(base) == 5


def test_served_encodings_and_scores_equal_the_full_model(tmp_path, minilm_path):
    from hf_hybrid.data.synthetic import make_world
    from hf_hybrid.evaluation.multilingual import evaluate_parallel

    model = SentenceTransformer(minilm_path, device="cpu")
    full = model.encode(TEXTS, convert_to_tensor=True)
    data = make_world(train_groups=2, dev_groups=2, test_groups=12, seed=1).dataset["test"]
    scores_full = evaluate_parallel(model, data, show_progress_bar=False)
    prefix = FrozenPrefix(model, 4, tmp_path)
    served = model.encode(TEXTS, convert_to_tensor=True)
    assert (prefix.misses, prefix.hits) == (len(TEXTS), 0)
    again = model.encode(TEXTS[::-1], batch_size=2, convert_to_tensor=True).flip(0)  # other batches, other padding
    assert prefix.hits == len(TEXTS)
    assert torch.allclose(full, served, atol=1e-5) and torch.allclose(full, again, atol=1e-5)
    scores_served = evaluate_parallel(model, data, show_progress_bar=False)
    flat = lambda s: {k: v for k, v in pd_flatten(s).items() if isinstance(v, float)}  # noqa: E731
    a, b = flat(scores_full), flat(scores_served)
    assert a and a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-4 for k in a)
    prefix.flush()
    prefix.detach()
    store = PrefixStore(tmp_path / prefix_key(model, 4))  # a new process reads the shards back, memory-mapped
    assert len(store.entries) == prefix.misses and store.nbytes() > 0


def pd_flatten(value, prefix="") -> dict:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in pd_flatten(item, f"{prefix}{key}.").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in pd_flatten(item, f"{prefix}{i}.").items()}
    return {prefix.rstrip("."): value}


def test_check_reports_the_cache_size_bound(tmp_path):
    from hf_hybrid.check.runs import prefix_cache_line
    from hf_hybrid.training import TrainConfig

    cfg = TrainConfig(freeze_layers=2, max_steps=300, max_seq_length=96, use_negatives=False,
                      prefix_cache_dir=str(tmp_path))
    line = prefix_cache_line(cfg, {"hidden": 384}, batch_size=16)
    # 300 steps x 16 pairs x 2 texts, each at most 96 tokens of 384 float32 values
    assert line.startswith(f"≤ {300 * 16 * 2 * 96 * 384 * 4 / 1e9:.2f} GB for ≤ 9,600 distinct texts") and \
        str(tmp_path) in line
    assert prefix_cache_line(TrainConfig(lora_r=4), {"hidden": 384}, 16) is None  # LoRA in every layer: none
    assert prefix_cache_line(TrainConfig(freeze_layers=2, lora_r=4, prefix_cache_dir=str(tmp_path)),
                             {"hidden": 384}, 16)  # LoRA in the top layers: the rest is cached
    assert prefix_cache_line(TrainConfig(freeze_layers=2, prefix_cache=False), {"hidden": 384}, 16) is None


def test_new_states_go_to_disk_past_the_memory_bound(tmp_path, minilm_path, monkeypatch):
    from hf_hybrid import prefix_store

    monkeypatch.setattr(prefix_store, "FLUSH_BYTES", 1)  # every computed text is written and mapped at once
    model = SentenceTransformer(minilm_path, device="cpu")
    full = model.encode(TEXTS, convert_to_tensor=True)
    prefix = FrozenPrefix(model, 4, tmp_path)
    served = model.encode(TEXTS, convert_to_tensor=True)
    store = prefix.store
    assert not store.pending and len(list(store.folder.glob("*.index.npz"))) == len(TEXTS)
    assert all(isinstance(v, prefix_store.np.memmap) for v in store.entries.values())  # not held in the heap
    assert torch.allclose(full, served, atol=1e-5)
    assert torch.allclose(full, model.encode(TEXTS, convert_to_tensor=True), atol=1e-5)  # read back from disk


def test_a_query_side_model_is_served_on_both_routes_from_one_store(tmp_path, minilm_path):
    from hf_hybrid.frozen_prefix import prefix_depth, served_prefix
    from hf_hybrid.training import TrainConfig
    from hf_hybrid.training.query_side import route_documents_to_base

    model = SentenceTransformer(minilm_path, device="cpu")
    with torch.no_grad():  # the query route "trained" its top layer: the routes now differ above the prefix
        for p in model[0].auto_model.encoder.layer[5].parameters():
            p.add_(0.01 * torch.randn_like(p))
    route_documents_to_base(model, TrainConfig(train_side="query"), minilm_path)
    assert prefix_depth(model, 2) == 4
    full = model.encode_query(TEXTS, convert_to_tensor=True), model.encode_document(TEXTS, convert_to_tensor=True)
    assert not torch.allclose(*full, atol=1e-3)
    with served_prefix(model, 4, tmp_path) as prefixes:
        served = model.encode_query(TEXTS, convert_to_tensor=True), model.encode_document(TEXTS, convert_to_tensor=True)
        assert len(prefixes) == 2 and prefixes[0].store is prefixes[1].store  # one prefix, one store
        assert [(p.misses, p.hits) for p in prefixes] == [(len(TEXTS), 0), (0, len(TEXTS))]
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(full, served, strict=True))


def test_a_key_ending_in_a_zero_byte_is_found_after_a_reload(tmp_path):
    """numpy's ``S16`` strips trailing zero bytes: 1 row key in 256 ends in one and must still be served later."""
    import numpy as np

    keys = [bytes(15) + b"\x07", b"\x07" + bytes(15), b"\x01" * 16]
    store = PrefixStore(tmp_path)
    for i, key in enumerate(keys):
        store.add(key, np.full((i + 1, 3), i, np.float32))
    store.flush()
    again = PrefixStore(tmp_path)
    assert set(again.entries) == set(keys)
    assert [again.entries[key].shape[0] for key in keys] == [1, 2, 3]
