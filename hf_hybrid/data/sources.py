"""Public training sources, declared as data (the mteb way): name → Hub repository, layout, languages, loader.

Every source reads the files of its real Hub repository through ``datasets``, either from the Hub
(``hf://datasets/<hub_id>@<revision>/<path>``) or from a local ``data_dir`` that mirrors the repository's files
under the same relative paths. Only the root differs, so the mapping code the tests run on small local copies is
the code users run on the Hub.

Why files and not ``load_dataset(hub_id, config)``: ``datasets`` ≥ 4 no longer runs loading scripts, and three of
the four repositories are script datasets. Their data is still on the Hub: MLQA and MIRACL as the Hub's own
Parquet conversion (branch ``refs/convert/parquet``, one folder per config and split), mMARCO as the raw TSV files
its script used to download. XQuAD is a plain Parquet repository (``xquad.<lang>/validation-*.parquet``).
Should a conversion branch be missing, export the dataset once with a ``datasets`` < 4 that still runs its
script (``load_dataset(hub_id, config, split=...).to_parquet("<config>/<split>/0000.parquet")``) and pass that
folder as ``data_dir``: the layout is the same.

Each source names the revision it reads: a commit where public material names one (``revision_note`` says
where, as mteb's ``TaskMetadata`` pins its datasets), otherwise the branch, with the reason it is left unpinned;
``hf-hybrid check`` reports every unpinned source.

The result is always the parallel schema (``id``, ``lang``, ``query``, ``passage``[, ``negatives``]) validated by
:func:`hf_hybrid.data.schema.validate_parallel`. MIRACL is not parallel: its rows are monolingual (ids never
shared across languages), usable only in monolingual batches; :func:`is_parallel` and :func:`describe_sources`
say so up front.

    from hf_hybrid.data.sources import SOURCES
    ds = SOURCES["xquad"].load(languages=["en", "de"], split="validation", max_groups=200)
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import datasets
import pyarrow as pa
from datasets import Dataset, IterableDataset

import hf_hybrid.data.miracl as miracl
import hf_hybrid.data.mmarco as mmarco
from hf_hybrid.data.schema import validate_parallel
from hf_hybrid.errors import UserError
from hf_hybrid.text import sentence_at

# HfFileSystem wants a ref with slashes URL-quoted inside a path.
PARQUET_CONVERSION = "refs%2Fconvert%2Fparquet"


@dataclass(frozen=True)
class Request:
    """One read a loader asks ``datasets`` for: ``datasets.load_dataset(builder, data_files=data_files,
    split="train", streaming=streaming, **dict(options))``. ``path`` is relative to the repository root."""

    role: str
    builder: str
    path: str
    data_files: str
    streaming: bool
    options: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class SourceSpec:
    """A public source: where its files live, what it holds, and how one language of it becomes parallel rows.

    ``files(lang, split)`` gives the repository-relative files one language needs (role → path glob);
    ``fields`` the columns each role must have (checked, so a local copy in the wrong layout fails in one line);
    ``rows(spec, tables, lang, options)`` maps the loaded tables to ``{"id", "query", "passage"[, "negatives"]}``;
    ``configs(lang)`` names the Hub config that language is (for cards and for checking against the Hub).
    ``revision`` is a commit where one could be read from public material (``revision_note`` says where, or why
    the source is left unpinned); ``join(spec, requests, langs, options)`` replaces the per-language
    ``datasets`` reads for a source that must join large files (mMARCO).
    """

    name: str
    hub_id: str
    languages: tuple[str, ...]
    splits: tuple[str, ...]
    parallel: bool
    licence: str
    homepage: str
    description: str
    revision: str
    builder: str
    files: Callable[[str, str], dict[str, str]]
    fields: dict[str, tuple[str, ...]]
    rows: Callable[..., Iterator[dict]] | None = None
    large: bool = False
    reader_options: Callable[[str], tuple[tuple[str, Any], ...]] = field(default=lambda role: ())
    configs: Callable[[str], str] = field(default=lambda lang: lang)
    revision_note: str = ""
    join: Callable[..., dict[str, pa.Table]] | None = None

    @property
    def pinned(self) -> bool:
        """Whether ``revision`` is a commit (40 hex digits), so a run reads the same bytes every time."""
        return re.fullmatch(r"[0-9a-f]{40}", self.revision) is not None

    @property
    def url(self) -> str:
        """Homepage, under the name the model and dataset cards look up."""
        return self.homepage

    @property
    def batch_kinds(self) -> tuple[str, ...]:
        """Which batch kinds this source can feed: a monolingual source cannot make cross-lingual pairs."""
        return ("mono", "cross", "hybrid", "sequential", "mixed") if self.parallel else ("mono",)

    def summary(self) -> dict[str, Any]:
        """What a data summary or plan builder should say about this source before using it."""
        return {"name": self.name, "hub_id": self.hub_id, "languages": list(self.languages),
                "splits": list(self.splits), "parallel": self.parallel, "batch_kinds": list(self.batch_kinds),
                "note": "parallel across languages by id" if self.parallel else
                "monolingual only: usable in monolingual batches, not in cross-lingual or hybrid plans",
                "licence": self.licence, "homepage": self.homepage}

    def requests(self, languages: list[str] | None = None, split: str | None = None, *,
                 streaming: bool | None = None, data_dir: str | None = None) -> list[Request]:
        """The reads :meth:`load` performs, without performing them (what ``datasets`` will be asked for)."""
        langs, split = self._check(languages, split)
        root = _root(self, data_dir)
        stream = self.large if streaming is None else streaming
        return [Request(role=f"{lang}:{role}", builder=self.builder, path=path, data_files=f"{root}/{path}",
                        streaming=stream, options=self.reader_options(role))
                for lang in langs for role, path in self.files(lang, split).items()]

    def load(self, languages: list[str] | None = None, split: str | None = None, *, max_groups: int | None = None,
             streaming: bool | None = None, data_dir: str | None = None, **options: Any) -> Dataset:
        """Read ``languages`` (default: all) of ``split`` (default: the first) into a validated parallel Dataset.

        ``max_groups`` caps the number of groups (ids); for a parallel source the same groups are kept in every
        language, preferring ids present in the most requested languages. ``streaming`` (default: on for large
        sources) reads rows as they come instead of downloading whole files first. ``data_dir`` points at a local
        copy of the repository's files. ``langs="en+de"`` (in a source string: ``mmarco:langs=en+de``) is the
        same as ``languages`` for settings that can only hold a string. Source options: ``passage="context"|"sentence"`` (XQuAD, MLQA: the
        whole paragraph or only the sentence holding the answer, as XQuAD-R does), ``max_negatives`` (mMARCO,
        MIRACL: hard negatives kept per row, default 1).
        """
        if max_groups is not None and max_groups < 1:
            raise UserError("max_groups", f"{max_groups} is not a positive number", "pass max_groups >= 1 or omit it")
        langs, split = self._check(languages or _langs_option(options.pop("langs", None)), split)
        requests = self.requests(langs, split, streaming=streaming, data_dir=data_dir)
        options = {**options, "max_groups": max_groups}
        if self.join is not None:
            joined = _joined(self, requests, langs, options, local=data_dir is not None)
            if not joined.num_rows:
                raise UserError("data", f"{self.name} gave no rows for languages {langs}, split {split!r}",
                                "check the languages and split, or the local copy's files")
            # A fingerprint from what was read, not from hashing the rows (datasets' default serializes the
            # whole table once more: seconds and hundreds of MB at mMARCO's scale).
            files = [(f, os.path.getsize(f), os.path.getmtime(f)) for r in requests for f in glob.glob(r.data_files)] \
                if data_dir is not None else [r.data_files for r in requests]
            key = json.dumps([self.hub_id, self.revision, split, langs, files, sorted(options.items())], default=str)
            dataset = Dataset(joined, fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16])
            return validate_parallel(dataset, source=f"{self.name}[{split}]")
        per_lang = {}
        for lang in langs:
            tables = {r.role.split(":", 1)[1]: _read(self, r, local=data_dir is not None)
                      for r in requests if r.role.startswith(f"{lang}:")}
            per_lang[lang] = list(_take(self.rows(self, tables, lang, options), None if self.parallel else max_groups))
        rows = _cap_groups(per_lang, max_groups) if self.parallel else _flatten(per_lang)
        if not rows:
            raise UserError("data", f"{self.name} gave no rows for languages {langs}, split {split!r}",
                            "check the languages and split, or the local copy's files")
        return validate_parallel(Dataset.from_list(rows), source=f"{self.name}[{split}]")

    def _check(self, languages: list[str] | None, split: str | None) -> tuple[list[str], str]:
        langs = list(languages or self.languages)
        for lang in langs:
            if lang not in self.languages:
                raise UserError("languages", f"{self.name} has no language {lang!r} (has {', '.join(self.languages)})",
                                f"choose languages {self.name} has")
        split = split or self.splits[0]
        if split not in self.splits:
            raise UserError("split", f"{self.name} has no split {split!r} (has {', '.join(self.splits)})",
                            f"use one of {', '.join(self.splits)}")
        return langs, split


def _root(spec: SourceSpec, data_dir: str | None) -> str:
    if data_dir is None:
        return f"hf://datasets/{spec.hub_id}@{spec.revision}"
    if not os.path.isdir(data_dir):
        raise UserError("data_dir", f"{data_dir!r} is not a folder",
                        f"pass a local copy of {spec.hub_id}'s files (same relative paths as on the Hub)")
    return os.path.abspath(data_dir).replace(os.sep, "/")


def _read(spec: SourceSpec, request: Request, *, local: bool) -> Dataset | IterableDataset:
    """Run one :class:`Request`; a missing file, a wrong layout or an unreachable Hub is one line."""
    _check_local(spec, request, local=local)
    try:
        table = datasets.load_dataset(request.builder, data_files=request.data_files, split="train",
                                      streaming=request.streaming, **dict(request.options))
        names = table.column_names or list(next(iter(table)).keys())
    except Exception as err:  # datasets/fsspec/hub raise many types; the user needs one line, not a traceback
        raise _read_error(spec, request, err, local=local) from None
    role = request.role.split(":", 1)[1]
    missing = [name for name in spec.fields.get(role, ()) if name not in names]
    if missing:
        raise UserError("data_dir" if local else "data",
                        f"{request.path!r} is not laid out like {spec.hub_id}: no field {missing[0]!r} "
                        f"(has {', '.join(names)})",
                        f"use the fields of the real dataset: {', '.join(spec.fields[role])}")
    return table


def _check_local(spec: SourceSpec, request: Request, *, local: bool) -> None:
    if local and not glob.glob(request.data_files):
        raise UserError("data_dir", f"no file matches {request.path!r} in the local copy of {spec.hub_id}",
                        f"mirror the repository layout: {spec.name} needs {request.path!r} under data_dir")


def _read_error(spec: SourceSpec, request: Request, err: Exception, *, local: bool) -> UserError:
    first = (str(err).splitlines() or [type(err).__name__])[0][:160]
    if local:
        return UserError("data_dir", f"cannot read {request.path!r} as {request.builder}: {first}",
                         f"use the same file format as {spec.hub_id} on the Hub")
    return UserError("data", f"{spec.name} needs the Hugging Face Hub ({spec.hub_id}) and reading "
                     f"{request.path!r} failed: {type(err).__name__}: {first}",
                     "connect to the network (and accept the dataset's terms if it is gated), or pass "
                     "data_dir=<a local copy of the repository's files>")


def _joined(spec: SourceSpec, requests: list[Request], langs: list[str], options: dict, *, local: bool) -> pa.Table:
    """Run a source's own ``join`` (per language: ``id``, ``query``, ``passage``, ``negatives`` as Arrow) with the
    same one-line errors as the ``datasets`` reads; returns the languages stacked, with a ``lang`` column."""
    for request in requests:
        _check_local(spec, request, local=local)
    try:
        tables = spec.join(spec, requests, langs, options)
    except UserError:
        raise
    except Exception as err:  # fsspec/pyarrow/hub raise many types; one line for the user
        raise _read_error(spec, requests[0], err, local=local) from None
    return pa.concat_tables([t.add_column(1, "lang", pa.array([lang] * t.num_rows, pa.string()))
                             for lang, t in tables.items()])


def _langs_option(value: Any) -> list[str] | None:
    """``langs=en+de+sw`` → ``["en", "de", "sw"]`` (``+`` because ``,`` separates source options)."""
    if value is None:
        return None
    return [code for code in str(value).split("+") if code]


def _take(rows: Iterable[dict], limit: int | None) -> Iterator[dict]:
    for count, row in enumerate(rows):
        if limit is not None and count >= limit:
            return
        yield row


def _flatten(per_lang: dict[str, list[dict]]) -> list[dict]:
    return [{"id": row["id"], "lang": lang, **row} for lang, rows in per_lang.items() for row in rows]


def _cap_groups(per_lang: dict[str, list[dict]], max_groups: int | None) -> list[dict]:
    """Keep the same ids in every language: those present in the most languages first, then in source order."""
    coverage: dict[str, int] = {}
    for rows in per_lang.values():
        for row in rows:
            coverage[row["id"]] = coverage.get(row["id"], 0) + 1
    order = sorted(coverage, key=lambda i: -coverage[i])  # sorted() is stable: source order breaks ties
    keep = set(order[:max_groups] if max_groups else order)
    return [{"id": row["id"], "lang": lang, **row} for lang, rows in per_lang.items() for row in rows
            if row["id"] in keep]


# --- XQuAD and MLQA (SQuAD format) ------------------------------------------------------------------------
# Sentence ends in the scripts of XQuAD/MLQA (Thai has none, so a Thai context stays one sentence). Written by
# hand because all we need is the span around one offset; a segmenter dependency would outweigh the problem.
def _qa_rows(spec: SourceSpec, tables: dict, lang: str, options: dict) -> Iterator[dict]:
    """SQuAD-format rows → (question id, question, context or answer sentence)."""
    mode = options.get("passage", "context")
    if mode not in ("context", "sentence"):
        raise UserError("passage", f"{mode!r} is not a passage mode", "use 'context' or 'sentence'")
    for row in tables["qa"]:
        passage = row["context"]
        starts = row["answers"]["answer_start"]
        if mode == "sentence" and starts:
            passage = sentence_at(row["context"], int(starts[0]))  # the one splitter (hf_hybrid.text)
        yield {"id": str(row["id"]), "query": row["question"], "passage": passage}


XQUAD = SourceSpec(
    name="xquad", hub_id="google/xquad",
    languages=("en", "ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"),
    splits=("validation",), parallel=True, licence="cc-by-sa-4.0",
    homepage="https://github.com/google-deepmind/xquad",
    description="1,190 SQuAD v1.1 questions on 240 paragraphs, professionally translated; parallel by question id. "
                "Several questions share a paragraph, so passage='sentence' avoids duplicate passages in a batch.",
    # The commit mteb pins for XQuADRetrieval (TaskMetadata in mteb 1.x, tasks/Retrieval/multilingual/
    # XQuADRetrieval.py), loaded there without remote code, i.e. the Parquet layout read here.
    revision="51adfef1c1287aab1d2d91b5bead9bcfb9c68583", builder="parquet",
    revision_note="mteb 1.x XQuADRetrieval TaskMetadata",
    configs=lambda lang: f"xquad.{lang}",
    files=lambda lang, split: {"qa": f"xquad.{lang}/{split}-*.parquet"},
    fields={"qa": ("id", "context", "question", "answers")},
    rows=_qa_rows,
)

MLQA = SourceSpec(
    name="mlqa", hub_id="facebook/mlqa",
    languages=("en", "ar", "de", "es", "hi", "vi", "zh"),
    splits=("validation", "test"), parallel=True, licence="cc-by-sa-3.0",
    homepage="https://github.com/facebookresearch/MLQA",
    description="Extractive QA in 7 languages; an instance keeps its question id in every language it was "
                "translated to (4 languages on average), read from the same-language configs mlqa.<l>.<l>.",
    revision=PARQUET_CONVERSION, builder="parquet",
    revision_note="unpinned: the Hub's Parquet conversion branch; the only public pin, 397ed406c1a7902140303e7fa"
                  "f60fff35b58d285 (mteb's MLQARetrieval), is a commit of main holding the loading script, not "
                  "these files",
    configs=lambda lang: f"mlqa.{lang}.{lang}",
    files=lambda lang, split: {"qa": f"mlqa.{lang}.{lang}/{split}/*.parquet"},
    fields={"qa": ("id", "context", "question", "answers")},
    rows=_qa_rows,
)


# --- mMARCO (files, reader options and the Arrow join live in hf_hybrid.data.mmarco) ------------------------
MMARCO_NAMES = mmarco.MMARCO_NAMES


MMARCO = SourceSpec(
    name="mmarco", hub_id="unicamp-dl/mmarco",
    languages=tuple(MMARCO_NAMES), splits=("train",), parallel=True, licence="apache-2.0 (MS MARCO terms apply)",
    homepage="https://github.com/unicamp-dl/mMARCO",
    description="MS MARCO passage ranking machine-translated into 13 languages (v2, Google Translate); queries "
                "and passages parallel by id; the training triples give one hard negative per query.",
    # The newest commit of unicamp-dl/mmarco seen on the Hub's own pages (tree/4f069e4…, after "Minor fix"
    # dac42b9); the data/google/ layout read here came with 714e234 ("Change the naming of translation
    # versions") and is what main serves since. `hf-hybrid check` with the network lists these files at it.
    revision="4f069e4665db5e0b74b9fc4fdf64faf55b69e685", builder="csv", large=True,
    revision_note="newest commit seen on the Hub's tree pages of unicamp-dl/mmarco; data/google/ since 714e234",
    configs=lambda lang: MMARCO_NAMES[lang],
    files=mmarco.files,
    fields=mmarco.COLUMNS,
    join=mmarco.join,
    reader_options=mmarco.read_options,
)


# --- MIRACL ---------------------------------------------------------------------------------------------------
MIRACL = SourceSpec(
    name="miracl", hub_id="miracl/miracl",
    languages=("ar", "bn", "en", "es", "fa", "fi", "fr", "hi", "id", "ja", "ko", "ru", "sw", "te", "th", "zh"),
    splits=("train", "dev"), parallel=False, licence="apache-2.0",
    homepage="https://project-miracl.github.io",
    description="Monolingual Wikipedia retrieval in 16 languages with human relevance judgements; NOT parallel: "
                "usable only in monolingual batches.",
    revision=PARQUET_CONVERSION, builder="parquet", large=True,
    revision_note="unpinned: the Hub's Parquet conversion branch of a gated script dataset; no public material "
                  "found that names one of its commits",
    files=lambda lang, split: {"topics": f"{lang}/{split}/*.parquet"},
    fields={"topics": ("query_id", "query", "positive_passages", "negative_passages")},
    rows=miracl.rows,
)

SOURCES: dict[str, SourceSpec] = {spec.name: spec for spec in (XQUAD, MLQA, MMARCO, MIRACL)}


def get_source(name: str) -> SourceSpec:
    """The registered source ``name``, or a one-line error listing the known ones."""
    if name not in SOURCES:
        raise UserError("source", f"unknown source {name!r}", f"use one of {', '.join(SOURCES)}")
    return SOURCES[name]


def is_parallel(source: str) -> bool:
    """Whether ``source`` shares ids across languages (False: monolingual batches only)."""
    return get_source(source).parallel


def describe_sources() -> str:
    """A Markdown table of the registered sources, for help texts, data summaries and cards."""
    lines = ["| source | Hub id | languages | splits | parallel | licence |", "| --- | --- | --- | --- | --- | --- |"]
    for spec in SOURCES.values():
        kind = "yes" if spec.parallel else "no (monolingual only)"
        lines.append(f"| {spec.name} | [{spec.hub_id}](https://huggingface.co/datasets/{spec.hub_id}) | "
                     f"{' '.join(spec.languages)} | {', '.join(spec.splits)} | {kind} | {spec.licence} |")
    return "\n".join(lines)


def check_source_supports(source: str, plan) -> None:
    """A monolingual-only source (MIRACL) cannot give cross-lingual, mixed or translation batches: say so before
    loading (``plan``: a :class:`hf_hybrid.plan_config.PlanConfig`)."""
    from hf_hybrid.sampling import MONO

    spec = SOURCES.get(source.split(":", 1)[0])
    if spec is not None and not spec.parallel and plan.uses() - {MONO}:
        raise UserError("strategy", f"{spec.name} is monolingual (not parallel), so {plan.describe()} cannot build "
                        "cross-lingual, mixed or translation batches",
                        "use --strategy mono (and beta 0), or a parallel source")
