"""MTEB: run tasks and benchmarks by name through ``mteb``, and expose our own data as MTEB retrieval tasks.

Names resolve against the installed ``mteb`` (``mteb.get_task`` / ``mteb.get_benchmark``); an unknown name is a
one-line :class:`UserError` carrying mteb's own "did you mean" suggestion. MTEB's ``XQuADRetrieval`` and
``MLQARetrieval`` are question → paragraph tasks scored by nDCG@10, *not* LAReQA's XQuAD-R / MLQA-R, so they
are reported under their MTEB names with MTEB's score names (``ndcg_at_10``, …).
"""

from __future__ import annotations

from collections.abc import Iterable

from sentence_transformers import SentenceTransformer

from hf_hybrid.errors import UserError
from hf_hybrid.evaluation.multilingual import MultilingualPool
from hf_hybrid.evaluation.results import SuiteResult, suite_result


def resolve_tasks(names: Iterable[str]) -> list:
    """MTEB task objects for task or benchmark names (a benchmark expands to its tasks)."""
    import mteb

    tasks = []
    for name in names:
        try:
            tasks.append(mteb.get_task(name))
            continue
        except KeyError as task_err:
            task_msg = str(task_err).strip("'\"")
        try:
            tasks.extend(mteb.get_benchmark(name).tasks)
        except KeyError:
            raise UserError("mteb", f"unknown task or benchmark {name!r} ({task_msg})",
                            "use a name from mteb.get_tasks() or mteb.get_benchmarks()") from None
    return tasks


def _mteb_language(code: str) -> str:
    """ISO 639-1/3 → MTEB's ``xxx-Scrp``; private-use codes (``qaa``…) map to ``mis`` (uncoded languages)."""
    # The one private mteb helper used: mteb 2.26 has no public ISO 639-1/3 → "xxx-Scrp" conversion (its public
    # ISO_TO_SCRIPT maps script codes to names), and a hand-made table would drift from mteb's own.
    from mteb.languages.iso_mappings import _hf_lang_to_iso_lang_script

    return _hf_lang_to_iso_lang_script(code) or "mis-Zyyy"


def mteb_task_from_pool(pool: MultilingualPool, name: str | None = None):
    """An MTEB retrieval task with one subset per ordered language pair ``x-y`` of ``pool``, loaded from memory.

    This lets an MTEB user run our parallel datasets (and the tests run MTEB fully offline).
    """
    from datasets import Dataset
    from mteb import TaskMetadata
    from mteb.abstasks.retrieval import AbsTaskRetrieval

    task_name = name or f"HFHybrid{pool.name.title().replace('_', '')}Retrieval"
    query_langs, cand_langs = sorted(set(pool.query_langs)), sorted(set(pool.cand_langs))
    subsets = {f"{x}-{y}": sorted({_mteb_language(x), _mteb_language(y)}) for x in query_langs for y in cand_langs}

    def split_data(x: str, y: str) -> dict:
        cands = [i for i, lang in enumerate(pool.cand_langs) if lang == y]
        corpus = Dataset.from_dict({"id": [f"c{i}" for i in cands], "text": [pool.cand_texts[i] for i in cands],
                                    "title": [""] * len(cands)})
        in_y = set(cands)
        qrels, q_ids, q_texts = {}, [], []
        for i, lang in enumerate(pool.query_langs):
            rel = [c for c in pool.relevant.get(pool.query_keys[i], []) if c in in_y] if lang == x else []
            if rel:
                qrels[f"q{i}"] = {f"c{c}": 1 for c in rel}
                q_ids.append(f"q{i}")
                q_texts.append(pool.query_texts[i])
        return {"corpus": corpus, "queries": Dataset.from_dict({"id": q_ids, "text": q_texts}),
                "relevant_docs": qrels, "top_ranked": None}

    class PoolTask(AbsTaskRetrieval):
        metadata = TaskMetadata(
            name=task_name, description=f"hf-hybrid parallel data {pool.name!r}: x→y retrieval per language pair.",
            dataset={"path": f"local/{pool.name}", "revision": pool.fingerprint()}, type="Retrieval",
            category="t2t", modalities=["text"], eval_splits=[pool.split], eval_langs=subsets,
            main_score="ndcg_at_10", reference=None, date=None, domains=None, task_subtypes=None, license=None,
            annotations_creators=None, dialect=None, sample_creation=None, bibtex_citation="",
        )

        def load_data(self, num_proc: int | None = None, **kwargs) -> None:
            if self.data_loaded:
                return
            self.dataset = {s: {pool.split: split_data(*s.split("-", 1))} for s in self.hf_subsets}
            self.data_loaded = True

    return PoolTask()


def run_mteb(
    model: SentenceTransformer, tasks: Iterable, *, batch_size: int = 64, output_folder: str | None = None,
    show_progress_bar: bool = False,
) -> list[SuiteResult]:
    """Run MTEB tasks (names, benchmark names or task objects) and return one ``"mteb"`` suite per task.

    ``metrics`` holds the task's scores (MTEB names, averaged over its subsets), ``subsets`` each subset's
    scores, ``main_score`` the task's own main score.
    """
    import mteb

    names = [t for t in tasks if isinstance(t, str)]
    objects = [t for t in tasks if not isinstance(t, str)] + resolve_tasks(names)
    cache = mteb.ResultCache(output_folder) if output_folder else None
    result = mteb.evaluate(model, objects, cache=cache, encode_kwargs={"batch_size": batch_size},
                           show_progress_bar=show_progress_bar, overwrite_strategy="always")
    return [_suite_from_task_result(tr, task) for tr, task in zip(result.task_results, objects, strict=True)]


def _suite_from_task_result(task_result, task) -> SuiteResult:
    per_subset: dict[str, dict[str, float]] = {}
    split_names = []
    for split, entries in task_result.scores.items():
        split_names.append(split)
        for entry in entries:
            numeric = {k: float(v) for k, v in entry.items() if isinstance(v, int | float) and not isinstance(v, bool)}
            per_subset[f"{entry['hf_subset']}" if len(task_result.scores) == 1 else f"{split}/{entry['hf_subset']}"] = numeric
    keys = set.intersection(*(set(v) for v in per_subset.values())) if per_subset else set()
    metrics = {k: sum(v[k] for v in per_subset.values()) / len(per_subset) for k in sorted(keys)}
    metadata = task.metadata
    return suite_result(
        name=metadata.name, type="mteb", dataset=metadata.dataset.get("path", metadata.name),
        split=",".join(split_names), fingerprint=str(metadata.dataset.get("revision", "")),
        languages=sorted(task.languages), metrics=metrics, main_score=metadata.main_score, subsets=per_subset,
    )
