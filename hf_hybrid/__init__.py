"""hf-hybrid: hybrid batch training for multilingual dense retrievers (arXiv 2408.10536).

One module per stage of the pipeline:
``data`` (sources → parallel schema) → ``sampling`` (batch plans) → ``train`` → ``evaluation``
→ ``cards`` / ``hub`` → ``space/`` demo; ``experiments`` runs the strategy grid.

In your own sentence-transformers training script::

    from hf_hybrid import HybridBatches, MultilingualRetrievalEvaluator, load_parallel

:class:`HybridBatches` gives a plain ``SentenceTransformerTrainer`` the plan's train dataset, training arguments
and loss. The names below are imported on first use (PEP 562): ``import hf_hybrid`` does not import torch or
sentence-transformers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from hf_hybrid.version import __version__

_LAZY = {
    "HybridBatches": "hf_hybrid.training.hybrid_batches",
    "MultilingualRetrievalEvaluator": "hf_hybrid.evaluation.evaluator",
    "BatchPlan": "hf_hybrid.sampling",
    "PlanBatchSampler": "hf_hybrid.sampling",
    "PlanConfig": "hf_hybrid.plan_config",
    "load_parallel": "hf_hybrid.data",
}

__all__ = ["BatchPlan", "HybridBatches", "MultilingualRetrievalEvaluator", "PlanBatchSampler", "PlanConfig",
           "__version__", "load_parallel"]

if TYPE_CHECKING:
    from hf_hybrid.data import load_parallel
    from hf_hybrid.evaluation.evaluator import MultilingualRetrievalEvaluator
    from hf_hybrid.plan_config import PlanConfig
    from hf_hybrid.sampling import BatchPlan, PlanBatchSampler
    from hf_hybrid.training.hybrid_batches import HybridBatches


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # the next lookup is an ordinary attribute
        return value
    raise AttributeError(f"module 'hf_hybrid' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
