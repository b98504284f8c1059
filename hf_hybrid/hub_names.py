"""What names a Hub repo and what names a local path, and where a Hub token comes from: one rule each, used by every
stage that takes a model, a dataset or a repo id (models, data sources, cards, push).

A Hub id is ``namespace/name`` as the Hub spells it (:data:`REPO_ID`); anything absolute, relative
(``./``, ``~``), deeper or with a data file's suffix is a local path, so a missing one is reported as "not found"
rather than as a failed download. The token is read from ``HF_TOKEN`` or the ``hf auth login`` store by
``huggingface_hub.get_token`` only: never from a flag, a config or a file of ours.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hf_hybrid.errors import UserError

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")  # how the Hub spells namespace/name
DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")  # a name ending so is a data file, never a Hub id


def is_hub_id(name: str) -> bool:
    """``namespace/name`` as the Hub spells repo ids (says nothing about whether the repo exists)."""
    return bool(REPO_ID.match(name or ""))


def looks_like_path(name: str, file_suffixes: tuple[str, ...] = DATA_SUFFIXES) -> bool:
    """Whether ``name`` can only be a local path: absolute, relative, deeper than ``org/name``, with the OS's own
    separator, or ending in one of ``file_suffixes`` (a data file's ``.jsonl``, ``.parquet``, …)."""
    return (os.path.isabs(name) or name.startswith((".", "~")) or name.count("/") > 1
            or os.sep != "/" and os.sep in name or Path(name).suffix.lower() in file_suffixes)


def check_repo_id(repo_id: str, field: str = "repo_id") -> None:
    """A one-line error before any upload when ``repo_id`` cannot be a Hub repo id."""
    if not is_hub_id(repo_id):
        raise UserError(field, f"{repo_id!r} is not a Hub repo id", "use namespace/name, e.g. org/hybrid-xlmr")


def require_token(token: str | None = None) -> str:
    """``token`` if given (a caller's own), else the environment's or the login's; a one-line error when none."""
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise UserError("token", "no Hub token found", "run `hf auth login` or set HF_TOKEN")
    return token
