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

from hf_hybrid.errors import UserError
from hf_hybrid.languages import is_known

REQUIRED_COLUMNS = ("id", "lang", "query", "passage")
OPTIONAL_COLUMNS = ("negatives", "trap_negatives")  # trap_negatives: hf_hybrid.plan_rows._language_traps
_WIDE = re.compile(r"^(query|passage|negatives)_([a-z]{2,3})$")


_WIDE_ANY_CASE = re.compile(r"^(query|passage|negatives)_(.+)$", re.IGNORECASE)


def check_columns(columns: list[str], *, source: str) -> None:
    """Refuse a column that looks like the schema's but would be dropped: ``Query`` (case), ``query_EN`` (a wide
    column whose language is not a lower-case code), or wide columns beside a long-form ``lang`` column."""
    names = {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "split"}
    for column in columns:
        if column not in names and column.lower() in names:
            raise UserError(column, f"column {column!r} in {source!r} is not a schema name (they are lower case)",
                            f"rename it {column.lower()!r}")
        match = _WIDE_ANY_CASE.match(column)
        if match and not _WIDE.match(column):
            fixed = f"{match.group(1).lower()}_{match.group(2).lower()}"
            raise UserError(column, f"wide-form column {column!r} in {source!r} does not end in a lower-case "
                            "ISO 639 code", f"rename it {fixed!r}")
        if match and "lang" in columns:
            raise UserError(column, f"{source!r} has a 'lang' column (long form) and the wide-form column "
                            f"{column!r}, which would be ignored", "use one layout: long (id, lang, query, "
                            "passage) or wide (id, query_<lang>, passage_<lang>)")


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


def _check_texts(table: pa.Table, source: str) -> None:
    """No empty query or passage; a query without its passage is named as such."""
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


def _check_unique(ids: pa.ChunkedArray, langs: pa.ChunkedArray, source: str) -> None:
    """One row per (id, lang): a duplicate would sit in one batch as its own false negative."""
    keys = pa.table({"id": ids, "lang": langs})
    counts = keys.group_by(["id", "lang"]).aggregate([("id", "count")])
    duplicated = counts.filter(pc.greater(counts["id_count"], 1))
    if duplicated.num_rows:
        raise UserError("id", f"duplicate (id, lang) row ({duplicated['id'][0].as_py()!r}, "
                        f"{duplicated['lang'][0].as_py()!r}) in {source!r}",
                        "keep one query-passage pair per id and language (deduplicate the source)")


