"""Publish models and hybrid-batch datasets as Hub repos that come back through the ordinary clients.

``push_model`` uploads a trained model folder, its card (``hf_hybrid.cards``), the training record and the
evaluation results in **one commit**, so a repo is never half-updated: the Hub applies a commit whole or not at
all, and the push is reported only after the files are seen at that commit. ``push_dataset`` uses
``datasets``' own ``push_to_hub`` (parquet shards + the ``configs`` metadata ``load_dataset`` reads), then puts our
dataset card on top of the metadata it wrote.

Transient failures (HTTP 408/429/5xx, timeouts, dropped connections) are retried with exponential back-off: the
client retries only some of its requests itself (preupload, LFS) and not repo creation or the commit. Permanent
failures (401, 403, 404) become a one-line :class:`~hf_hybrid.errors.UserError` with the fix. The token comes from
``HF_TOKEN`` or the ``hf auth login`` store via ``huggingface_hub.get_token`` and is never printed, logged or
written.

    python -m hf_hybrid.push runs/hybrid-xlmr --repo-id org/hybrid-xlmr --results runs/hybrid-xlmr/results.json
    python -m hf_hybrid.push data/hybrid --dataset --repo-id org/hybrid-xquad --private
"""

from __future__ import annotations

import collections
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx2
from huggingface_hub import CommitOperationAdd, DatasetCard, HfApi
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

from hf_hybrid.cards import render_model_card
from hf_hybrid.dataset_card import render_dataset_card
from hf_hybrid.errors import UserError
from hf_hybrid.evaluation.results import RESULTS_FILE
from hf_hybrid.hub_names import check_repo_id, require_token
from hf_hybrid.training.files import RUN_MARKER, TRAINING_RECORD

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_ATTEMPTS = 5  # 1 try + 4 retries: waits of 1, 2, 4, 8 s ride out a short Hub incident
RETRY_BASE_DELAY_S = 1.0
RETRY_MAX_DELAY_S = 30.0
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_EXCEPTIONS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)
# What stays local when a model folder is pushed, by file or folder name at any depth: hidden files, trainer
# checkpoints (checkpoint-N, checkpoints/), TensorBoard logs (runs/), traces, caches and the run's claim marker.
LEFT_OUT = re.compile(rf"^(\..*|checkpoint-\d+|checkpoints|runs|trace|__pycache__|{re.escape(RUN_MARKER)})$")


def _status(err: BaseException) -> int | None:
    response = getattr(err, "response", None)
    return getattr(response, "status_code", None)


def is_transient(err: BaseException) -> bool:
    """Worth retrying: the Hub or the network failed, not the request."""
    return isinstance(err, TRANSIENT_EXCEPTIONS) or (isinstance(err, HfHubHTTPError) and _status(err) in TRANSIENT_STATUS)


