"""The loss: InfoNCE over (query, positive[, hard negative]) with in-batch negatives (the paper's objective).

sentence-transformers 6.2 expresses the symmetric variant (also rank queries given passages) as
``MultipleNegativesRankingLoss(directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction")``: one
softmax per direction, averaged — exactly what the deprecated ``MultipleNegativesSymmetricRankingLoss`` computed.
The GradCache variant (``CachedMultipleNegativesRankingLoss``) takes the same two arguments.

``distill_weight`` λ > 0 wraps MNRL in :class:`~hf_hybrid.training.distill.DistillationLoss`: MNRL + λ · MSE to the
frozen base's embeddings (Reimers & Gurevych, EMNLP 2020), against forgetting; ``train_side query`` in
:class:`~hf_hybrid.training.distill.QuerySideLoss`: the documents are embedded by the frozen base and only the query
encoder trains (Vasilyev et al., arXiv 2407.00923).
"""

from __future__ import annotations

from hf_hybrid.training.config import TrainConfig

QUERY_TO_DOC = ("query_to_doc",)
SYMMETRIC = ("query_to_doc", "doc_to_query")


def loss_directions(train: TrainConfig) -> tuple[str, ...]:
    return SYMMETRIC if train.symmetric else QUERY_TO_DOC


def build_loss(model, train: TrainConfig):
    """MNRL (or its cached form) with the negatives of *all* processes gathered before the loss, so that the
    in-batch negatives are the global batch's — what makes a mono or cross batch a mono or cross batch."""
    from sentence_transformers.sentence_transformer import losses

    directions = loss_directions(train)
    partition = "per_direction" if train.symmetric else "joint"
    common = {"scale": train.scale, "gather_across_devices": True, "directions": directions,
              "partition_mode": partition}
    if train.loss == "cached_mnrl":
        return losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=train.mini_batch_size, **common)
    ranking = losses.MultipleNegativesRankingLoss(model, **common)
    if train.train_side == "query":
        from hf_hybrid.training.distill import QuerySideLoss

        return QuerySideLoss(model, ranking, train.distill_weight)
    if train.distill_weight:
        from hf_hybrid.training.distill import DistillationLoss

        return DistillationLoss(model, ranking, train.distill_weight)  # only the ranking part gathers
    return ranking
