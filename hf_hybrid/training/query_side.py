"""``train_side query``: a model whose query encoder trained while its documents stay with the base.

Vasilyev et al. (2024, arXiv 2407.00923) found that fine-tuning only the query encoder of a multilingual retriever
kept the multilingual quality that fine-tuning both sides lost. In training, :class:`~hf_hybrid.training.distill.
QuerySideLoss` embeds the documents with the frozen base; once trained, :func:`route_documents_to_base` makes the
model the asymmetric model sentence-transformers supports natively, a ``Router`` in place of the transformer::

    Router(query=[the trained transformer], document=[the base transformer]) → Pooling → (Normalize)

It saves and loads as any sentence-transformers model (``SentenceTransformer(path)``): ``encode_query`` runs the
trained weights and ``encode_document`` the base's (both with their prompts). The router has no default route, so
a plain ``encode`` without ``task`` is an error rather than silently one of the two: evaluation and the demo pass
the role (``task="query"`` / ``"document"``). Pooling and normalization are shared: only the transformer trained.
The saved folder holds both transformers (``query_0_Transformer/``, ``document_0_Transformer/``), twice the base's
size on disk.
"""

from __future__ import annotations

from hf_hybrid.training.config import TrainConfig

QUERY_ROUTE = "0.sub_modules.query.0."  # the query transformer's weights in a query-side model's state dict


def is_query_side(model) -> bool:
    """Whether ``model`` is a query-side model (its first module a query/document ``Router``)."""
    from sentence_transformers.base.modules import Router

    return isinstance(model[0], Router)


def route_documents_to_base(model, train: TrainConfig, base_path: str) -> None:
    """With ``train_side query``, in place and after training (after WiSE-FT and the LoRA merge): put a router in
    front of the model that sends queries through its trained transformer and documents through the base's, read
    again from ``base_path`` (the weights the run started from). Nothing otherwise, or when already done."""
    if train.train_side != "query" or is_query_side(model):
        return
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Router

    document = SentenceTransformer(base_path, device=str(model.device), trust_remote_code=False)[0]
    document.max_seq_length = model.max_seq_length
    document.requires_grad_(False)
    model._modules["0"] = Router.for_query_document(query_modules=[model[0]], document_modules=[document],
                                                    default_route=None, allow_empty_key=False)


def as_query_route(state: dict) -> dict:
    """A base model's state dict with its transformer's weights named as a query-side model's query route (what
    WiSE-FT interpolates: the document route is the base already)."""
    return {QUERY_ROUTE + name[2:]: value for name, value in state.items() if name.startswith("0.")}
