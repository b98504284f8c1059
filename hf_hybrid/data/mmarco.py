"""mMARCO's training triples joined to their queries and passages, in Arrow blocks.

mMARCO (``unicamp-dl/mmarco``) is three kinds of header-less TSV file: ``triples.train.ids.small.tsv`` (39.8 M
lines of query id, positive id, negative id; shared by all languages), one ``<language>_queries.train.tsv``
(808 k lines) and one ``<language>_collection.tsv`` (8.8 M passages, ~3 GB) per language. A training run needs
the texts of a few hundred thousand ids out of them.

Why written here and not through ``datasets.load_dataset("csv", streaming=True)``: that path hands every line
to Python as a dict, so a join scans 8.8 M passages per language row by row (minutes per language, see
``benchmarks/bench_mmarco.py``). Here each file is read with ``pyarrow.csv`` in blocks and each block is
filtered with ``pyarrow.compute.is_in`` against the ids needed, and the join itself is ``index_in`` + ``take``:
Python never touches a row, and memory is bounded by the rows kept plus one block. A read stops as soon as every needed id has been found.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import datasets
import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BLOCK_BYTES = 16 << 20  # one Arrow block: large enough to amortize the per-block work, small next to the files
MMARCO_NAMES = {"ar": "arabic", "zh": "chinese", "nl": "dutch", "en": "english", "fr": "french", "de": "german",
                "hi": "hindi", "id": "indonesian", "it": "italian", "ja": "japanese", "pt": "portuguese",
                "ru": "russian", "es": "spanish", "vi": "vietnamese"}
COLUMNS = {"triples": ("qid", "pos", "neg"), "queries": ("id", "text"), "collection": ("id", "text")}


def files(lang: str, split: str) -> dict[str, str]:
    """The repository files one language reads (role → path), as the dataset's loading script downloaded them."""
    name = MMARCO_NAMES[lang]
    return {"triples": "data/triples.train.ids.small.tsv",
            "queries": f"data/google/queries/{split}/{name}_queries.{split}.tsv",
            "collection": f"data/google/collections/{name}_collection.tsv"}


def read_options(role: str) -> tuple[tuple[str, Any], ...]:
    """The same files as ``datasets``' csv builder would be asked to read them (listed by ``hf-hybrid check``):
    header-less TSV; QUOTE_NONE because MS MARCO texts contain stray quotes; ids kept as strings."""
    columns = COLUMNS[role]
    return (("sep", "\t"), ("header", None), ("quoting", csv.QUOTE_NONE), ("column_names", list(columns)),
            ("features", datasets.Features({name: datasets.Value("string") for name in columns})))


def join(spec, requests: list, langs: list[str], options: dict) -> dict[str, pa.Table]:
    """Triples (query id, positive id, negative id) → the query and both passages in each language.

    The triples are read once for all languages (they are the same file); ``max_groups`` caps the distinct
    queries before any text is looked up, so the same first queries are kept in every language.
    """
    paths = {r.role: r.data_files for r in requests}
    triples = first_triples(paths[f"{langs[0]}:triples"], options.get("max_groups"))
    keep = int(options.get("max_negatives", 1))
    return {lang: join_language(triples, paths[f"{lang}:queries"], paths[f"{lang}:collection"], keep)
            for lang in langs}


def local_file(url: str) -> str:
    """A local path for ``url``: an ``hf://datasets/<repo>@<revision>/<path>`` file is downloaded once into the
    Hugging Face cache (``hf_hub_download``: resumable, shared by every later run of a grid), since a join scans
    the whole file anyway; a local path is returned as is."""
    match = re.fullmatch(r"hf://datasets/([^/@]+/[^/@]+)@([^/]+)/(.+)", url)
    if match is None:
        return url
    from huggingface_hub import hf_hub_download

    repo, revision, path = match.groups()
    return hf_hub_download(repo, path, repo_type="dataset", revision=unquote(revision))


