"""The one sentence splitter of the package (LAReQA candidates, XQuAD-R answer sentences, MLQA-R).

LAReQA's releases come with ``sentence_breaks``; the Hub copies and MLQA do not, so sentences are cut here, the
same way wherever a sentence is needed (the evaluation suites and the data sources). Terminators: Latin, Cyrillic,
Arabic (``؟``), Devanagari (``।``) and Greek (``;`` is the Greek question mark) before whitespace; the CJK full-width
ones (``。！？``) anywhere. Scripts without sentence punctuation (Thai) stay one span per paragraph: a documented
approximation of LAReQA's candidates.
"""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?;؟।])\s+|(?<=[。！？])\s*")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text``, in order, whitespace between them left out."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans or [(0, len(text))]


def sentence_at(text: str, offset: int) -> str:
    """The sentence of ``text`` holding character ``offset`` (an answer's start), stripped: the first sentence
    ending after it (so an offset in the space between two sentences gives the next one), else the last."""
    spans = split_sentences(text)
    start, end = next(((s, e) for s, e in spans if offset < e), spans[-1])
    return text[start:end].strip()
