"""Dry runs of the three long jobs: ``train``, ``experiment`` and ``evaluate``, without training anything.

Each function checks everything that could otherwise fail hours into a run — settings, data files, splits and
languages, the first steps of the batch plan drawn on real rows, the model's config and tokenizer, evaluation
names, the output folder, batch size against processes, precision against the device — and returns a
:class:`~hf_hybrid.check.report.CheckReport` holding *all* problems found. The ``--dry_run`` flags call them:

    report = check_train(train_cfg, plan_cfg)        # hf_hybrid.commands.train --dry_run
    report = check_experiment(cfg)                    # hf_hybrid.experiments
    report = check_evaluate(args)                     # hf_hybrid.commands.evaluate (its argparse namespace)
    print(report.render()); return report.exit_code
"""

from __future__ import annotations

import os
from pathlib import Path

from hf_hybrid.check.data import check_source, registered, rows_per_language
from hf_hybrid.check.model import check_model, check_seq_len, device_memory_gib, peak_memory_gib
from hf_hybrid.check.report import CheckReport, FileEntry
from hf_hybrid.plan_rows import materialize
from hf_hybrid.sampling import BatchPlan, PlanConfig

FIRST_STEPS = 3  # plan steps drawn and materialized on real rows
# BEIR datasets its download server holds (BEIR README, "Available Datasets"; the others need a licence)
BEIR_DOWNLOADABLE = ("msmarco", "trec-covid", "nfcorpus", "nq", "hotpotqa", "fiqa", "arguana", "webis-touche2020",
                     "cqadupstack", "quora", "dbpedia-entity", "scidocs", "fever", "climate-fever", "scifact")


def hub_online() -> bool:
    """Whether the Hub can be asked (``HF_HUB_OFFLINE`` as set now, then one short HEAD request)."""
    from hf_hybrid.models import hub_reachable

    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().upper()
    return flag not in {"1", "ON", "YES", "TRUE"} and hub_reachable()


def _cap(batch_size: int) -> int:
    """Groups read for the dry run: a few batches' worth, so every language can fill a monolingual batch."""
    return max(4 * batch_size, 200)


def check_writable(path: str, setting: str, report: CheckReport) -> None:
    """The folder can be created and written (:func:`hf_hybrid.atomic.output_folder_problem`)."""
    from hf_hybrid.atomic import output_folder_problem

    if problem := output_folder_problem(path):
        report.problem(setting, problem, "choose a folder you can write to")


def check_processes(batch_size: int, world: int, report: CheckReport) -> None:
    if batch_size % world:
        report.problem("batch_size", f"global batch {batch_size} does not split over {world} processes",
                       f"use a multiple of {world} (every process trains on an equal slice of the global batch)")


def check_plan(train_rows, plan_cfg: PlanConfig, max_steps: int, source: str, report: CheckReport) -> dict:
    """Draw the plan on the rows read and materialize its first steps, as the run does before training."""
    from hf_hybrid.data.sources import check_source_supports

    with report.collect():
        check_source_supports(source, plan_cfg)
        plan = BatchPlan(train_rows, plan_cfg, max_steps)
        first = materialize(train_rows, plan, 0, min(FIRST_STEPS, max_steps))
        kinds = [plan.kind(step) for step in range(min(FIRST_STEPS, max_steps))]
        per_step = len(first) // max(1, len(kinds))
        if per_step != plan_cfg.batch_size:
            report.problem("batch_size", f"the first steps hold {per_step} rows, not {plan_cfg.batch_size}",
                           "report this as a bug of hf_hybrid.sampling")
        return {"first steps": ", ".join(kinds), "steps per kind": plan.summary()["steps_per_kind"],
                "training languages": " ".join(plan.training_languages)}
    return {}


