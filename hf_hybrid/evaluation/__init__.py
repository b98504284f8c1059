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
"""

from hf_hybrid.evaluation.beir import RetrievalData, evaluate_retrieval, load_beir_folder, run_beir
from hf_hybrid.evaluation.evaluator import MultilingualRetrievalEvaluator
from hf_hybrid.evaluation.mteb_runner import mteb_task_from_pool, run_mteb
from hf_hybrid.evaluation.multilingual import (
    MultilingualPool,
    evaluate_parallel,
    evaluate_pool,
    pool_from_parallel,
)
from hf_hybrid.evaluation.report import markdown_table, write_evaluation_report, write_plots, write_results
from hf_hybrid.evaluation.results import SuiteResult, find_suite
from hf_hybrid.evaluation.suites import (
    SUITES,
    SuiteOptions,
    load_africlirmatrix,
    load_ciral,
    load_mlqa_r,
    load_suite,
    load_xquad_r,
)

__all__ = [
    "SUITES", "MultilingualPool", "MultilingualRetrievalEvaluator", "RetrievalData", "SuiteOptions", "SuiteResult",
    "evaluate_parallel", "evaluate_pool", "evaluate_retrieval", "find_suite", "load_africlirmatrix", "load_beir_folder",
    "load_ciral", "load_mlqa_r", "load_suite", "load_xquad_r", "markdown_table", "mteb_task_from_pool", "pool_from_parallel", "run_beir", "run_mteb",
    "write_plots", "write_evaluation_report", "write_results",
]
