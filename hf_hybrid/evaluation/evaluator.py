"""The multilingual metrics as a sentence-transformers evaluator, so they run during training."""

from __future__ import annotations

from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator

from hf_hybrid.evaluation.multilingual import MultilingualPool, evaluate_pool, pool_from_parallel


class MultilingualRetrievalEvaluator(SentenceEvaluator):
    """LAReQA-style mono / cross / multi evaluation of a parallel-schema dataset (arXiv 2408.10536).

    Computes every metric of :mod:`hf_hybrid.evaluation.multilingual` (mAP over the full ranking, mAP@20,
    nDCG@10, Recall@k, MRR@10 per setting; language bias in the pooled setting). The primary metric is the
    multilingual (pooled) mAP. Input: a ``datasets.Dataset`` with ``id``, ``lang``, ``query``, ``passage``
    (optional ``negatives``), or a prepared :class:`MultilingualPool`.

    Example::

        evaluator = MultilingualRetrievalEvaluator(test_ds, name="sample-test")
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train, evaluator=evaluator)
    """

    def __init__(
        self,
        dataset,
        name: str = "",
        *,
        languages: list[str] | None = None,
        resource_levels: dict[str, str] | None = None,
        zero_shot: list[str] | None = None,
        batch_size: int = 64,
        show_progress_bar: bool = False,
    ):
        super().__init__()
        self.pool = dataset if isinstance(dataset, MultilingualPool) else pool_from_parallel(dataset, name=name or "parallel")
        self.name = name
        self.languages, self.resource_levels, self.zero_shot = languages, resource_levels, zero_shot
        self.batch_size, self.show_progress_bar = batch_size, show_progress_bar
        self.primary_metric = "multi.map"
        self.greater_is_better = True

    def __call__(
        self, model: SentenceTransformer, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        suite = evaluate_pool(model, self.pool, languages=self.languages, resource_levels=self.resource_levels,
                              zero_shot=self.zero_shot, batch_size=self.batch_size,
                              show_progress_bar=self.show_progress_bar)
        metrics = {k: v for k, v in suite["metrics"].items() if v == v}  # drop NaN (undefined bias)
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
