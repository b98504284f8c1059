"""Load any supported source into a validated parallel :class:`~datasets.DatasetDict`.

A source is one of: ``sample`` (the bundled real-language sample), ``howto`` (its out-of-domain how-to set,
test only), ``synthetic`` (the synthetic world on its
defaults), a registered public source (``xquad``, ``mlqa``, ``mmarco``, ``miracl``; see
:mod:`hf_hybrid.data.sources`), a local JSONL / CSV / Parquet file or folder (``save_to_disk`` output or files
with a ``split`` column or one file per split), or a Hub dataset id. Long and wide layouts are both accepted;
the result is always the long parallel schema, validated.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

from hf_hybrid.data.schema import check_columns, is_wide, validate_parallel, wide_to_long
from hf_hybrid.errors import UserError, check_utf8
from hf_hybrid.hub_names import looks_like_path

_FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def _normalize(dataset: Dataset, source: str) -> Dataset:
    check_columns(dataset.column_names, source=source)
    if is_wide(dataset.column_names):
        dataset = Dataset(wide_to_long(dataset.data.table, source=source))
    keep = [c for c in dataset.column_names if c in ("id", "lang", "query", "passage", "negatives", "trap_negatives",
                                                            "split")]
    if "id" in dataset.column_names and pa.types.is_integer(dataset.data.table["id"].type):
        dataset = dataset.cast_column("id", _string())
    return dataset.select_columns(keep) if keep != dataset.column_names and "query" in keep else dataset


def _string():
    from datasets import Value

    return Value("string")


def _split_by_column(dataset: Dataset) -> DatasetDict:
    """Files with a ``split`` column become one split per value (done on Arrow, not row by row)."""
    if "split" not in dataset.column_names:
        return DatasetDict({"train": dataset})
    table = dataset.data.table
    splits = {}
    for name in pc.unique(table["split"]).to_pylist():
        part = table.filter(pc.equal(table["split"], name)).drop_columns(["split"])
        splits[str(name)] = Dataset(part)
    return DatasetDict(splits)


@contextmanager
def _quiet_progress():
    """Reading a local file is quick; its progress bars and the reader's own error log would only clutter stderr
    around the one-line error."""
    was_enabled = datasets.utils.logging.is_progress_bar_enabled()
    verbosity = datasets.utils.logging.get_verbosity()
    datasets.utils.logging.disable_progress_bar()
    datasets.utils.logging.set_verbosity(datasets.utils.logging.CRITICAL)
    try:
        yield
    finally:
        datasets.utils.logging.set_verbosity(verbosity)
        if was_enabled:
            datasets.utils.logging.enable_progress_bar()


def _load_files(path: Path) -> DatasetDict:
    with _quiet_progress():
        return _read_files(path)


def _read_files(path: Path) -> DatasetDict:
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "dataset_info.json").exists():
            loaded = load_from_disk(str(path))
            return loaded if isinstance(loaded, DatasetDict) else DatasetDict({"train": loaded})
        files = sorted(p for p in path.iterdir() if p.suffix in _FORMATS)
        if not files:
            raise UserError("data", f"folder {str(path)!r} holds no .jsonl/.csv/.parquet files",
                            "point at a file, a save_to_disk folder, or a folder of split files")
        formats = {_FORMATS[p.suffix] for p in files}
        if len(formats) > 1:
            raise UserError("data", f"folder {str(path)!r} mixes formats {sorted(formats)}", "use one format")
        return DatasetDict({p.stem: _read_file(p) for p in files})
    if path.suffix not in _FORMATS:
        raise UserError("data", f"unsupported file type {path.suffix!r} ({str(path)!r})",
                        "use .jsonl, .json, .csv or .parquet")
    return _split_by_column(_read_file(path))


def _read_file(path: Path) -> Dataset:
    """One file, decoded strictly; a file ``datasets`` cannot read is one line naming the file (and, for JSONL,
    the first bad line: Arrow's reader counts rows per block, not lines of the file)."""
    if path.stat().st_size == 0:
        raise UserError(str(path), "the file is empty", "pass a file with at least one question-passage pair")
    if path.suffix != ".parquet":
        check_utf8(str(path))
    try:
        dataset = load_dataset(_FORMATS[path.suffix], data_files=str(path), split="train")
    except Exception as err:  # datasets raises many types for unreadable files; one line for the user
        if path.suffix == ".jsonl":
            _find_bad_line(path)
        raise UserError(str(path), f"cannot read it as {_FORMATS[path.suffix]}: {_first_line(err)}",
                        "check the file is valid JSONL/CSV/Parquet in the parallel or wide layout") from None
    if any(name.startswith("__index_level_") for name in dataset.column_names):  # pandas' reading of a CSV
        raise UserError(str(path), "some rows have more fields than the header (a comma inside an unquoted text?)",
                        'quote texts that contain commas: "like, this"')
    return dataset


def _find_bad_line(path: Path) -> None:
    """Raise the one-line error for the first line of a JSONL file that is not a JSON object (error path only)."""
    rows = 0
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise UserError(str(path), f"line {number} is not valid JSON ({err.msg}, column {err.colno})",
                                "fix or remove that line (one JSON object per line)") from None
            if not isinstance(row, dict):
                raise UserError(str(path), f"line {number} is {type(row).__name__}, not a JSON object",
                                'write one object per line: {"id": ..., "lang": ..., "query": ..., "passage": ...}')
            rows += 1
    if not rows:
        raise UserError(str(path), "the file holds no rows", "pass a file with at least one question-passage pair")


def _first_line(err: BaseException) -> str:
    """The most specific message of an exception chain (``datasets`` wraps the reader's error), on one line."""
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def load_parallel(source: str, *, split: str | None = None, languages: list[str] | None = None,
                  **options) -> DatasetDict:
    """``source`` → validated parallel DatasetDict (or its splits filtered to ``split`` / ``languages``)."""
    if source == "sample":
        from hf_hybrid.data.sample import load_sample

        data = load_sample()
    elif source == "howto":
        from hf_hybrid.data.howto import load_howto

        data = DatasetDict({"test": load_howto()})
    elif source == "synthetic" or source.startswith("synthetic:"):
        from hf_hybrid.data.synthetic import make_world

        data = make_world(**parse_source_options(source, options)).dataset
    elif os.path.exists(os.path.expanduser(source)):
        try:
            data = _load_files(Path(os.path.expanduser(source)))
        except UserError:
            raise
        except Exception as err:  # datasets raises many types for unreadable files; one line for the user
            raise UserError("data", f"cannot read {source!r}: {type(err).__name__}: {_first_line(err)}",
                            "check the file is valid JSONL/CSV/Parquet in the parallel or wide layout") from None
    elif looks_like_path(source) and source.split(":", 1)[0] not in _registered():
        raise UserError("data", f"file or folder {source!r} not found", "check the path (relative paths start "
                        f"from {os.getcwd()})")
    elif source.split(":", 1)[0] in _registered():
        # ``xquad:data_dir=/copy,max_groups=500,passage=sentence``: source options after the name
        spec = _registered()[source.split(":", 1)[0]]
        settings = parse_source_options(source, options)
        data = DatasetDict({s: spec.load(languages=languages, split=s, **settings)
                            for s in ([split] if split else spec.splits)})
    else:
        data = _load_hub(source)
    with _quiet_progress():  # casts and filters: quick, and their bars would precede a one-line error
        return _finish(data, source, split=split, languages=languages)


def _registered() -> dict:
    from hf_hybrid.data.sources import SOURCES

    return SOURCES


def parse_source_options(source: str, options: dict | None = None) -> dict:
    """``synthetic:train_groups=500,seed=3`` → keyword overrides (ints/floats parsed)."""
    parsed = dict(options or {})
    if ":" in source:
        for item in filter(None, source.split(":", 1)[1].split(",")):
            key, _, value = item.partition("=")
            try:
                parsed[key] = int(value)
            except ValueError:
                try:
                    parsed[key] = float(value)
                except ValueError:
                    parsed[key] = value
    return parsed


def _load_hub(repo_id: str) -> DatasetDict:
    if "/" not in repo_id:
        known = ["sample", "howto", "synthetic", *_registered()]
        raise UserError("data", f"unknown source {repo_id!r} (not a file, a known source or a Hub id)",
                        f"use one of {', '.join(known)}, a local file, or an org/name Hub dataset id")
    try:
        loaded = load_dataset(repo_id, "parallel") if _has_parallel_config(repo_id) else load_dataset(repo_id)
    except Exception as err:
        raise UserError("data", f"cannot load Hub dataset {repo_id!r}: {str(err).splitlines()[0][:200]}",
                        "check the id and the network (offline: pass a local file or 'sample')") from None
    return loaded if isinstance(loaded, DatasetDict) else DatasetDict({"train": loaded})


def _has_parallel_config(repo_id: str) -> bool:
    try:
        from datasets import get_dataset_config_names

        return "parallel" in get_dataset_config_names(repo_id)
    except Exception:
        return False


def _finish(data: DatasetDict, source: str, *, split: str | None, languages: list[str] | None) -> DatasetDict:
    if split is not None:
        if split not in data:
            raise UserError("split", f"{source!r} has no split {split!r} (has {', '.join(data)})",
                            f"use one of {', '.join(data)}")
        data = DatasetDict({split: data[split]})
    result = {}
    for name, ds in data.items():
        ds = validate_parallel(_normalize(ds, source), source=f"{source}[{name}]")
        if languages:
            present = set(pc.unique(ds.data.table["lang"]).to_pylist())
            missing = [code for code in languages if code not in present]
            if missing:
                raise UserError("languages", f"{source!r} split {name!r} has no language {missing[0]!r} "
                                f"(has {', '.join(sorted(present))})", "choose languages the source has")
            table = ds.data.table
            ds = Dataset(table.filter(pc.is_in(table["lang"], pa.array(languages))))
        result[name] = ds
    return DatasetDict(result)


def world_from_source(source: str, **overrides):
    """The :class:`~hf_hybrid.data.SyntheticWorld` a ``synthetic:key=value,...`` source string describes."""
    from hf_hybrid.data.synthetic import make_world

    return make_world(**{**parse_source_options(source), **overrides})
