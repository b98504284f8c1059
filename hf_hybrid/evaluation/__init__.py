"""Evaluation: LAReQA-style multilingual metrics and language bias, BEIR, MTEB, and reports.

Public API::

    evaluate_parallel(model, dataset, *, languages=None, resource_levels=None, batch_size=64, cache_dir=None)
    evaluate_pool(model, pool, ...)              # XQuAD-R / MLQA-R pools from suites.load_xquad_r / load_mlqa_r
    run_beir(model, folder_or_name, ...)         # BEIR folder or name; evaluate_retrieval for CIRAL etc.
    run_mteb(model, task_names, ...)             # MTEB tasks/benchmarks by name, or task objects
    write_results(path, model, suites, settings) # atomic results JSON (schema hf-hybrid/eval-results/v1)
    SuiteResult, find_suite(suites, name)        # one suite's result (the schema) and the lookup by name
    SUITES, load_suite(name, SuiteOptions(...))  # the named suites (XQuAD-R, MLQA-R, CIRAL, ...), each with its loader
    MultilingualRetrievalEvaluator(dataset, name=...)  # SentenceEvaluator, primary metric multi.map

The names are imported on first use (PEP 562), not with the package: the results file's name and schema
(:mod:`~hf_hybrid.evaluation.results`), which cards and the demo read, must not import torch and
sentence-transformers.
"""

from importlib import import_module

_LAZY = {
    "RetrievalData": "beir", "evaluate_retrieval": "beir", "load_beir_folder": "beir", "run_beir": "beir",
    "MultilingualRetrievalEvaluator": "evaluator", "mteb_task_from_pool": "mteb_runner", "run_mteb": "mteb_runner",
    "MultilingualPool": "multilingual", "evaluate_parallel": "multilingual", "evaluate_pool": "multilingual",
    "pool_from_parallel": "multilingual", "markdown_table": "report", "write_evaluation_report": "report",
    "write_plots": "report", "write_results": "report", "SuiteResult": "results", "find_suite": "results",
    "SUITES": "suites", "SuiteOptions": "suites", "load_africlirmatrix": "suites", "load_ciral": "suites",
    "load_mlqa_r": "suites", "load_suite": "suites", "load_xquad_r": "suites",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"hf_hybrid.evaluation.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'hf_hybrid.evaluation' has no attribute {name!r}")
