"""One exclusive lock per folder, across processes: the offline-model conversion and a training run use it.

``filelock`` (already installed with huggingface_hub and datasets) holds an OS lock on a ``<name>.lock`` file
*beside* the folder, not inside it: the folder itself may not exist yet, and a finished folder is replaced
by renaming a new one onto it, which must not move the lock away. The OS drops the lock when its process dies, so
a killed run never leaves a folder locked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout


class FolderBusy(Exception):
    """Another process holds the folder's lock (raised only with ``wait=False``)."""


def lock_path(folder: str | Path) -> Path:
    folder = Path(folder)
    return folder.parent / f"{folder.name}.lock"


@contextlib.contextmanager
def folder_lock(folder: str | Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the folder's lock for the ``with`` block. ``wait=True`` queues behind another holder (concurrent
    conversions: the second finds the work done); ``wait=False`` raises :class:`FolderBusy` at once (two
    trainings into one folder: the second must not wait hours, it must be told)."""
    path = lock_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        raise FolderBusy(str(folder)) from None
    try:
        yield
    finally:
        lock.release()


def is_held(folder: str | Path) -> bool:
    """Whether another process holds the folder's lock now; creates nothing (no lock file means no holder)."""
    if not lock_path(folder).exists():
        return False
    try:
        with folder_lock(folder, wait=False):
            return False
    except FolderBusy:
        return True
