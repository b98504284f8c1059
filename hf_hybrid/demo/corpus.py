"""The passages the demo searches: a parallel-schema dataset (``CORPUS``, or the bundled sample) or a small
file a visitor uploads, reduced to one passage per (group, language)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hf_hybrid.demo.config import DemoConfig
from hf_hybrid.errors import UserError, check_utf8

UNDETERMINED = "und"  # ISO 639-2 code for "language not given" (plain-text uploads)


@dataclass(frozen=True)
class Corpus:
    """The passages searched: one per (group, language), with example queries for the page."""

    name: str
    ids: list[str]
    langs: list[str]
    passages: list[str]
    examples: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.langs))


def _pick_examples(rows: Sequence[Mapping[str, str]], per_language: int = 1, limit: int = 8) -> list[str]:
    """Queries in several languages, low-resource ones first, each from a different group.

    Different groups keep the examples from being one question asked eight times; low-resource languages
    first because they are where a model's language bias shows most.
    """
    from hf_hybrid.languages import resource_level

    by_lang: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        if row.get("query"):
            by_lang.setdefault(row["lang"], []).append(row)
    order = sorted(by_lang, key=lambda code: (resource_level(code) != "low", code))
    examples, used_ids = [], set()
    for code in order:
        fresh = [r for r in by_lang[code] if r["id"] not in used_ids][:per_language]
        for row in fresh:
            examples.append(row["query"])
            used_ids.add(row["id"])
    return examples[:limit]


def corpus_from_rows(rows: Sequence[Mapping[str, str]], name: str) -> Corpus:
    """Keep one passage per (group, language): the parallel schema repeats a passage for each of its queries."""
    seen: set[tuple[str, str]] = set()
    ids, langs, passages = [], [], []
    for row in rows:
        key = (row["id"], row["lang"])
        if key not in seen:
            seen.add(key)
            ids.append(row["id"])
            langs.append(row["lang"])
            passages.append(row["passage"])
    return Corpus(name=name, ids=ids, langs=langs, passages=passages, examples=_pick_examples(rows))


TEXT_SUFFIXES = {".jsonl", ".json", ".csv", ".tsv"}
CORPUS_FIX = "point CORPUS (or --corpus) at a UTF-8 parallel-schema dataset (id, lang, query, passage)"


def check_corpus_file(path: Path) -> None:
    """Refuse an empty or non-UTF-8 local corpus file with one line, before ``datasets`` parses it (through the one
    UTF-8 check, :func:`hf_hybrid.errors.check_utf8`, which names the line and the bytes to look at)."""
    if path.suffix.lower() in TEXT_SUFFIXES:
        has_text = check_utf8(str(path), field="CORPUS", fix=f"save it as UTF-8, or {CORPUS_FIX}")
    else:
        has_text = path.stat().st_size > 0
    if not has_text:
        raise UserError("CORPUS", f"{str(path)!r} is empty", CORPUS_FIX)


def _load_dataset(source: str):
    """The configured dataset, every split concatenated; any problem reading it is a ``CORPUS`` error."""
    import datasets

    from hf_hybrid.data import load_parallel

    if Path(source).is_file():
        check_corpus_file(Path(source))
    try:
        ds = load_parallel(source)
    except UserError as err:
        raise UserError("CORPUS", f"{source!r}: {err.field}: {err.problem}", err.fix) from None
    if isinstance(ds, datasets.DatasetDict):
        ds = datasets.concatenate_datasets([ds[name] for name in sorted(ds)])
    return ds


def load_corpus(source: str | None) -> Corpus:
    """The configured corpus (a parallel-schema dataset path or Hub id), or the bundled sample."""
    import datasets

    from hf_hybrid.data import load_sample

    if source is None:
        splits = load_sample()
        ds, name = datasets.concatenate_datasets([splits[name] for name in sorted(splits)]), "bundled sample"
    else:
        ds, name = _load_dataset(source), str(source)
    rows = ds.select_columns(["id", "lang", "query", "passage"]).to_list()
    if not rows:
        raise UserError("CORPUS", f"{source!r} has no rows", CORPUS_FIX)
    return corpus_from_rows(rows, name)


# ---------------------------------------------------------------------------------------------- uploads

UPLOAD_KEYS = {"id", "lang", "query", "passage", "negatives"}


def _decode_upload(data: bytes, config: DemoConfig) -> list[str]:
    if len(data) > config.max_upload_bytes:
        raise UserError("upload", f"over {config.max_upload_bytes} bytes", f"upload at most {config.max_upload_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserError("upload", f"not UTF-8 (byte {err.start})", "save the file as UTF-8") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise UserError("upload", "the file is empty", "upload one passage per line, or JSONL rows")
    if len(lines) > config.max_upload_passages:
        raise UserError("upload", f"{len(lines)} passages", f"upload at most {config.max_upload_passages}")
    return lines


def _jsonl_row(n: int, line: str) -> dict[str, str]:
    """One strictly checked row: an object with string ``lang`` and ``passage`` and only schema keys."""
    from hf_hybrid.languages import is_known

    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise UserError(f"upload line {n}", f"invalid JSON ({err.msg})", "write one JSON object per line") from None
    if not isinstance(row, dict):
        raise UserError(f"upload line {n}", f"a {type(row).__name__}, not an object", 'write {"lang": ..., "passage": ...}')
    unknown = sorted(set(row) - UPLOAD_KEYS)
    if unknown:
        raise UserError(f"upload line {n}", f"unknown keys {unknown}", f"use only {sorted(UPLOAD_KEYS)}")
    for key in ("lang", "passage"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise UserError(f"upload line {n}", f"{key!r} is missing or not a non-empty string", f'add "{key}": "..."')
    if not is_known(row["lang"]):
        raise UserError(f"upload line {n}", f"lang {row['lang']!r} is not a known code", "use an ISO 639 code such as sw, en, yo")
    if not isinstance(row.get("id", ""), str):
        raise UserError(f"upload line {n}", "'id' is not a string", 'write "id" as a string')
    return {"id": row.get("id") or f"line-{n}", "lang": row["lang"], "passage": row["passage"].strip()}


def read_capped(path: str | Path, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of a file: enough to tell it is too large without reading it all."""
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1)


def parse_upload(data: bytes, filename: str, config: DemoConfig) -> Corpus:
    """A small user corpus: ``.jsonl`` (parallel-schema rows) or ``.txt`` (one passage per line, language unknown).

    Parsed by hand rather than with ``datasets.load_dataset("json")`` so that the size and row caps apply
    before anything is materialised, and every rejection names the line and the fix.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in (".jsonl", ".txt"):
        raise UserError("upload", f"{Path(filename).name!r} has type {suffix or 'none'}", "upload a .jsonl or .txt file")
    lines = _decode_upload(data, config)
    if suffix == ".jsonl":
        rows = [_jsonl_row(n, line) for n, line in lines]
    else:
        rows = [{"id": f"line-{n}", "lang": UNDETERMINED, "passage": line} for n, line in lines]
    for row, (n, _) in zip(rows, lines, strict=True):
        if len(row["passage"]) > config.max_passage_chars:
            raise UserError(f"upload line {n}", f"passage of {len(row['passage'])} characters", f"keep passages under {config.max_passage_chars}")
    return corpus_from_rows(rows, f"upload: {Path(filename).name}")
