"""hf_hybrid.export / hf_hybrid.backends: ONNX and OpenVINO files where sentence-transformers looks for them, loaded
back with the same tokenizer, prompts and pooling, at parity with the PyTorch model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hf_hybrid.backends.runtime import load_exported, require_runtime
from hf_hybrid.commands.export import main
from hf_hybrid.errors import UserError
from tests.test_models import TEXTS

SHORT = ["Where is the nearest market?", "Soko liko wapi?", "Où se trouve le marché ?", "The cat sleeps."]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)  # sentence-transformers' Normalize: both L2-normalized


def test_tiny_model_exports_to_onnx_and_openvino_at_parity(tiny_trained_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    folder = tmp_path / "model"
    shutil.copytree(tiny_trained_model, folder)
    assert main([str(folder), "--backend", "openvino"]) == 0  # writes onnx/model.onnx on the way
    assert (folder / "onnx" / "model.onnx").is_file() and (folder / "openvino" / "openvino_model.bin").is_file()
    reference = SentenceTransformer(str(folder), device="cpu").encode(SHORT)
    for backend in ("onnx", "openvino"):
        exported = load_exported(folder, backend)
        assert _cosines(exported.encode(SHORT), reference).min() > 0.9999, backend
    assert not list(folder.rglob(".*.tmp")) and not list(folder.rglob("*.partial"))


def test_export_refuses_a_folder_that_is_not_a_model(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main([str(tmp_path), "--backend", "onnx"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "modules.json" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_missing_runtime_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    with pytest.raises(UserError, match=r"pip install 'hf-hybrid\[openvino\]'"):
        require_runtime("openvino")
    with pytest.raises(UserError, match="backend"):
        require_runtime("tensorrt")


def test_loading_a_backend_that_was_not_exported_says_how(tiny_trained_model):
    with pytest.raises(UserError, match="hf-hybrid export .* --quantize int8"):
        load_exported(tiny_trained_model, "onnx", quantize="int8")


def test_e5_quantized_parity_and_retrieval(e5_folder, e5_model, tmp_path):
    """The issue's bar: cosine ≥ 0.99 to fp32 PyTorch on the multilingual parity texts (query and document prompts)
    for every quantization, and mAP on the bundled sample's test groups within 0.005 for the block-wise q8 one
    (dynamic int8 is the fast one and loses more: it is held to the cosine bar only, so its mAP is not computed
    here; a third full scoring pass of the sample cost CI about a minute for a number nothing checked). The fp32
    scores are the base row of the shipped real-language grid (``docs/summaries/e5-real.json``: the same model,
    suite and test split, scored by ``evaluate_parallel``), not a second minute-long scoring pass here."""
    import json

    from hf_hybrid.data import load_parallel
    from hf_hybrid.evaluation import evaluate_parallel

    out = tmp_path / "e5"
    assert main([str(e5_folder), "--output", str(out), "--quantize", "q8"]) == 0
    assert main([str(out), "--quantize", "int8"]) == 0
    test = load_parallel("sample")["test"]
    grid = json.loads((Path(__file__).resolve().parents[1] / "docs" / "summaries" / "e5-real.json").read_text())
    assert grid["config"]["data"] == "sample"
    base = grid["models"]["intfloat--multilingual-e5-small"]["suites"]["parallel"]["table"]["base"]["all"]
    fp32 = {setting: base[setting]["mean"] for setting in ("mono.map", "cross.map", "multi.map")}
    for quantize in ("q8", "int8"):
        model = load_exported(out, "onnx", quantize=quantize)
        for encode in ("encode_query", "encode_document"):
            cos = _cosines(getattr(model, encode)(TEXTS), getattr(e5_model, encode)(TEXTS))
            assert cos.min() >= 0.99, (quantize, encode, [TEXTS[i] for i in np.flatnonzero(cos < 0.99)])
        if quantize == "q8":
            scores = evaluate_parallel(model, test, show_progress_bar=False)["metrics"]
            for setting in ("mono.map", "cross.map", "multi.map"):
                assert abs(scores[setting] - fp32[setting]) <= 0.005, (setting, fp32[setting], scores[setting])


def test_evaluate_and_the_demo_take_the_exported_backend(tiny_trained_model, tmp_path):
    """``--backend`` on evaluate scores the exported files as the PyTorch model scores; a bad value is one line."""
    import json

    from hf_hybrid.commands.evaluate import main as evaluate
    from hf_hybrid.demo.config import config_from_env

    folder = tmp_path / "model"
    shutil.copytree(tiny_trained_model, folder)
    assert main([str(folder), "--backend", "onnx"]) == 0
    scores = {}
    for backend in ("torch", "onnx"):
        out = tmp_path / f"eval-{backend}"
        assert evaluate(["--model", str(folder), "--data", "sample", "--languages", "en", "de", "--output", str(out),
                         "--backend", backend, "--no-plots"]) == 0
        scores[backend] = json.loads((out / "results.json").read_text())["suites"][0]["metrics"]["multi.map"]
    assert abs(scores["onnx"] - scores["torch"]) < 1e-3, scores
    assert config_from_env({"MODEL_ID": str(folder), "BACKEND": "onnx-q8"}).backend == "onnx-q8"
    with pytest.raises(UserError, match="backend"):
        config_from_env({"MODEL_ID": str(folder), "BACKEND": "tensorrt"})


def test_push_ships_exported_files_demo_embeddings_and_says_how_to_load_them(local_hub, tiny_trained_model,
                                                                            tmp_path):
    """`hf-hybrid push MODEL --demo-embeddings` uploads onnx/ and the demo's corpus vectors; the card names the
    backend and the file (the demo reading such vectors is tested in tests/test_demo.py)."""
    from huggingface_hub import HfApi, ModelCard

    from hf_hybrid.commands.push import main as push

    folder = tmp_path / "model"
    shutil.copytree(tiny_trained_model, folder)
    assert main([str(folder), "--quantize", "int8"]) == 0
    assert push([str(folder), "--repo-id", "org/exported", "--demo-embeddings"]) == 0
    files = set(HfApi().list_repo_files("org/exported"))
    assert {"onnx/model.onnx", "onnx/model_qint8_quantized.onnx"} <= files
    assert any(f.startswith("demo_embeddings/") and f.endswith(".npz") for f in files), files
    card = ModelCard.load("org/exported").text
    assert "### Fast CPU inference" in card and "`onnx-int8`" in card
    assert 'model_kwargs={"file_name": "onnx/model.onnx"}' in card
