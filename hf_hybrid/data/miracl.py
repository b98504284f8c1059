"""MIRACL's rows in the parallel schema: a query, its first judged-relevant passage, its judged non-relevant ones as
hard negatives (the source itself is declared in :mod:`hf_hybrid.data.sources`, as mMARCO's reader is beside it in
:mod:`hf_hybrid.data.mmarco`)."""

from __future__ import annotations

from collections.abc import Iterator


def _passage_text(passage: dict) -> str:
    title = (passage.get("title") or "").strip()
    return f"{title}. {passage['text']}" if title else passage["text"]


def rows(spec, tables: dict, lang: str, options: dict) -> Iterator[dict]:
    """A MIRACL query with its first judged-relevant passage; its judged non-relevant ones as hard negatives.

    The id is prefixed with the language: MIRACL query ids are per language, and a shared id would claim that
    two monolingual questions are translations of each other. Queries without a relevant passage are skipped;
    ``negatives`` is always a list (empty when none was judged), so every row has the same columns.
    """
    keep_negatives = int(options.get("max_negatives", 1))
    for row in tables["topics"]:
        positives = row["positive_passages"] or []
        if not positives:
            continue
        negatives = [_passage_text(p) for p in (row["negative_passages"] or [])[:keep_negatives]]
        yield {"id": f"miracl-{lang}-{row['query_id']}", "query": row["query"],
               "passage": _passage_text(positives[0]), "negatives": negatives}
