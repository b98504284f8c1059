"""One prompt rule for every stage: sentence-transformers' own.

``SentenceTransformer.encode_query`` uses the model's ``query`` prompt; ``encode_document`` uses the first of
``document``, ``passage``, ``corpus`` that the model defines (sentence-transformers 6.2,
``SentenceTransformer.encode_document``). Training, evaluation, the demo and the cards all ask these two functions
which *named* prompt a role gets, so a model with only a ``document`` prompt is trained, evaluated, served and
advertised with the same one. Where a stage needs the prompt's name (an embedding cache key, a card, the trainer's
``prompts`` argument) it cannot call ``encode_document`` itself; that is why the rule is written out here, once.
"""

from __future__ import annotations

QUERY_PROMPT_NAMES = ("query",)
DOCUMENT_PROMPT_NAMES = ("document", "passage", "corpus")  # sentence-transformers' order in encode_document


def _first_defined(model_or_prompts, names: tuple[str, ...]) -> str | None:
    prompts = model_or_prompts if isinstance(model_or_prompts, dict) else \
        (getattr(model_or_prompts, "prompts", None) or {})
    return next((name for name in names if name in prompts), None)


def query_prompt_name(model_or_prompts) -> str | None:
    """The prompt name ``encode_query`` would use for this model (or prompts dict), or None."""
    return _first_defined(model_or_prompts, QUERY_PROMPT_NAMES)


def document_prompt_name(model_or_prompts) -> str | None:
    """The prompt name ``encode_document`` would use for this model (or prompts dict), or None."""
    return _first_defined(model_or_prompts, DOCUMENT_PROMPT_NAMES)


def prompt_name_for(model_or_prompts, role: str) -> str | None:
    """``role`` is "query" or "document" ("passage" is accepted as a synonym of "document")."""
    if role == "query":
        return query_prompt_name(model_or_prompts)
    if role in ("document", "passage", "corpus"):
        return document_prompt_name(model_or_prompts)
    raise ValueError(f"unknown prompt role {role!r}: use 'query' or 'document'")


def prompt_text(model_or_prompts, role: str) -> str | None:
    """The prompt's text for ``role`` (E5: ``"query: "`` / ``"passage: "``), or None when the model has none."""
    prompts = model_or_prompts if isinstance(model_or_prompts, dict) else \
        (getattr(model_or_prompts, "prompts", None) or {})
    name = prompt_name_for(prompts, role)
    return prompts.get(name) if name else None
