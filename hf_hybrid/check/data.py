"""Dry-run checks of a data source: the exact files a run reads, the splits and languages it needs, a few rows.

A registered source (``xquad``, ``mlqa``, ``mmarco``, ``miracl``) resolves to its repository's files through
:meth:`~hf_hybrid.data.sources.SourceSpec.requests`, the same call its loader makes. With ``mirror`` (a folder
holding local copies named ``<owner>__<name>/``, laid out as on the Hub) the files are read from there; otherwise
from the Hub at the pinned revision (with sizes when the Hub is reachable, else the list of what would be
fetched). Only the first groups are read (``cap``), enough to draw the first steps of the plan.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from datasets import DatasetDict

from hf_hybrid.check.report import CheckReport, FileEntry
from hf_hybrid.data.local import _quiet_progress, load_parallel, parse_source_options
from hf_hybrid.data.sources import SOURCES, SourceSpec
from hf_hybrid.errors import UserError

TRAIN = "train"


def mirror_copy(mirror: str | None, repo_id: str) -> Path | None:
    """The local copy of Hub repository ``owner/name`` under ``mirror`` (``<owner>__<name>/``), if there is one."""
    if not mirror:
        return None
    folder = Path(mirror) / repo_id.replace("/", "__")
    return folder if folder.is_dir() else None


def registered(source: str) -> SourceSpec | None:
    return SOURCES.get(source.split(":", 1)[0])


def _hub_sizes(pattern: str) -> list[tuple[str, int]]:
    """Files matching an ``hf://`` pattern at its revision, with sizes (one listing call; no download)."""
    from huggingface_hub import HfFileSystem

    found = HfFileSystem().glob(pattern.removeprefix("hf://"), detail=True)
    return [(name, int(info.get("size") or 0)) for name, info in sorted(found.items())]


def list_files(spec: SourceSpec, languages: list[str], split: str, data_dir: str | None, online: bool,
               report: CheckReport) -> None:
    """Add the files one split of a registered source reads to ``report.files`` (a missing one is a problem)."""
    seen = set()
    for request in spec.requests(languages, split, data_dir=data_dir):
        if request.data_files in seen:
            continue
        seen.add(request.data_files)
        if data_dir is not None:
            matches = sorted(glob.glob(request.data_files))
            if not matches:
                report.problem(f"{spec.name} ({spec.hub_id})", f"no file matches {request.path!r} in {data_dir!r}",
                               f"lay the copy out as {spec.hub_id} is on the Hub (same relative paths)")
            report.files += [FileEntry(spec.name, path, os.path.getsize(path), "local") for path in matches]
        elif online:
            try:
                matches = _hub_sizes(request.data_files)
            except Exception as err:  # hub/fsspec errors vary; one line for the user
                report.problem(f"{spec.name} ({spec.hub_id})", f"cannot list {request.data_files!r}: "
                               f"{type(err).__name__}", "check the revision and your access to the dataset")
                continue
            if not matches:
                report.problem(f"{spec.name} ({spec.hub_id})", f"no file matches {request.path!r} at revision "
                               f"{spec.revision}", "the repository layout changed: update hf_hybrid/data/sources.py")
            report.files += [FileEntry(spec.name, f"hf://{name}", size, "hub") for name, size in matches]
        else:
            report.files.append(FileEntry(spec.name, request.data_files, None, "hub"))


