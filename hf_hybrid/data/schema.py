"""The parallel schema every source is turned into, and its validation.

Long format, one row per (group, language): ``id`` (shared by all translations of one question–passage pair),
``lang`` (ISO 639 code), ``query``, ``passage``, optional ``negatives`` (hard-negative passages in that row's
language). Everything downstream reads only this.

Validation runs on the Arrow table with ``pyarrow.compute`` so it stays fast and flat in memory on millions of
rows (no Python lists of rows). Each failure is a :class:`~hf_hybrid.errors.UserError`: one line naming the
field, the offending value and the fix.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset

from hf_hybrid.data.languages import is_known
from hf_hybrid.errors import UserError

REQUIRED_COLUMNS = ("id", "lang", "query", "passage")
OPTIONAL_COLUMNS = ("negatives",)
_WIDE = re.compile(r"^(query|passage|negatives)_([a-z]{2,3})$")


def is_wide(columns: list[str]) -> bool:
    """Wide form has ``query_<lang>`` / ``passage_<lang>`` columns instead of ``lang``/``query``/``passage``."""
    return "lang" not in columns and any(_WIDE.match(c) for c in columns)


def wide_to_long(table: pa.Table, *, source: str) -> pa.Table:
    """``id, query_en, passage_en, query_sw, …`` → one row per (id, language) present.

    A language where both texts are empty for an id means the group is absent in that language; a query without
    its passage (or the reverse) is an error caught later by :func:`validate_parallel`.
    """
    if "id" not in table.column_names:
        raise UserError("id", f"wide-form source {source!r} has no 'id' column",
                        "add an 'id' column shared by all translations of a question-passage pair")
    langs = sorted({m.group(2) for c in table.column_names if (m := _WIDE.match(c))})
    parts = []
    for lang in langs:
        q, p = f"query_{lang}", f"passage_{lang}"
        if q not in table.column_names or p not in table.column_names:
            missing = p if q in table.column_names else q
            raise UserError(missing, f"wide-form source {source!r} has {q if missing == p else p} but no {missing}",
                            f"add the column {missing} or drop language {lang!r}")
        queries = pc.fill_null(table[q].cast(pa.string()), "")
        passages = pc.fill_null(table[p].cast(pa.string()), "")
        present = pc.or_(pc.greater(pc.utf8_length(queries), 0), pc.greater(pc.utf8_length(passages), 0))
        columns = {
            "id": table["id"].cast(pa.string()),
            "lang": pa.array([lang] * table.num_rows, pa.string()),
            "query": queries,
            "passage": passages,
        }
        if f"negatives_{lang}" in table.column_names:
            columns["negatives"] = table[f"negatives_{lang}"]
        parts.append(pa.table(columns).filter(present))
    return pa.concat_tables(parts, promote_options="default")


def _first(table: pa.Table, mask: pa.ChunkedArray) -> dict:
    """The first row where ``mask`` holds, for the error message."""
    index = int(np.flatnonzero(mask.to_numpy(zero_copy_only=False))[0])
    return {name: table[name][index].as_py() for name in ("id", "lang") if name in table.column_names}


def validate_parallel(dataset: Dataset, *, source: str = "dataset") -> Dataset:
    """Check ``dataset`` against the parallel schema; return it with ``id``/``lang`` as strings.

    Raises a one-line :class:`UserError` for: missing or misnamed columns, empty texts, unknown language codes,
    an id with a query but no passage in some language, duplicate (id, lang) rows.
    """
    columns = dataset.column_names
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            near = [c for c in columns if c.lower().startswith(name[:3])]
            hint = f"rename {near[0]!r} to {name!r}" if near else f"add a {name!r} column"
            raise UserError(name, f"column missing in {source!r} (has {', '.join(columns)})",
                            f"{hint}; the schema is id, lang, query, passage[, negatives]")
    if len(dataset) == 0:
        raise UserError("rows", f"{source!r} is empty", "pass a source with at least one question-passage pair")
    table = dataset.data.table
    ids = table["id"].cast(pa.string())
    langs = table["lang"].cast(pa.string())

    unknown = pc.unique(langs.filter(pc.invert(pc.is_in(langs, pa.array(_known_codes(langs))))))
    if len(unknown):
        raise UserError("lang", f"unknown language code {unknown[0].as_py()!r} in {source!r}",
                        "use an ISO 639-1/639-3 code such as 'en', 'sw', 'yo' (or qaa-qtz for synthetic languages)")

    for name in ("query", "passage"):
        texts = table[name]
        empty = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(texts.cast(pa.string()))), 0), True)
        if pc.any(empty).as_py():
            row = _first(table, empty)
            other = "query" if name == "passage" else "passage"
            other_present = pc.and_(empty, pc.greater(pc.utf8_length(pc.fill_null(table[other], "")), 0))
            if name == "passage" and pc.any(other_present).as_py():
                row = _first(table, other_present)
                raise UserError(name, f"id {row['id']!r} has a query but no passage in language {row['lang']!r} "
                                f"({source!r})", "add the missing passage or drop that (id, lang) row")
            raise UserError(name, f"empty text for id {row['id']!r}, lang {row['lang']!r} in {source!r}",
                            f"fill in the {name} or drop the row")

    keys = pa.table({"id": ids, "lang": langs})
    counts = keys.group_by(["id", "lang"]).aggregate([("id", "count")])
    duplicated = counts.filter(pc.greater(counts["id_count"], 1))
    if duplicated.num_rows:
        raise UserError("id", f"duplicate (id, lang) row ({duplicated['id'][0].as_py()!r}, "
                        f"{duplicated['lang'][0].as_py()!r}) in {source!r}",
                        "keep one query-passage pair per id and language (deduplicate the source)")
    if ids.type != table["id"].type or langs.type != table["lang"].type:
        dataset = dataset.cast_column("id", _string_feature()).cast_column("lang", _string_feature())
    return dataset


def _known_codes(langs: pa.ChunkedArray) -> list[str]:
    return [code for code in pc.unique(langs).to_pylist() if code is not None and is_known(code)]


def _string_feature():
    from datasets import Value

    return Value("string")


def group_counts(dataset: Dataset) -> dict[str, int]:
    """Number of groups (ids) per language, from the Arrow column (no row iteration)."""
    langs = dataset.data.table["lang"]
    counts = pc.value_counts(langs)
    return {item["values"].as_py(): item["counts"].as_py() for item in counts}
