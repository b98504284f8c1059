"""Encode every distinct text once, with the model's own prompts, optionally through an on-disk cache.

An 11-language evaluation scores 121 language pairs plus the pooled setting from the same 2 × 11 × N texts;
encoding each text once and scoring all pairs from the cached embeddings is what makes it cheap
(``benchmarks/bench_eval.py`` measures the gain against re-encoding per pair).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from hf_hybrid.atomic import atomic_path
from hf_hybrid.prompts import prompt_name_for


def model_fingerprint(model: SentenceTransformer) -> str:
    """A short, stable id of a model's weights and encoding settings (cache key and results provenance).

    Hashing every weight of a 470 MB model takes seconds; names, shapes and the first 256 values of every
    tensor change whenever training changes the model, so they are hashed instead.
    """
    from hf_hybrid.bm25 import BM25Model

    if isinstance(model, BM25Model):  # no weights: its settings and bm25s' version are what fix its scores
        return model.fingerprint()
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        flat = tensor.detach().reshape(-1)[:256].to(torch.float32).cpu().numpy()
        digest.update(f"{name}{tuple(tensor.shape)}".encode())
        digest.update(flat.tobytes())
    digest.update(json.dumps(getattr(model, "prompts", {}) or {}, sort_keys=True).encode())
    digest.update(str(model.max_seq_length).encode())
    return digest.hexdigest()[:16]


def text_key(text: str) -> str:
    """The cache key of one text: the first 32 hex digits of its UTF-8 sha256 (the ``keys`` of a cache file)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Embeddings on disk, one ``.npz`` per (model fingerprint, prompt), keyed by a hash of each text.

    Written atomically (:mod:`hf_hybrid.atomic`) so an interrupted run never leaves a corrupt cache.
    """

    def __init__(self, root: str | Path, fingerprint: str, prompt: str | None):
        self.path = Path(root) / fingerprint / f"{prompt or 'none'}.npz"

    def load(self) -> dict[str, np.ndarray]:
        if not self.path.exists():
            return {}
        with np.load(self.path) as data:
            return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def save(self, table: dict[str, np.ndarray]) -> None:
        keys = np.array(list(table), dtype="U32")
        vectors = np.stack(list(table.values())).astype(np.float32)
        with atomic_path(self.path, suffix=".npz") as tmp:  # np.savez keeps a name that ends in .npz as it is
            np.savez(tmp, keys=keys, vectors=vectors)


# Set by :func:`shared_embeddings`: (id of the model, prompt) -> {text key: vector}, or None outside the block.
_SHARED: dict[tuple[int, str | None], dict[str, np.ndarray]] | None = None


@contextmanager
def shared_embeddings() -> Iterator[None]:
    """Within the block, a text a model has encoded is not encoded again by the next suite.

    One scoring run reads the same texts through several suites (the parallel suite and its BEIR pairs share
    every query and passage); keeping the vectors in memory for the block spares the second encoding.
    Keyed by the model object, so a WiSE-FT variant scored in its own block never sees its parent's vectors.
    """
    global _SHARED
    outer, _SHARED = _SHARED, {}
    try:
        yield
    finally:
        _SHARED = outer


def encode_unique(
    model: SentenceTransformer,
    texts: list[str],
    *,
    role: str,
    batch_size: int = 64,
    cache_dir: str | Path | None = None,
    show_progress_bar: bool = True,
    fingerprint: str | None = None,
) -> torch.Tensor:
    """L2-normalised embeddings of ``texts`` (row i for ``texts[i]``), each distinct text encoded once.

    ``role`` ("query" or "document"; "passage" means "document") picks the prompt that sentence-transformers'
    ``encode_query`` / ``encode_document`` would use (:mod:`hf_hybrid.prompts`), when the model has one. With ``cache_dir``, texts already
    embedded by the same model and prompt are read from disk instead.
    """
    distinct = list(dict.fromkeys(texts))
    prompt = prompt_name_for(model, role)
    cache = None
    table: dict[str, np.ndarray] = {} if _SHARED is None else _SHARED.setdefault((id(model), prompt), {})
    if cache_dir is not None:
        cache = EmbeddingCache(cache_dir, fingerprint or model_fingerprint(model), prompt)
        table.update(cache.load())
    missing = [t for t in distinct if text_key(t) not in table]
    if missing:
        vectors = model.encode(
            missing,
            prompt_name=prompt,
            task="query" if role == "query" else "document",  # a query-side model routes on it (its Router)
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress_bar,
        )
        table.update({text_key(t): v for t, v in zip(missing, vectors, strict=True)})
        if cache is not None:
            cache.save(table)
    matrix = np.stack([table[text_key(t)] for t in distinct]).astype(np.float32)
    position = {t: i for i, t in enumerate(distinct)}
    rows = torch.from_numpy(matrix)[[position[t] for t in texts]]
    return rows.to(model.device)