def with_retries(fn: Callable[[], T], *, what: str = "Hub request", attempts: int | None = None,
                 base_delay: float | None = None, sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``fn()``; on a transient failure wait ``base_delay * 2**k`` (capped) and call it again.

    ``fn`` must be safe to repeat: every call here is (create with ``exist_ok``, a commit whose unchanged files the
    client skips). Permanent failures are raised at once; after the last attempt the transient error is raised.
    """
    attempts = RETRY_ATTEMPTS if attempts is None else attempts
    delay = RETRY_BASE_DELAY_S if base_delay is None else base_delay
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as err:
            if not is_transient(err) or attempt == attempts:
                raise
            reason = f"HTTP {_status(err)}" if _status(err) else err.__class__.__name__
            logger.warning("%s failed (%s); retry %d/%d in %.1f s", what, reason, attempt, attempts - 1, delay)
            sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY_S)
    raise AssertionError("unreachable")


def as_user_error(err: Exception, repo_id: str) -> UserError:
    """A permanent Hub failure as one line that says what to do. Never includes the token."""
    if isinstance(err, OfflineModeIsEnabled):
        return UserError("HF_HUB_OFFLINE", "offline mode is on, so nothing can be pushed",
                         "unset HF_HUB_OFFLINE (and check the network), then push again")
    status = _status(err)
    if status == 401:
        return UserError("token", "the Hub rejected the token (HTTP 401)",
                         "run `hf auth login` or set HF_TOKEN to a valid token with write access")
    if status == 403:
        return UserError("repo_id", f"{repo_id!r}: the token may not write to this namespace (HTTP 403)",
                         "push to your own namespace or an organisation you belong to, with a write token")
    if status == 404:
        return UserError("repo_id", f"{repo_id!r}: namespace or repository not found (HTTP 404)",
                         "check that the user or organisation exists and is spelled right")
    if is_transient(err):
        what = f"HTTP {status}" if status else err.__class__.__name__
        return UserError("hub", f"the Hub kept failing ({what}) after {RETRY_ATTEMPTS} attempts; nothing was pushed",
                         "try again later (status: https://status.huggingface.co)")
    return UserError("hub", f"the Hub refused the push (HTTP {status})", "check the repo id, revision and files")


def _prepare_repo(api: HfApi, repo_id: str, repo_type: str, private: bool, revision: str | None) -> None:
    """Create the repo (and the branch) if missing; both are no-ops when they exist."""
    with_retries(lambda: api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True),
                 what="create repo")
    if revision:
        with_retries(lambda: api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True),
                     what="create branch")


# -- models ---------------------------------------------------------------------------------------------
def left_out(_folder, names: list[str]) -> list[str]:
    """The names in one folder that a push leaves out (``shutil.copytree``'s ``ignore`` signature, so a staged copy,
    such as the quickstart's, holds exactly what :func:`push_model` uploads)."""
    return [name for name in names if LEFT_OUT.match(name)]


def model_files(model_dir: Path) -> list[Path]:
    """The files of a saved model that belong on the Hub (not checkpoints, logs, markers or hidden files)."""
    return sorted(p for p in model_dir.rglob("*") if p.is_file()
                  and not any(LEFT_OUT.match(part) for part in p.relative_to(model_dir).parts))


def _model_operations(model_dir: Path, card_text: str, results_path: Path | None) -> list[CommitOperationAdd]:
    ops = [CommitOperationAdd(p.relative_to(model_dir).as_posix(), str(p)) for p in model_files(model_dir)
           if p.relative_to(model_dir).as_posix() not in ("README.md", RESULTS_FILE)]
    ops.append(CommitOperationAdd("README.md", card_text.encode()))
    if results_path is not None:
        ops.append(CommitOperationAdd(RESULTS_FILE, results_path.read_bytes()))
    return ops


def verify_commit(api: HfApi, repo_id: str, repo_type: str, oid: str, paths: list[str]) -> None:
    """Report a push only once every file is visible at its commit."""
    found = with_retries(lambda: {e.path for e in api.get_paths_info(repo_id, paths, revision=oid, repo_type=repo_type)},
                         what="verify commit")
    missing = sorted(set(paths) - found)
    if missing:
        raise UserError("hub", f"commit {oid[:12]} is missing {len(missing)} file(s), e.g. {missing[0]!r}",
                        "push again; the repo was not reported as pushed")


def push_model(model_dir: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None,
               results_path: str | Path | None = None, commit_message: str | None = None,
               token: str | None = None, license: str | None = None) -> str:
    """Push a trained model folder with its card, training record and results in one commit; returns its URL."""
    model_dir = Path(model_dir)
    check_repo_id(repo_id)
    token = require_token(token)
    card = render_model_card(model_dir, results_path, repo_id=repo_id, license=license)  # validates the folder
    results = Path(results_path) if results_path is not None else None
    if results is None and (model_dir / RESULTS_FILE).exists():
        results = model_dir / RESULTS_FILE
    api = HfApi(token=token)
    files = [op.path_in_repo for op in _model_operations(model_dir, str(card), results)]
    if commit_message is None:
        extras = [name for name, present in (("training record", (model_dir / TRAINING_RECORD).exists()),
                                             ("evaluation results", results is not None)) if present]
        commit_message = f"hf-hybrid: push {model_dir.name} ({len(files)} files: model, card" + \
            "".join(f", {e}" for e in extras) + ")"
    try:
        _prepare_repo(api, repo_id, "model", private, revision)
        # Fresh operations per attempt: the client marks them as committed, and a retry must re-read the files.
        info = with_retries(lambda: api.create_commit(repo_id, _model_operations(model_dir, str(card), results),
                                                      commit_message=commit_message, revision=revision),
                            what="commit")
        verify_commit(api, repo_id, "model", info.oid, files)
    except (HfHubHTTPError, OfflineModeIsEnabled, *TRANSIENT_EXCEPTIONS) as err:
        raise as_user_error(err, repo_id) from err
    return info.commit_url


def write_demo_embeddings(model_dir: Path) -> Path:
    """The demo's corpus embedded by this model, where the demo reads it first (``demo_embeddings/``)."""
    from hf_hybrid.demo.cache import write_corpus_embeddings
    from hf_hybrid.models import load_model

    return write_corpus_embeddings(load_model(str(model_dir)), None, Path(model_dir) / "demo_embeddings")


# -- datasets -------------------------------------------------------------------------------------------
def _load_dataset_dict(source, config_name: str):
    """A ``DatasetDict`` from an object or a folder (``save_to_disk`` output, or a build folder with ``parallel/``)."""
    from datasets import Dataset, DatasetDict, load_from_disk

    if isinstance(source, Dataset):
        return DatasetDict({"train": source})
    if isinstance(source, DatasetDict):
        return source
    path = Path(source)
    candidates = [path / config_name, path / "plans" / config_name, path]
    for candidate in candidates:
        if (candidate / "dataset_dict.json").exists() or (candidate / "dataset_info.json").exists():
            loaded = load_from_disk(str(candidate))
            return loaded if isinstance(loaded, DatasetDict) else DatasetDict({"train": loaded})
    raise UserError("dataset", f"{str(source)!r} holds no saved dataset (looked in {', '.join(map(str, candidates))})",
                    "pass a folder written by `hf-hybrid build --output` or by `save_to_disk`")


def dataset_card_info(dataset_dict, repo_id: str) -> dict:
    """What ``render_dataset_card`` needs, counted from the data itself."""
    splits = {}
    for split, ds in dataset_dict.items():
        counts = collections.Counter(ds["lang"]) if "lang" in ds.column_names else {}
        splits[split] = {"rows": len(ds), "groups_per_language": dict(counts)}
    return {"repo_id": repo_id, "splits": splits}


def _card_for(source, dataset_dict, repo_id: str, card: DatasetCard | None) -> DatasetCard:
    if card is not None:
        return card
    if not isinstance(source, (str, Path)) or not (Path(source) / "README.md").exists():
        return render_dataset_card(dataset_card_info(dataset_dict, repo_id))
    return DatasetCard.load(Path(source) / "README.md")


def push_dataset(dataset_dict_or_path, repo_id: str, *, config_name: str = "parallel", card: DatasetCard | None = None,
                 private: bool = False, revision: str | None = None, commit_message: str | None = None,
                 token: str | None = None) -> str:
    """Push a dataset config with ``datasets``' ``push_to_hub``, then our card over the metadata it wrote.

    ``card=None`` keeps an hf-hybrid card already on the repo (pushing a plan config after ``parallel``), or
    renders one from the data. Returns the URL of the last commit.
    """
    check_repo_id(repo_id)
    token = require_token(token)
    dataset_dict = _load_dataset_dict(dataset_dict_or_path, config_name)
    api = HfApi(token=token)
    rows = sum(len(ds) for ds in dataset_dict.values())
    message = commit_message or f"hf-hybrid: push config {config_name!r} ({rows} rows, splits " \
        f"{', '.join(dataset_dict)})"
    try:
        _prepare_repo(api, repo_id, "dataset", private, revision)
        data_commit = with_retries(lambda: dataset_dict.push_to_hub(
            repo_id, config_name=config_name, set_default=True if config_name == "parallel" else None,
            private=private, token=token, revision=revision, commit_message=message), what="push dataset")
        # RepoCard.load takes no revision: read the README of the pushed branch itself.
        remote = DatasetCard.load(with_retries(lambda: api.hf_hub_download(
            repo_id, "README.md", repo_type="dataset", revision=revision), what="read card"))
        if card is None and "hf-hybrid" in (remote.data.get("tags") or []):
            return data_commit.commit_url
        ours = _card_for(dataset_dict_or_path, dataset_dict, repo_id, card)
        # Keep what `datasets` wrote for `load_dataset` (configs, features, sizes); the rest is our card.
        for key in ("configs", "dataset_info"):
            if remote.data.get(key) is not None:
                ours.data[key] = remote.data.get(key)
        card_commit = with_retries(lambda: api.upload_file(
            path_or_fileobj=str(ours).encode(), path_in_repo="README.md", repo_id=repo_id, repo_type="dataset",
            revision=revision, commit_message=f"hf-hybrid: dataset card for config {config_name!r}"), what="card")
    except (HfHubHTTPError, OfflineModeIsEnabled, *TRANSIENT_EXCEPTIONS) as err:
        raise as_user_error(err, repo_id) from err
    return card_commit.commit_url


# -- CLI ------------------------------------------------------------------------------------------------
def _is_dataset_folder(path: Path) -> bool:
    return any((path / name).exists() for name in ("dataset_dict.json", "dataset_info.json", "parallel"))