def memory_line(info: dict | None, *, batch_size: int, world: int, negatives: bool, seq_len: int,
                precision: str, checkpointing: bool, report: CheckReport) -> str:
    """The estimated peak memory per process; on a GPU machine, more than the GPU holds is a problem."""
    if not info or not info.get("parameters"):
        return "unknown (model size unknown)"
    import torch

    def estimate(half: bool) -> float:
        return peak_memory_gib(info, per_process_batch=max(1, batch_size // world), texts_per_example=3 if negatives
                               else 2, seq_len=seq_len, half_precision=half, gradient_checkpointing=checkpointing)

    half = precision in ("bf16", "fp16") or (precision == "auto" and torch.cuda.is_available())
    gib = estimate(half)
    device = device_memory_gib()
    if device is not None and gib > device:
        report.problem("batch_size", f"estimated {gib:.1f} GiB per process, the GPU has {device:.1f} GiB",
                       "set gradient_checkpointing: true, loss: cached_mnrl, or more processes")
    on_gpu = f"; ~{estimate(True):.1f} GiB on a GPU with bf16" if precision == "auto" and not half else ""
    return (f"~{gib:.1f} GiB per process here ({info['parameters'] / 1e6:.0f} M parameters, "
            f"{'16' if half else '32'}-bit activations, every text at max_seq_length){on_gpu}")


def prefix_cache_line(train_cfg, info: dict | None, batch_size: int) -> str | None:
    """The frozen-prefix cache this run may write (:mod:`hf_hybrid.frozen_prefix`): float32 states of at most every
    text the plan shows (steps × batch × texts per example), each at ``max_seq_length`` tokens — an upper bound —
    and what the cache folder holds now. None when the run has no frozen prefix to cache."""
    from hf_hybrid.frozen_prefix import default_root

    if not train_cfg.caches_prefix:
        return None
    root = Path(train_cfg.prefix_cache_dir or default_root())
    held = sum(f.stat().st_size for f in root.rglob("*.states.npy")) if root.is_dir() else 0
    texts = train_cfg.max_steps * batch_size * (3 if train_cfg.use_negatives else 2)
    if not info or not info.get("hidden"):
        return f"{root} ({held / 1e9:.2f} GB there now; size per text unknown)"
    bound = texts * train_cfg.max_seq_length * info["hidden"] * 4
    return (f"≤ {bound / 1e9:.2f} GB for ≤ {texts:,} distinct texts at {train_cfg.max_seq_length} tokens, float32, "
            f"in {root} ({held / 1e9:.2f} GB there now)")


def default_mirror() -> str | None:
    """``$HF_HYBRID_MIRROR``: the local Hub copies a ``--dry_run`` flag of train / experiment / evaluate reads (those
    commands have no ``--mirror`` of their own; ``hf-hybrid check --mirror`` sets it explicitly)."""
    return os.environ.get("HF_HYBRID_MIRROR") or None


def check_train(train_cfg, plan_cfg: PlanConfig, *, mirror: str | None = None, num_processes: int | None = None,
                online: bool | None = None, read_large: bool = False) -> CheckReport:
    """Dry run of ``hf-hybrid train`` with these settings (see the module docstring)."""
    from hf_hybrid.locks import is_held
    from hf_hybrid.training.run_folder import inspect_output

    report = CheckReport("train")
    mirror = mirror or default_mirror()
    online = hub_online() if online is None else online
    world = num_processes or int(os.environ.get("WORLD_SIZE", 1))
    for cfg in (train_cfg, plan_cfg):
        with report.collect():
            cfg.validate()
    check_processes(plan_cfg.batch_size, world, report)
    check_writable(train_cfg.output_dir, "output_dir", report)
    with report.collect():
        if is_held(train_cfg.output_dir):
            from hf_hybrid.training.checks import busy

            raise busy(train_cfg.output_dir)
        inspect_output(train_cfg, plan_cfg, data_fingerprint=None)  # reads only; never removes anything
    data = check_source(train_cfg.data, split="train", languages=plan_cfg.train_languages, mirror=mirror,
                        online=online and (read_large or not _large(train_cfg.data)), report=report,
                        cap=_cap(plan_cfg.batch_size))
    if train_cfg.eval_steps:
        check_source(train_cfg.data, split=train_cfg.eval_split, languages=None, mirror=mirror, online=online,
                     report=report, cap=_cap(plan_cfg.batch_size))
    report.summary["data"] = train_cfg.data
    if data is not None:
        report.summary["rows read per language"] = rows_per_language(data)
        with report.collect():
            from hf_hybrid.data.schema import languages_of
            from hf_hybrid.languages import is_known

            # only the train split was read: held-out languages live in the other splits, so here they must only
            # be real codes (train checks them against every split)
            held_out = {code for code in plan_cfg.exclude_languages if is_known(code)}
            plan_cfg.check_languages(languages_of(data) | held_out, train_cfg.data)
        report.summary.update(check_plan(data["train"], plan_cfg, train_cfg.max_steps, train_cfg.data, report))
    info = check_model(train_cfg.model, mirror=mirror, online=online, report=report)
    if info:
        check_seq_len(train_cfg.model, info, train_cfg.max_seq_length, report)
    report.summary["steps"] = f"{train_cfg.max_steps} of {plan_cfg.batch_size} ({plan_cfg.describe()}), " \
                              f"{world} process(es) of {plan_cfg.batch_size // max(1, world)}"
    report.summary["examples seen"] = f"{train_cfg.max_steps * plan_cfg.batch_size:,}"
    report.summary["peak memory"] = memory_line(
        info, batch_size=plan_cfg.batch_size, world=world, negatives=train_cfg.use_negatives,
        seq_len=train_cfg.max_seq_length, precision=train_cfg.precision,
        checkpointing=train_cfg.gradient_checkpointing, report=report)
    cache = prefix_cache_line(train_cfg, info, plan_cfg.batch_size)
    if cache:
        report.summary["frozen-prefix cache"] = cache
    return report


def _large(source: str) -> bool:
    """Sources too large to read over the network in a dry run (mMARCO's collections are ~3 GB a language)."""
    spec = registered(source)
    return bool(spec and spec.join is not None)


def check_names(report: CheckReport, *, suites=(), mteb_tasks=(), beir=(), africlirmatrix_dir=None) -> None:
    """Evaluation suites, MTEB tasks/benchmarks and BEIR sets resolve, with the data each will fetch."""
    from hf_hybrid.evaluation.suites import SUITES

    for name in suites:
        if name not in SUITES:
            report.problem("suites", f"unknown suite {name!r}", f"use one of {', '.join(SUITES)}")
        else:
            where = "bundled" if SUITES[name].source.startswith(("bundled:", "pypi:")) else "hub"
            report.files.append(FileEntry(f"suite {name}", SUITES[name].source, None, where))
    if "africlirmatrix" in suites and not (africlirmatrix_dir and Path(africlirmatrix_dir).is_dir()):
        report.problem("africlirmatrix_dir", repr(africlirmatrix_dir), "give the AfriCLIRMatrix release folder")
    _check_mteb(report, [t for t in mteb_tasks if t != "parallel"])
    for name in beir:
        if not Path(name).is_dir() and name not in BEIR_DOWNLOADABLE:
            report.problem("beir", f"{name!r} is neither a folder nor a downloadable BEIR dataset",
                           f"use a BEIR folder or one of {', '.join(BEIR_DOWNLOADABLE)}")


def _check_mteb(report: CheckReport, names: list[str]) -> None:
    if not names:
        return
    from hf_hybrid.evaluation.mteb_runner import resolve_tasks

    for name in names:
        with report.collect():
            for task in resolve_tasks([name]):
                data = task.metadata.dataset
                report.files.append(FileEntry(f"mteb {task.metadata.name}",
                                              f"{data.get('path')}@{data.get('revision')}", None, "hub"))


def check_experiment(cfg, *, mirror: str | None = None, num_processes: int | None = None,
                     online: bool | None = None, read_large: bool = False) -> CheckReport:
    """Dry run of ``hf-hybrid experiment`` (a grid of runs): every run's data, plan, model and evaluation."""
    from hf_hybrid.experiments.config import UNTRAINED

    report = CheckReport("experiment")
    mirror = mirror or default_mirror()
    online = hub_online() if online is None else online
    world = num_processes or int(os.environ.get("WORLD_SIZE", 1))
    with report.collect():
        cfg.validate()  # with the rows' options (experiments.variants.check_row_options)
    check_processes(cfg.batch_size, world, report)
    check_writable(cfg.output_dir, "output_dir", report)
    _check_finished_runs(cfg, report)
    data = check_source(cfg.data, split="train", languages=cfg.train_languages, mirror=mirror,
                        online=online and (read_large or not _large(cfg.data)), report=report, cap=_cap(cfg.batch_size))
    evaluation = check_source(cfg.eval_data or cfg.data, split=cfg.eval_split, languages=cfg.zero_shot,
                              mirror=mirror, online=online, report=report, cap=_cap(cfg.batch_size), role="eval_data")
    report.summary["data"] = cfg.data
    for rows in (data, evaluation):
        if rows is not None:
            report.summary[f"rows read ({next(iter(rows))})"] = rows_per_language(rows)
    trained = [s for s in cfg.strategies if s not in UNTRAINED]
    if data is not None and trained:
        _check_experiment_plans(cfg, trained, data["train"], report)
    _check_experiment_models(cfg, mirror, online, world, report)
    check_names(report, suites=cfg.suites, mteb_tasks=cfg.mteb_tasks, beir=cfg.beir,
                africlirmatrix_dir=cfg.africlirmatrix_dir)
    if cfg.wise_ft:
        report.summary["WiSE-FT rows"] = f"every trained run also scored at α {', '.join(map(str, cfg.wise_ft))}"
    if cfg.wise_dev:
        _check_dev_set(cfg, report)
    runs = len(cfg.models) * len(cfg.strategies) * len(cfg.seeds)
    report.summary["runs"] = f"{runs} ({len(trained) * len(cfg.models) * len(cfg.seeds)} trained), " \
                             f"{cfg.max_steps} steps of {cfg.batch_size} each"
    report.summary["examples seen per run"] = f"{cfg.max_steps * cfg.batch_size:,}"
    return report


def _check_experiment_plans(cfg, trained: list[str], train_rows, report: CheckReport) -> None:
    """Each trained strategy's plan drawn on the rows read (its first steps go into the summary)."""
    from hf_hybrid.experiments.config import plan_settings

    train_languages = cfg.train_languages or _default_train_languages(cfg)
    for strategy in trained:
        with report.collect():
            plan_cfg = PlanConfig(batch_size=cfg.batch_size, seed=cfg.seeds[0], train_languages=train_languages,
                                  **plan_settings(strategy))
            drawn = check_plan(train_rows, plan_cfg, cfg.max_steps, cfg.data, report)
            if drawn:
                report.summary[f"plan {strategy}"] = drawn["first steps"]


def _check_experiment_models(cfg, mirror: str, online: bool, world: int, report: CheckReport) -> None:
    """Each base model found (or downloadable), its length checked, and its peak training memory estimated."""
    from hf_hybrid.experiments.config import MINIATURE

    for model in cfg.models:
        if model == MINIATURE:
            report.notes.append(f"model {MINIATURE}: pre-trained by the grid on its synthetic world")
            continue
        info = check_model(model, mirror=mirror, online=online, report=report)
        if info:
            check_seq_len(model, info, cfg.max_seq_length, report)
        report.summary[f"peak memory {model}"] = memory_line(
            info, batch_size=cfg.batch_size, world=world, negatives=cfg.use_negatives, seq_len=cfg.max_seq_length,
            precision="auto", checkpointing=False, report=report)


def _check_dev_set(cfg, report: CheckReport) -> None:
    """``wise_dev``'s dev set, built now (:func:`hf_hybrid.experiments.dev_merge.build_dev_set`), so that a language
    CLDR does not name fails before any training, not after the first cell."""
    from hf_hybrid.experiments.dev_merge import CLDR_LANGUAGES, build_dev_set

    languages = sorted(set(cfg.train_languages or []) | set(cfg.zero_shot or []))
    if cfg.wise_dev_data != CLDR_LANGUAGES or not languages:  # a split of the data: read by the grid itself
        report.summary["WiSE-FT α on dev"] = f"picked per run on {cfg.wise_dev_data}"
        return
    with report.collect():
        size = len(build_dev_set(cfg, languages).texts)
        report.summary["WiSE-FT α on dev"] = (f"picked per run on {cfg.wise_dev_data} ({size} names per language), "
                                              f"within {cfg.wise_dev_tolerance} of the base")


def _default_train_languages(cfg) -> list[str] | None:
    """The grid's default training languages on a synthetic world: its high-resource ones."""
    if not cfg.data.startswith("synthetic"):
        return None
    from hf_hybrid.data.local import world_from_source

    return world_from_source(cfg.data, train_groups=1).codes("high")


def _check_finished_runs(cfg, report: CheckReport) -> None:
    """Finished runs of other settings under the same name would stop the grid half-way: say so now."""
    from hf_hybrid.experiments.config import model_tag
    from hf_hybrid.experiments.grid import is_finished, run_folder

    fingerprint = cfg.run_fingerprint()
    for model in cfg.models:
        for strategy in cfg.strategies:
            for seed in cfg.seeds:
                with report.collect():
                    is_finished(run_folder(cfg, model_tag(model), strategy, seed), fingerprint)


def check_evaluate(args, *, mirror: str | None = None, online: bool | None = None) -> CheckReport:
    """Dry run of ``hf-hybrid evaluate`` for its parsed arguments (``hf_hybrid.commands.evaluate.build_parser``)."""
    from hf_hybrid.evaluation.suites import AFRICLIRMATRIX_LANGUAGES, CIRAL_LANGUAGES

    report = CheckReport("evaluate")
    mirror = mirror or default_mirror()
    online = hub_online() if online is None else online
    if not (args.data or args.suite or args.mteb or args.beir or args.ciral or args.africlirmatrix):
        report.problem("evaluate", "nothing to evaluate", "add --data, --suite, --mteb, --beir, --ciral or "
                       "--africlirmatrix")
    folder = Path(args.model)
    if args.model == "bm25":  # the lexical baseline: nothing to download; MTEB needs embeddings it has not
        if args.mteb:
            report.problem("--mteb", f"{args.mteb} with --model bm25", "evaluate bm25 with --data, --suite or --beir")
    elif folder.is_dir():
        if not any((folder / name).is_file() for name in ("modules.json", "config.json")):
            report.problem("--model", f"{args.model!r} holds no modules.json or config.json",
                           "give a SentenceTransformer folder (a trained model's output_dir)")
    else:
        check_model(args.model, mirror=mirror, online=online, report=report)
    for spec in args.data:
        data = check_source(spec, split=args.split, languages=args.languages, mirror=mirror, online=online,
                            report=report, cap=10**9, role="--data")
        if data is not None:
            report.summary[f"rows ({spec})"] = rows_per_language(data)
    for code in args.ciral:
        if code not in CIRAL_LANGUAGES and code not in CIRAL_LANGUAGES.values():
            report.problem("--ciral", repr(code), f"use one of {' '.join(CIRAL_LANGUAGES)}")
    for code in args.africlirmatrix:
        if code not in AFRICLIRMATRIX_LANGUAGES:
            report.problem("--africlirmatrix", repr(code), f"use one of {' '.join(AFRICLIRMATRIX_LANGUAGES)}")
    check_names(report, suites=args.suite + (["africlirmatrix"] if args.africlirmatrix else []),
                mteb_tasks=args.mteb, beir=args.beir, africlirmatrix_dir=args.africlirmatrix_dir)
    check_writable(args.output, "--output", report)
    return report