def check_source(source: str, *, split: str, languages: list[str] | None, mirror: str | None, online: bool,
                 report: CheckReport, cap: int, role: str = "data") -> DatasetDict | None:
    """Check that ``source`` has ``split`` and ``languages``, list its files, and read its first ``cap`` groups.

    Returns the rows read (``None`` when a problem prevents reading), for the plan and the summary.
    """
    spec = registered(source)
    if spec is None:
        return _check_other(source, split=split, languages=languages, report=report, cap=cap, role=role)
    options = parse_source_options(source)
    loaded = [c for c in str(options.pop("langs", "")).split("+") if c] or list(spec.languages)
    if not spec.pinned:
        report.notes.append(f"{spec.name} ({spec.hub_id}) is read at {spec.revision!r}, not a commit: "
                            f"{spec.revision_note or 'unpinned'}")
    if split not in spec.splits:
        report.problem(role, f"{source!r}: {spec.name} has no {split} split (has {', '.join(spec.splits)})",
                       _split_fix(split, role))
        return None
    bad = [c for c in [*loaded, *(languages or [])] if c not in spec.languages]
    missing = [c for c in languages or [] if c not in loaded and c in spec.languages]
    if bad:
        report.problem(role, f"{source!r}: {spec.name} has no language {', '.join(map(repr, bad))} "
                       f"(has {' '.join(spec.languages)})", "choose languages the source has")
    if missing:
        report.problem(role, f"{source!r} does not load {', '.join(missing)} (loads {' '.join(loaded)})",
                       f"add them to langs= if {spec.name} has them, or drop them from the languages")
    if bad or missing:
        return None
    copy = options.pop("data_dir", None) or mirror_copy(mirror, spec.hub_id)
    data_dir = str(copy) if copy else None
    list_files(spec, loaded, split, data_dir, online, report)
    if data_dir is None and not online:
        report.notes.append(f"{spec.name}: the Hub is not reachable, so its rows were not read; pass --mirror "
                            "with a local copy to draw the plan on them")
        return None
    want = int(options.pop("max_groups", 0)) or None
    groups = min(cap, want) if want else cap
    try:
        with _quiet_progress():
            rows = spec.load(loaded, split, max_groups=groups, data_dir=data_dir, **options)
    except UserError as err:
        report.problems.append(str(err))
        return None
    return DatasetDict({split: rows})


def _split_fix(split: str, role: str) -> str:
    if split == TRAIN:
        trainable = [name for name, s in SOURCES.items() if TRAIN in s.splits]
        return f"train on a source with a train split ({', '.join(trainable)}; e.g. mmarco:langs=en+de)"
    return f"use another {role} split, or another source"


def _check_other(source: str, *, split: str, languages: list[str] | None, report: CheckReport, cap: int,
                 role: str) -> DatasetDict | None:
    """``sample``, ``synthetic:...``, a local file or a Hub dataset id: read through the loader the run uses.

    A synthetic world is generated with at most ``cap`` training groups: enough to draw the first steps, and
    seconds instead of minutes for the GPU-size worlds."""
    if source == "synthetic" or source.startswith("synthetic:"):
        options = parse_source_options(source)
        if int(options.get("train_groups", cap)) > cap:
            report.notes.append(f"{role}: the plan is drawn on a world of {cap} training groups (the config asks "
                                f"for {options['train_groups']}); same languages and settings")
            options["train_groups"] = cap
        source = "synthetic:" + ",".join(f"{k}={v}" for k, v in options.items())
    elif "/" in source and not os.path.exists(source):
        report.files.append(FileEntry(role, f"hf://datasets/{source}", None, "hub"))
    try:
        with _quiet_progress():
            data = load_parallel(source)
    except UserError as err:
        report.problems.append(str(err))
        return None
    if split not in data:
        report.problem(role, f"{source!r} has no {split} split (has {', '.join(data)})", _split_fix(split, role))
        return None
    present = set(data[split].unique("lang"))
    missing = [c for c in languages or [] if c not in present]
    if missing:
        report.problem(role, f"{source!r} split {split!r} has no language {', '.join(missing)} "
                       f"(has {' '.join(sorted(present))})", "choose languages the source has")
    return DatasetDict({split: data[split]})


def rows_per_language(data: DatasetDict) -> str:
    """``train: en=150 de=150`` for the summary."""
    from hf_hybrid.data import group_counts

    parts = []
    for split, rows in data.items():
        counts = group_counts(rows)
        parts.append(f"{split}: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return "; ".join(parts)
