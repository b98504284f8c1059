"""All-or-nothing writes: the one place that knows how to put a file or a folder in place atomically.

A reader (a resumed run, ``evaluate``, the Hub upload) must never see half a file or half a model folder, and a
run that fails or is killed must leave what was there before untouched. POSIX ``rename`` is atomic within one
file system, so everything is written beside its destination (same folder, a hidden temp name) and renamed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hf_hybrid.errors import UserError


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temp file path beside ``path``; on success rename it onto ``path``, on failure delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or ".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the file should get the mode open() would give it
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data, indent: int = 2) -> Path:
    """Write ``data`` as JSON to ``path`` atomically (non-JSON values through ``str``)."""
    return write_text(path, json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n")


@contextlib.contextmanager
def atomic_dir(dest: str | Path) -> Iterator[Path]:
    """Yield an empty temp folder beside ``dest``; on success it replaces ``dest`` (which may exist), on failure
    it is deleted and ``dest`` is left exactly as it was.

    Replacing a non-empty folder cannot be one rename: the old folder is first renamed aside, the new one renamed
    in, and only then the old one deleted, so at every instant ``dest`` is either the complete old folder or the
    complete new one (a kill between the two renames leaves the old one beside, under a hidden name).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_dir(tmp, dest)


def replace_dir(src: str | Path, dest: str | Path) -> None:
    """Move the complete folder ``src`` onto ``dest`` (same file system), replacing ``dest`` if it exists."""
    src, dest = Path(src), Path(dest)
    if not dest.exists():
        os.replace(src, dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    os.replace(dest, old / dest.name)
    os.replace(src, dest)
    shutil.rmtree(old, ignore_errors=True)


def save_into(folder: str | Path, save) -> None:
    """Let ``save(tmp)`` write a set of files into a temp folder beside ``folder``, then rename each of them into
    ``folder``, replacing what had that name: the folder (a run's, with its checkpoints) keeps its other files, and
    each saved file or subfolder appears whole or not at all."""
    folder = Path(folder)
    tmp = Path(tempfile.mkdtemp(prefix=".save-", dir=folder))
    try:
        save(tmp)
        for item in tmp.iterdir():
            target = folder / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def output_folder_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be an output folder (created if missing), or None: it is a file, its nearest existing
    ancestor is a file, or that ancestor is not writable for this user. The one rule every command's output check
    uses, each adding its own (new or empty, an earlier run of its own) and raising in its own words."""
    target = Path(path).expanduser().absolute()
    if target.exists() and not target.is_dir():
        return f"{str(path)!r} is a file, not a folder"
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        return f"{str(path)!r} cannot be created: {str(existing)!r} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{str(path)!r} is not writable: {str(existing)!r} is read-only for you"
    return None


def check_new_folder(output: str, field: str = "output") -> None:
    """Before anything is loaded or written: ``output`` must be a new or empty folder we can create files in."""
    if problem := output_folder_problem(output):
        raise UserError(field, problem, "choose a new folder you can write to")
    if Path(output).is_dir() and any(Path(output).iterdir()):
        raise UserError(field, f"{output!r} exists and is not empty", "choose a new folder or delete it")
