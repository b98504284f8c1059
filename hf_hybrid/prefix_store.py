"""The frozen prefix's states on disk, which :mod:`hf_hybrid.frozen_prefix` serves to a model: one folder per
prefix, shards of ``(tokens, hidden)`` float32 rows with an index of row keys, written atomically (the index last)
and memory-mapped when read, so that several processes (DDP ranks, grid cells) can add to one folder and a step
keeps only the pages it reads resident. A row's key is a hash of the token ids the model reads (:func:`row_keys`)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import numpy as np
import torch

from hf_hybrid.atomic import atomic_path

_KEY_BYTES = 16
FLUSH_BYTES = 256 * 2**20  # new states held in memory before they are written as a shard and memory-mapped


class PrefixStore:
    """One prefix's states on disk: shards of ``(tokens, hidden)`` float32 rows and an index of row keys."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.entries: dict[bytes, np.ndarray] = {}  # key -> (tokens, hidden) view, memory-mapped or new
        self.pending: dict[bytes, np.ndarray] = {}
        self.pending_bytes = 0
        self._seen: set[str] = set()
        self.refresh()

    def refresh(self) -> None:
        """Read the shards written since the last look (by this process or another)."""
        if not self.folder.is_dir():
            return
        for index in sorted(self.folder.glob("*.index.npz")):
            name = index.name.removesuffix(".index.npz")
            if name not in self._seen:
                self._map(name, replace=False)

    def _map(self, name: str, replace: bool) -> None:
        """Serve a shard's entries from its memory-mapped file (``replace``: also those held in memory now)."""
        states = np.load(self.folder / f"{name}.states.npy", mmap_mode="r")
        with np.load(self.folder / f"{name}.index.npz") as data:
            for key, start, length in zip(data["keys"].tolist(), data["starts"], data["lengths"], strict=True):
                # numpy's fixed-width bytes (``S16``) drop a key's trailing zero bytes on the way back (1 key in
                # 256 ends in one): padded back to its width, or such a text would miss, and be stored again,
                # on every read of the store
                key = key.ljust(_KEY_BYTES, b"\0")
                if replace or key not in self.entries:
                    self.entries[key] = states[start:start + length]
        self._seen.add(name)

    def add(self, key: bytes, states: np.ndarray) -> None:
        self.entries[key] = self.pending[key] = states
        self.pending_bytes += states.nbytes
        if self.pending_bytes > FLUSH_BYTES:  # a long run's new states go to disk, not into the heap
            self.flush()

    def flush(self) -> Path | None:
        """Write the entries added since the last flush as one shard, then serve them from it (memory-mapped, so
        the heap holds at most ``FLUSH_BYTES`` of states); returns its index path."""
        if not self.pending:
            return None
        keys = list(self.pending)
        lengths = np.array([self.pending[k].shape[0] for k in keys], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        name = f"shard-{uuid.uuid4().hex[:16]}"
        with atomic_path(self.folder / f"{name}.states.npy", suffix=".npy") as tmp:
            np.save(tmp, np.concatenate([self.pending[k] for k in keys]).astype(np.float32))
        with atomic_path(self.folder / f"{name}.index.npz", suffix=".npz") as tmp:  # last: the shard now counts
            np.savez(tmp, keys=np.array(keys, dtype=f"S{_KEY_BYTES}"), starts=starts, lengths=lengths)
        self.pending, self.pending_bytes = {}, 0
        self._map(name, replace=True)
        return self.folder / f"{name}.index.npz"

    def nbytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.glob("*.states.npy")) if self.folder.is_dir() else 0


def row_keys(input_ids: torch.Tensor, attention_mask: torch.Tensor,
             token_type_ids: torch.Tensor | None) -> list[bytes | None]:
    """A key per row from its token ids (and token types) up to its last real token; None for a row whose mask is
    not ones-then-zeros (left padding would move the positions, so such a row is computed, never served)."""
    ids = input_ids.detach().cpu().numpy()
    mask = attention_mask.detach().cpu().numpy().astype(bool)
    types = token_type_ids.detach().cpu().numpy() if token_type_ids is not None else None
    keys: list[bytes | None] = []
    for row in range(ids.shape[0]):
        length = int(mask[row].sum())
        if not mask[row, :length].all():
            keys.append(None)
            continue
        digest = hashlib.blake2b(ids[row, :length].astype(np.int64).tobytes(), digest_size=_KEY_BYTES)
        if types is not None:
            digest.update(types[row, :length].astype(np.int64).tobytes())
        keys.append(digest.digest())
    return keys
