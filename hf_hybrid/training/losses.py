"""The loss: InfoNCE over (query, positive[, hard negative]) with in-batch negatives (the paper's objective).

sentence-transformers 6.2 expresses the symmetric variant (also rank queries given passages) as
``MultipleNegativesRankingLoss(directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction")``: one
softmax per direction, averaged — exactly what the deprecated ``MultipleNegativesSymmetricRankingLoss`` computed.
The GradCache variant (``CachedMultipleNegativesRankingLoss``) takes the same two arguments.
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
    return losses.MultipleNegativesRankingLoss(model, **common)
