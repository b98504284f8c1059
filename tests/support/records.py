"""The training record and evaluation results that the tests' tiny model carries (``tests/conftest.py``:
``tiny_trained_model`` and ``model_dir``), as data; the record is written by the package's one writer."""

from __future__ import annotations

from pathlib import Path

from hf_hybrid.training.files import write_training_record

RESULTS = {
    "schema": "hf-hybrid/eval-results/v1", "model": "tiny", "created_at": "2026-11-25T10:00:00Z", "versions": {},
    "suites": [
        {"name": "xquad-r", "type": "multilingual", "dataset": "xquad_r", "split": "validation",
         "languages": ["en", "de", "el"], "main_score": "multi.map",
         "metrics": {"mono.map": 0.712345678, "cross.map": 0.51234, "multi.map": 0.4567, "mono.map@20": 0.70001,
                     "cross.map@20": 0.50009, "multi.map@20": 0.44449, "multi.language_bias": 12.34567,
                     "multi.own_language_share@10": 0.61},
         "by_resource": {"high": {"multi.map": 0.52}, "zero-shot": {"multi.map": 0.31}},
         "pairs": {"en": {"en": {"map": 0.81}, "de": {"map": 0.62}}, "de": {"en": {"map": 0.55}, "de": {"map": 0.77}}}},
        {"name": "XQuADRetrieval", "type": "mteb", "dataset": "mteb/xquadr", "split": "validation",
         "languages": ["de"], "metrics": {"ndcg_at_10": 0.8123456}, "main_score": "ndcg_at_10"},
    ],
}


def write_sample_record(model_dir: Path, **overrides) -> dict:
    """Write a training record of a 2-step hybrid run on the sample data into ``model_dir`` (``overrides`` replace
    its fields) through :func:`hf_hybrid.training.files.write_training_record`, which sets the schema; returns the
    record as written (without the schema field)."""
    record = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "strategy": {"name": "hybrid", "alpha": 0.5, "first": None, "then": None, "switch_step": None,
                     "cross_pairing": "mixed", "language_sampling": "uniform", "temperature": None},
        "batch_size": 4, "max_steps": 2, "learning_rate": 3e-5, "weight_decay": 0.01, "warmup_ratio": 0.0,
        "loss": "MultipleNegativesRankingLoss", "scale": 20.0, "languages": ["en", "de", "el"],
        "train_languages": ["en", "de"], "held_out_languages": ["el"],
        "data": {"sources": ["sample"], "fingerprint": "0123abcd", "rows": 8, "groups": 4}, "seed": 42,
        "versions": {}, "hardware": {"device": "cpu", "num_processes": 1, "mixed_precision": "no"},
        "wall_time_s": 12.5, "samples_per_second": 0.64,
    }
    record.update(overrides)
    write_training_record(model_dir, record)
    return record
