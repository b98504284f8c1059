"""Distillation from the base beside MNRL, against forgetting: ``loss = MNRL + λ · MSE(student, frozen base)``.

Reimers & Gurevych (EMNLP 2020, "Making Monolingual Sentence Embeddings Multilingual using Knowledge
Distillation") train a student to reproduce a teacher's embeddings with sentence-transformers' ``MSELoss``; here the
teacher is the model the run started from, so the term keeps the fine-tuned embeddings of each batch's texts close to
where the base put them while MNRL moves them towards the task (the regulariser of LM-Cocktail, arXiv 2311.13534,
which merges instead). Every fine-tuning in the real-language grid lost translation retrieval on the how-to set;
this is the remedy that acts during training rather than after it (WiSE-FT, ``wise_ft``).

The base's embeddings (:class:`FrozenBase`) cost no copy of the model: the run's own model is called with the
*starting values of the weights that train* put back in place (``torch.func.functional_call``), in eval mode and
without gradient. Only what trains is copied — the top layers with ``freeze_layers``, the adapters with LoRA, every
weight in full fine-tuning (for multilingual-e5-small without ``freeze_embeddings``, 118 M floats). A text's base
embedding is computed the first time the text is seen and memoized by its token ids (prompt included; the key of
:func:`hf_hybrid.prefix_store.row_keys`), so each distinct text costs one forward of the base per run: 4 bytes ×
dimension per distinct text in memory (1.5 KB for e5-small). The computation trims the missing rows to their
longest, so a base embedding does not depend on which batch first held its text beyond float rounding (a resumed
run recomputes them).

With ``gather_across_devices`` only the MNRL part gathers (negatives span every process); the MSE term is each
process's own mean, which DDP's gradient average turns into the global batch's.

The same frozen base is the document side of :class:`QuerySideLoss` (``train_side query``): only the query encoder
trains, the passages are embedded by the base (Vasilyev et al., arXiv 2407.00923), as the saved model will embed
them (:mod:`hf_hybrid.training.query_side`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from hf_hybrid.prefix_store import row_keys


def _rows(features: dict[str, Any], rows: list[int]) -> dict[str, Any]:
    """The model inputs of some rows (what a forward reads, nothing it wrote), trimmed to the longest of them when
    the padding is on the right."""
    batch = features["input_ids"].shape[0]
    index = torch.tensor(rows, device=features["input_ids"].device)
    mask = features["attention_mask"].index_select(0, index)
    length = int(mask.sum(dim=1).max())
    if mask[:, length:].any():  # left padding: keep the full width
        length = mask.shape[1]
    out = {}
    for key, value in features.items():
        if key in ("token_embeddings", "sentence_embedding"):
            continue
        if isinstance(value, Tensor) and value.dim() >= 1 and value.shape[0] == batch:
            value = value.index_select(0, index)
            if value.dim() == 2 and key in ("input_ids", "attention_mask", "token_type_ids"):
                value = value[:, :length]
        out[key] = value
    return out


class FrozenBase:
    """Embeddings of the model at its starting weights: ``base(features)`` → ``(rows, dim)``, no gradient.

    Built from the model *after* the run has chosen which weights train (``requires_grad``): their current values
    are the starting point. Not an ``nn.Module`` on purpose: the trainer replaces every ``model`` attribute of a
    loss's modules with its wrapped (DDP) model, while the base must call the plain model with its own weights."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.start = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
        self.memo: dict[bytes, Tensor] = {}

    def __call__(self, features: dict[str, Any]) -> Tensor:
        # Keyed as the frozen-prefix store keys a text: its token ids as the model reads them. A left-padded row
        # has no key (its positions, hence its embedding, depend on its padding): computed each time, not memoized.
        keys = row_keys(features["input_ids"], features["attention_mask"], features.get("token_type_ids"))
        new = {k: i for i, k in enumerate(keys) if k is not None and k not in self.memo}  # a row per new text
        missing = [*new.values(), *(i for i, k in enumerate(keys) if k is None)]
        fresh = dict(zip(missing, self._encode(_rows(features, missing)), strict=True)) if missing else {}
        for row, embedding in fresh.items():
            if keys[row] is not None:
                self.memo[keys[row]] = embedding
        device = features["input_ids"].device
        return torch.stack([self.memo[k] if k is not None else fresh[i] for i, k in enumerate(keys)]).to(device)

    @torch.no_grad()
    def _encode(self, features: dict[str, Any]) -> Tensor:
        params = dict(self.model.named_parameters())
        for name, value in self.start.items():  # the trainer may have moved the model since
            if value.device != params[name].device:
                self.start[name] = value.to(params[name].device)
        modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()  # no dropout: a text's base embedding is one fixed vector
        try:
            out = torch.func.functional_call(self.model, self.start, (features,))
        finally:
            for module, mode in modes:
                module.training = mode
        return out["sentence_embedding"].detach().float().cpu()