def read_tsv_blocks(url: str, columns: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    """Record batches of a header-less TSV file (local path or ``hf://`` URL), every column a string.

    ``quote_char=False``: MS MARCO texts contain stray quotes, which must stay text (as ``csv.QUOTE_NONE``).
    """
    read = pacsv.ReadOptions(column_names=list(columns), block_size=BLOCK_BYTES, use_threads=True)
    parse = pacsv.ParseOptions(delimiter="\t", quote_char=False, double_quote=False,
                               invalid_row_handler=lambda row: "skip")
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in columns})
    with fsspec.open(local_file(url), "rb") as handle:
        reader = pacsv.open_csv(handle, read_options=read, parse_options=parse, convert_options=convert)
        yield from reader


def first_triples(url: str, max_groups: int | None) -> pa.Table:
    """The first triple of each of the first ``max_groups`` distinct query ids (all of them when None), in file
    order: columns ``qid``, ``pos``, ``neg``. One triple per query keeps groups one-to-one."""
    kept: list[pa.Table] = []
    seen = pa.array([], pa.string())
    total = 0
    for batch in read_tsv_blocks(url, ("qid", "pos", "neg")):
        block = pa.Table.from_batches([batch])
        # first row of each query id inside the block (use_threads=False keeps "first" in file order) ...
        block = block.group_by("qid", use_threads=False).aggregate([("pos", "first"), ("neg", "first")])
        block = block.select(["qid", "pos_first", "neg_first"]).rename_columns(["qid", "pos", "neg"])
        # ... that no earlier block already gave
        block = block.filter(pc.invert(pc.is_in(block["qid"], value_set=seen)))
        if max_groups is not None:
            block = block.slice(0, max_groups - total)
        kept.append(block)
        total += block.num_rows
        seen = pa.concat_arrays([seen, block["qid"].combine_chunks()])
        if max_groups is not None and total >= max_groups:
            break
    return pa.concat_tables(kept) if kept else pa.table({"qid": seen, "pos": seen, "neg": seen})


def texts_for(url: str, wanted: pa.Array) -> pa.Table:
    """The ``id``, ``text`` rows of an ``id<TAB>text`` file whose id is ``wanted``, stopping once all are found."""
    wanted = pc.unique(wanted)
    found: list[pa.Table] = []
    count = 0
    for batch in read_tsv_blocks(url, ("id", "text")):
        hit = batch.filter(pc.is_in(batch["id"], value_set=wanted))
        if hit.num_rows:
            found.append(pa.Table.from_batches([hit]))
            count += hit.num_rows
            if count >= len(wanted):
                break
    if not found:
        return pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())})
    return pa.concat_tables(found).combine_chunks()


def join_language(triples: pa.Table, queries_url: str, collection_url: str, keep_negatives: int) -> pa.Table:
    """Parallel-schema columns ``id``, ``query``, ``passage``, ``negatives`` of one language for the triples,
    joined in Arrow (``index_in`` + ``take``), never row by row. The query id is the group id (MS MARCO ids are
    the same in every translation); triples whose query or positive is missing are dropped; ``negatives`` is
    ``[negative]`` where the negative was found (and ``keep_negatives``), else ``[]``."""
    qid, pos, neg = (triples[name].combine_chunks() for name in ("qid", "pos", "neg"))
    queries = texts_for(queries_url, qid)
    passages = texts_for(collection_url, pa.concat_arrays([pos, neg]))
    q = pc.index_in(qid, value_set=queries["id"].combine_chunks())
    p = pc.index_in(pos, value_set=passages["id"].combine_chunks())
    n = pc.index_in(neg, value_set=passages["id"].combine_chunks())
    keep = pc.and_(pc.is_valid(q), pc.is_valid(p))
    q, p, n, qid = (pc.filter(x, keep) for x in (q, p, n, qid))
    negative = passages["text"].combine_chunks().take(n) if keep_negatives else pa.nulls(len(n), pa.string())
    has = pc.is_valid(negative).cast(pa.int32()).to_numpy(zero_copy_only=False)
    offsets = pa.array(np.concatenate([[0], np.cumsum(has)]).astype(np.int32))
    return pa.table({"id": pc.binary_join_element_wise("mmarco", qid, "-"),
                     "query": queries["text"].combine_chunks().take(q),
                     "passage": passages["text"].combine_chunks().take(p),
                     "negatives": pa.ListArray.from_arrays(offsets, negative.drop_null())})
