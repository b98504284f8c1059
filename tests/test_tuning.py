"""Which weights train (freeze_layers, LoRA) and how they are saved (merged, adapter, WiSE-FT), on the tiny
all-MiniLM-L6-v2 (6 layers) of configs/quickstart-test.yaml."""

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from sentence_transformers import SentenceTransformer

from hf_hybrid.train import main as train_main
from hf_hybrid.training.files import RUN_MARKER
from hf_hybrid.training.files import TRAINING_RECORD as RECORD

ROOT = Path(__file__).resolve().parents[1]
BASE = ["--config", str(ROOT / "configs" / "quickstart-test.yaml"), "--learning_rate", "1e-3"]
TEXTS = ["horila vopeke vuli goza", "query: where is the market?"]


def train(out: Path, *argv: str) -> Path:
    assert train_main([*BASE, "--output_dir", str(out), *argv]) == 0
    return out


def embed(path) -> torch.Tensor:
    return SentenceTransformer(str(path), device="cpu").encode(TEXTS, convert_to_tensor=True)


def test_freeze_layers_trains_only_the_top_layers(tmp_path, minilm_path):
    out = train(tmp_path / "m", "--freeze_layers", "2")
    before, after = load_file(f"{minilm_path}/model.safetensors"), load_file(str(out / "model.safetensors"))
    changed = {k for k in after if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(("encoder.layer.4.", "encoder.layer.5.")) for k in changed), sorted(changed)
    assert any(k.startswith("encoder.layer.4.") for k in changed)  # the lower of the two trained layers moved
    record = json.loads((out / RECORD).read_text())
    assert record["fine_tuning"]["freeze_layers"] == 2


def test_lora_saves_merged_weights_that_load_without_peft(tmp_path, minilm_path):
    out = train(tmp_path / "m", "--lora_r", "4")
    assert not (out / "adapter_config.json").exists() and (out / "model.safetensors").exists()
    before, after = load_file(f"{minilm_path}/model.safetensors"), load_file(str(out / "model.safetensors"))
    assert set(after) <= set(before)  # a plain model: no adapter weights left
    changed = {k for k in after if not torch.equal(before[k], after[k])}
    assert changed and all(".attention.self.query." in k or ".attention.self.value." in k for k in changed)
    assert json.loads((out / RECORD).read_text())["fine_tuning"]["lora"]["saved"] == "merged"


def test_lora_with_freeze_layers_adapts_only_the_top_layers(tmp_path, minilm_path, monkeypatch):
    from hf_hybrid.training.config import TrainConfig
    from hf_hybrid.training.tuning import prepare_model

    model = SentenceTransformer(minilm_path, device="cpu")
    prepare_model(model, TrainConfig(freeze_layers=2, lora_r=4), seed=0)
    trained = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trained and all("lora_" in name and (".layer.4." in name or ".layer.5." in name) for name in trained)
    assert any(".layer.4." in name for name in trained) and any(".layer.5." in name for name in trained)
    out = train(tmp_path / "m", "--freeze_layers", "2", "--lora_r", "4")
    before, after = load_file(f"{minilm_path}/model.safetensors"), load_file(str(out / "model.safetensors"))
    assert set(after) <= set(before)  # merged: no adapter weights left
    changed = {k for k in after if not torch.equal(before[k], after[k])}  # bit for bit everywhere else
    assert changed and all(k.startswith(("encoder.layer.4.", "encoder.layer.5.")) for k in changed), sorted(changed)
    assert any(k.startswith("encoder.layer.4.") for k in changed)
    assert json.loads((out / RECORD).read_text())["fine_tuning"]["lora"]["layers"] == "top 2"
    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` now fails: the merged model needs none
    assert not (out / "adapter_config.json").exists()
    assert embed(out).shape == (len(TEXTS), 384)


def test_lora_adapter_and_merged_saves_give_the_same_embeddings(tmp_path):
    merged = train(tmp_path / "merged", "--lora_r", "4")
    adapter = train(tmp_path / "adapter", "--lora_r", "4", "--save_adapter")
    assert (adapter / "adapter_config.json").exists() and not (adapter / "model.safetensors").exists()
    loaded = SentenceTransformer(str(adapter), device="cpu")
    assert type(loaded.transformers_model).__name__ != "PeftModel" and loaded[0].model.peft_config
    torch.testing.assert_close(embed(adapter), embed(merged), atol=1e-5, rtol=0)


def test_lora_resumes_from_its_adapter_checkpoint_to_identical_weights(tmp_path):
    full = train(tmp_path / "full", "--lora_r", "4", "--save_steps", "2")
    killed = tmp_path / "killed"  # the same run as if killed after its checkpoint of step 4
    shutil.copytree(full, killed)
    shutil.rmtree(killed / "checkpoints" / "checkpoint-6")
    for item in killed.iterdir():
        if item.name not in ("checkpoints", RUN_MARKER):
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    assert train_main([*BASE, "--output_dir", str(killed), "--lora_r", "4", "--save_steps", "2"]) == 2
    train(killed, "--lora_r", "4", "--save_steps", "2", "--resume")
    a, b = load_file(str(full / "model.safetensors")), load_file(str(killed / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_wise_ft_interpolates_between_base_and_fine_tuned(tmp_path, minilm_path):
    tuned = embed(train(tmp_path / "a1", "--freeze_layers", "3"))
    none = embed(train(tmp_path / "a0", "--freeze_layers", "3", "--wise_ft", "0"))
    half = embed(train(tmp_path / "a05", "--freeze_layers", "3", "--wise_ft", "0.5"))
    base = embed(minilm_path)
    torch.testing.assert_close(none, base, atol=1e-5, rtol=0)
    to_base, to_tuned, apart = (half - base).norm(), (half - tuned).norm(), (tuned - base).norm()
    assert 0 < to_base < apart and 0 < to_tuned < apart


def test_wise_ft_of_lora_is_the_adapter_scaled(tmp_path):
    """W + α·B·A: the adapter saved with α equals the merged model saved with α."""
    merged = embed(train(tmp_path / "m", "--lora_r", "4", "--wise_ft", "0.5"))
    adapter = embed(train(tmp_path / "a", "--lora_r", "4", "--wise_ft", "0.5", "--save_adapter"))
    torch.testing.assert_close(adapter, merged, atol=1e-5, rtol=0)


@pytest.mark.parametrize("argv, needles", [
    (["--freeze_layers", "7"], ["freeze_layers", "more than the model's 6 layers"]),
    (["--freeze_layers", "-1"], ["freeze_layers", "negative"]),
    (["--save_adapter"], ["save_adapter", "--lora_r"]),
    (["--wise_ft", "1.5"], ["wise_ft", "outside [0, 1]"]),
    (["--lora_r", "4", "--lora_target_modules", "nothing_here"], ["lora_target_modules", "nothing_here"]),
])
def test_bad_tuning_options_are_one_line(tmp_path, capsys, argv, needles):
    out = tmp_path / "out"
    code = train_main([*BASE, "--output_dir", str(out), *argv])
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert code == 2 and len(lines) == 1
    assert all(needle in lines[0] for needle in needles), lines[0]
    assert not out.exists()