class DistillationLoss(nn.Module):
    """``MNRL + λ · MSE``: a ranking loss beside distillation from the frozen base (see the module docstring).

    Computes every column's embedding once and hands it to both parts: the ranking loss (its
    ``compute_loss_from_embeddings``, gathering across devices if it was built to) and sentence-transformers'
    ``MSELoss`` against :class:`FrozenBase` — the mean squared error over the coordinates of the anchor and positive
    embeddings (the mean of the two columns' MSE). Returns both terms, ``{"ranking", "distill"}`` (λ applied), which
    the trainer sums and logs one by one.

    Args:
        model: the SentenceTransformer being trained, its trained weights already chosen (``requires_grad``).
        ranking: a ``MultipleNegativesRankingLoss`` on ``model``.
        weight: λ (> 0 here; :class:`QuerySideLoss` also takes 0).

    Inputs: ``(anchor, positive[, negative …])`` as for MNRL; no labels.

    Example::

        loss = DistillationLoss(model, MultipleNegativesRankingLoss(model), weight=100.0)
        SentenceTransformerTrainer(model=model, train_dataset=pairs, loss=loss).train()
    """

    def __init__(self, model: nn.Module, ranking: nn.Module, weight: float):
        super().__init__()
        from sentence_transformers.sentence_transformer.losses import MSELoss

        self.model = model
        self.ranking = ranking
        self.mse = MSELoss(model)
        self.weight = weight
        self.base = FrozenBase(model)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None) -> dict[str, Tensor]:
        from sentence_transformers.base.losses.merged_forward import embed_columns

        features = list(sentence_features)
        # The base first: the student's forward writes its outputs into these dicts.
        targets = [self.base(f) for f in features[:2]]
        embeddings = embed_columns(self.model, features)
        return {"ranking": self.ranking.compute_loss_from_embeddings(embeddings, labels),
                "distill": self.weight * self.mse.compute_loss_from_embeddings(embeddings[:2], targets)}

    def get_config_dict(self) -> dict[str, Any]:
        return {"distill_weight": self.weight, "distance": "mse", "teacher": "the frozen base",
                **{f"ranking_{k}": v for k, v in self.ranking.get_config_dict().items()}}

    @property
    def citation(self) -> str:
        return self.mse.citation


class QuerySideLoss(DistillationLoss):
    """MNRL with only the query encoder training (Vasilyev et al., 2024, arXiv 2407.00923: tuning the query encoder
    alone kept the multilingual quality that full fine-tuning lost): the anchors are embedded by the model, the
    positives and negatives by :class:`FrozenBase` — the base's embeddings, memoized, without gradient — which is
    what the saved model's document route computes. With λ > 0, also ``λ · MSE`` of the anchors to the base.
    Returns ``{"ranking"[, "distill"]}``; gathers as the ranking loss does (documents without gradient).

    Example::

        loss = QuerySideLoss(model, MultipleNegativesRankingLoss(model), weight=0.0)
    """

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None) -> dict[str, Tensor]:
        features = list(sentence_features)
        documents = [self.base(f) for f in features[1:]]
        target = self.base(features[0]) if self.weight else None
        anchors = self.model(features[0])["sentence_embedding"]
        terms = {"ranking": self.ranking.compute_loss_from_embeddings([anchors, *documents], labels)}
        if target is not None:
            terms["distill"] = self.weight * self.mse.compute_loss_from_embeddings([anchors], [target])
        return terms

    def get_config_dict(self) -> dict[str, Any]:
        return {"trained_side": "query", "documents": "the frozen base", **super().get_config_dict()}