def validate_parallel(dataset: Dataset, *, source: str = "dataset") -> Dataset:
    """Check ``dataset`` against the parallel schema; return it with ``id``/``lang`` as strings.

    Raises a one-line :class:`UserError` for: missing or misnamed columns, a column of the wrong type (ids mixing
    integers and strings, numbers as texts, negatives that are not a list of strings), invalid UTF-8, null or
    empty ids and languages, empty texts or negatives, unknown language codes, an id with a query but no passage
    in some language, duplicate (id, lang) rows.
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
    _check_types(table, source)
    ids = table["id"].cast(pa.string())
    langs = table["lang"].cast(pa.string())
    for name, values in (("id", ids), ("lang", langs)):
        blank = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0), True)
        if pc.any(blank).as_py():
            row = int(np.flatnonzero(blank.to_numpy(zero_copy_only=False))[0])
            raise UserError(name, f"row {row + 1} of {source!r} has no {name} (null or empty)",
                            f"give every row its {name}" + (" (shared by all translations of a pair)"
                                                             if name == "id" else ""))

    unknown = pc.unique(langs.filter(pc.invert(pc.is_in(langs, pa.array(_known_codes(langs), pa.string())))))
    if len(unknown):
        raise UserError("lang", f"unknown language code {unknown[0].as_py()!r} in {source!r}",
                        "use an ISO 639-1/639-3 code such as 'en', 'sw', 'yo' (or qaa-qtz for synthetic languages)")

    _check_texts(table, source)
    if "negatives" in table.column_names:
        _check_negatives(table, source)

    _check_unique(ids, langs, source)
    if ids.type != table["id"].type or langs.type != table["lang"].type:
        dataset = dataset.cast_column("id", _string_feature()).cast_column("lang", _string_feature())
    return dataset


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _check_types(table: pa.Table, source: str) -> None:
    """Column types: ids all strings or all integers (a mix is ambiguous: is 1 the same group as "1"?), texts
    strings, negatives a list of strings; and every string valid UTF-8 (a reader may keep invalid bytes that
    only fail when the saved dataset is read back)."""
    kind = table["id"].type
    if not (_is_text(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)):
        raise UserError("id", f"ids in {source!r} are {_type_name(kind)}, not all strings or all integers",
                        'write every id as a string, e.g. "q17"')
    for name in ("lang", "query", "passage"):
        if not (_is_text(table[name].type) or pa.types.is_null(table[name].type)):
            raise UserError(name, f"{name} values in {source!r} are {_type_name(table[name].type)}, not text",
                            f"write every {name} as a string")
    if "negatives" in table.column_names:
        kind = table["negatives"].type
        is_list = pa.types.is_list(kind) or pa.types.is_large_list(kind)
        if not is_list or not (_is_text(kind.value_type) or pa.types.is_null(kind.value_type)):
            raise UserError("negatives", f"negatives in {source!r} are {_type_name(kind)}, not a list of passages",
                            'write a list of strings, e.g. "negatives": ["a wrong passage"]')
    for name in table.column_names:
        try:
            table[name].validate(full=True)
        except pa.ArrowInvalid as err:
            raise UserError(name, f"{source!r} holds invalid text ({err})", "save the data as UTF-8") from None


def _type_name(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return f"numbers ({kind})"
    if _is_text(kind):
        return "a string"
    if isinstance(kind, pa.BaseExtensionType) or pa.types.is_struct(kind):
        return "of mixed types (e.g. integers and strings)"
    return str(kind)


def _check_negatives(table: pa.Table, source: str) -> None:
    """Every hard negative is a real passage: an empty or blank one would be trained on as a negative."""
    negatives = table["negatives"].combine_chunks()
    items = pc.list_flatten(negatives)
    if not len(items) or pa.types.is_null(items.type):
        return
    blank = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(items)), 0), True)
    if pc.any(blank).as_py():
        item = int(np.flatnonzero(blank.to_numpy(zero_copy_only=False))[0])
        row = int(pc.list_parent_indices(negatives)[item].as_py())
        where = {name: table[name][row].as_py() for name in ("id", "lang")}
        raise UserError("negatives", f"empty negative for id {where['id']!r}, lang {where['lang']!r} in {source!r}",
                        "remove empty strings from negatives (an empty list is fine)")


def check_negatives_complete(dataset: Dataset, *, source: str) -> None:
    """Where a plan meets the data: a materialized plan has one ``negative`` column, so either every row has a
    hard negative or none is used. (An empty list is valid data, e.g. a MIRACL query with none judged, so this is
    checked when a plan is built, not by :func:`validate_parallel`.)"""
    if "negatives" not in dataset.column_names:
        return
    lengths = pc.fill_null(pc.list_value_length(dataset.data.table["negatives"]), 0)
    missing = pc.equal(lengths, 0)
    count = pc.sum(missing).as_py() or 0
    if count:
        row = _first(dataset.data.table, missing)
        raise UserError("negatives", f"{count} of {len(dataset)} rows of {source!r} have no hard negative (first: "
                        f"id {row['id']!r}, lang {row['lang']!r})", "give every row at least one negative, or drop "
                        "the negatives column (training then uses in-batch negatives only)")


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


def languages_of(data) -> set[str]:
    """The language codes of a Dataset or of all splits of a DatasetDict (from the Arrow columns)."""
    parts = data.values() if hasattr(data, "values") else [data]
    return {code for part in parts for code in pc.unique(part.data.table["lang"]).to_pylist() if code is not None}
