"""The strategy grid: strategies × seeds × base models, each fine-tuned with the same steps and examples.

Results on disk are the grid's checkpoint: a run is finished when its ``results.json`` exists, and a rerun skips
it. A run interrupted during training is started again from scratch (its partial folder is removed), because
a grid run is short; long single runs resume with ``hf-hybrid train --resume`` instead.

Layout of ``<output_dir>/<name>/``::

    config.yaml                      the exact settings the grid ran with
    runs/<model>/<strategy>/seed-<s>/results.json results (schema hf-hybrid/eval-results/v1) + run record
    runs/<model>/<strategy>/seed-<s>/units.npz    per-query AP of the multilingual suite (for the bootstrap)
    summary.json, report.md, figures/*.png        written by :mod:`hf_hybrid.experiments.report`
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hf_hybrid.atomic import atomic_path, write_text
from hf_hybrid.errors import UserError
from hf_hybrid.evaluation.results import RESULTS_FILE
from hf_hybrid.experiments.config import (
    BASE,
    BM25,
    MINIATURE,
    TUNING,
    UNTRAINED,
    Context,
    ExperimentConfig,
    model_tag,
    plan_settings,
)
from hf_hybrid.experiments.scoring import evaluate_run
from hf_hybrid.experiments.variants import (
    dev_label,
    strategy_options,
    train_options,
    wise_ft_model,
    wise_label,
)
from hf_hybrid.training.files import RUN_MARKER, TRAINING_RECORD, read_training_record


def prepare(cfg: ExperimentConfig) -> Context:
    """Load the data once, pre-train the miniature if asked, and settle the languages and their levels."""
    from hf_hybrid.data import load_parallel
    from hf_hybrid.evaluation.multilingual import resolve_levels

    data = load_parallel(cfg.data)
    evaluation = load_parallel(cfg.eval_data) if cfg.eval_data else data
    if cfg.eval_split not in evaluation:
        raise UserError("eval_split", f"{cfg.eval_data or cfg.data!r} has no split {cfg.eval_split!r} (has "
                        f"{', '.join(evaluation)})", "choose an existing split")
    eval_data = evaluation[cfg.eval_split]
    if cfg.eval_groups:
        keep = set(sorted(set(eval_data["id"]))[:cfg.eval_groups])
        eval_data = eval_data.filter(lambda row: row["id"] in keep)
    languages = sorted(set(eval_data["lang"]))
    world_levels: dict[str, str] = {}
    if cfg.data.startswith("synthetic"):
        from hf_hybrid.data.local import world_from_source

        world = world_from_source(cfg.data)
        world_levels = world.resource_levels()
        train_languages = cfg.train_languages or world.codes("high")
        zero_shot = cfg.zero_shot if cfg.zero_shot is not None else world.codes("zero")
    else:
        train_languages = cfg.train_languages or sorted(set(data["train"]["lang"]))
        zero_shot = cfg.zero_shot if cfg.zero_shot is not None else sorted(set(languages) - set(train_languages))
    levels = resolve_levels(languages, world_levels or None, zero_shot)
    base_models, record = {}, None
    for model in cfg.models:
        if model == MINIATURE:
            folder = _miniature(cfg)
            from hf_hybrid.pretrain import PRETRAINING_RECORD

            record = json.loads((folder / PRETRAINING_RECORD).read_text())
            base_models[MINIATURE] = str(folder)
        else:
            base_models[model_tag(model)] = model
    return Context(cfg, base_models, eval_data, train_languages, levels, record)


def _miniature(cfg: ExperimentConfig) -> Path:
    from hf_hybrid.pretrain import PretrainConfig, pretrain

    return pretrain(PretrainConfig(world=cfg.data, sentences=cfg.mlm_sentences, steps=cfg.mlm_steps,
                                   hidden_size=cfg.mlm_hidden_size, layers=cfg.mlm_layers,
                                   vocab_size=cfg.mlm_vocab_size, max_length=cfg.max_seq_length))


def mined_data(ctx: Context, tag: str, mode: str) -> Path:
    """The training data with negatives mined by the base model (``mode``: mined or generic), once per
    experiment: cached under ``<experiment>/mined/``, keyed by the miner's settings, the data and the base model."""
    from hf_hybrid.dataset_folder import save_dataset_folder
    from hf_hybrid.mining import MineConfig
    from hf_hybrid.mining.mine import mine_dataset

    cfg = ctx.config
    mine_cfg = MineConfig(data=cfg.data, model=ctx.base_models[tag], generic=mode == "generic")
    key = json.dumps({"settings": mine_cfg.settings(), "data": cfg.data}, sort_keys=True, default=str)
    folder = cfg.folder / "mined" / f"{tag}-{mode}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if not (folder / "summary.json").exists():
        data, summary = mine_dataset(mine_cfg)
        save_dataset_folder(str(folder), data, summary)
    return folder / "parallel"


def results_file(folder: Path) -> Path:
    """A run's results: :data:`~hf_hybrid.evaluation.results.RESULTS_FILE`, or ``eval.json`` in a run written
    before the results file had one name (grids are resumed from their checkpoints across versions, and a finished
    cell must not be trained again for a file name)."""
    legacy = folder / "eval.json"
    return legacy if legacy.exists() and not (folder / RESULTS_FILE).exists() else folder / RESULTS_FILE


def run_folder(cfg: ExperimentConfig, tag: str, strategy: str, seed: int) -> Path:
    return cfg.folder / "runs" / tag / strategy / f"seed-{seed}"


def is_finished(folder: Path, fingerprint: str) -> bool:
    """A finished run of the same settings is skipped; one of other settings is an error, not silently mixed."""
    result = results_file(folder)
    if not result.exists():
        return False
    found = json.loads(result.read_text())["settings"].get("run_fingerprint")
    if found != fingerprint:
        raise UserError("name", f"{str(folder)!r} holds a run made with other settings ({found} != {fingerprint})",
                        "choose a new experiment name, or delete that folder to redo the grid")
    return True


def train_run(ctx: Context, tag: str, strategy: str, seed: int, out: Path) -> Path:
    """Fine-tune one (model, strategy, seed) with :func:`hf_hybrid.training.train`; returns the model folder."""
    from hf_hybrid.sampling import PlanConfig
    from hf_hybrid.training import TrainConfig, train

    cfg = ctx.config
    model_dir = out / "model"
    if (model_dir / TRAINING_RECORD).exists() and (model_dir / "modules.json").exists():
        return model_dir
    if model_dir.exists():  # interrupted before the model was complete (or its weights were dropped): redo it
        shutil.rmtree(model_dir)
    negatives = strategy_options(strategy).get("negatives")
    data = str(mined_data(ctx, tag, negatives)) if negatives else cfg.data
    train_cfg = TrainConfig(model=ctx.base_models[tag], data=data, output_dir=str(model_dir),
                            max_steps=cfg.max_steps, warmup_ratio=cfg.warmup_ratio, max_seq_length=cfg.max_seq_length,
                            use_negatives=cfg.use_negatives or bool(negatives), query_prompt=cfg.query_prompt,
                            passage_prompt=cfg.passage_prompt, report_to=["none"],
                            logging_steps=max(1, cfg.max_steps // 4), prefix_cache=cfg.prefix_cache,
                            **{name: getattr(cfg, name) for name in TUNING}
                            | {"learning_rate": cfg.learning_rate} | train_options(strategy))  # a row's own wins
    plan_cfg = PlanConfig(batch_size=cfg.batch_size, seed=seed, train_languages=list(ctx.train_languages),
                          **plan_settings(strategy))
    return train(train_cfg, plan_cfg)


def run_one(ctx: Context, tag: str, strategy: str, seed: int) -> Path:
    """Train and evaluate one cell of the grid (and its WiSE-FT variants); ``results.json`` is written last (it marks
    the run finished)."""
    from hf_hybrid.bm25 import language_scripts

    cfg = ctx.config
    out = run_folder(cfg, tag, strategy, seed)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if strategy in UNTRAINED:
        model_dir, training = ctx.base_models[tag] if strategy == BASE else BM25, {"steps_per_kind": {}}
    else:
        model_dir = train_run(ctx, tag, strategy, seed, out)
        training = read_training_record(model_dir)
    trained = time.perf_counter() - start
    evaluated = _base_evaluated(cfg, tag, strategy, seed) if strategy in UNTRAINED else None
    if evaluated:
        result, units = read_run(evaluated)
        suites, length = result["suites"], result["settings"].get("max_seq_length")
    else:
        suites, units, length = evaluate_run(ctx, model_dir)
    settings = {"run_fingerprint": cfg.run_fingerprint(), "model": tag, "base_model": ctx.base_models[tag],
                "strategy": strategy, "seed": seed, "max_seq_length": length,  # scored at (training's: cfg's)
                "train_languages": ctx.train_languages,
                "scripts": language_scripts(ctx.eval_data),
                "train_wall_s": round(trained, 2), "eval_wall_s": round(time.perf_counter() - start - trained, 2),
                "training": training}
    base_model = BM25 if strategy == BM25 else ctx.base_models[tag]
    if strategy not in UNTRAINED and cfg.wise_ft:  # before the run's own results.json: that one marks the cell finished
        _wise_rows(ctx, tag, strategy, seed, model_dir, {1.0: (suites, units)}, settings)
    _write_run(out, base_model, suites, units, settings)
    if not cfg.keep_models and strategy not in UNTRAINED:  # never the base model itself
        _drop_weights(model_dir)
    return out


def _wise_rows(ctx: Context, tag: str, strategy: str, seed: int, model_dir: Path, scored: dict, settings: dict):
    """The WiSE-FT rows of one fine-tuned run (``scored``: α 1, the run's own suites and units), and with
    ``wise_dev`` the row of the α picked on the dev set."""
    from hf_hybrid.experiments.dev_merge import base_dev_score, choose_alpha, dev_score, dev_set
    from hf_hybrid.models import load_model

    cfg = ctx.config
    tset = dev_set(ctx) if cfg.wise_dev else None
    dev = {1.0: dev_score(ctx, model_dir, tset)} if tset else {}
    base = load_model(ctx.base_models[tag]).state_dict()
    for alpha in cfg.wise_ft:
        begin = time.perf_counter()
        model = wise_ft_model(base, model_dir, alpha)
        suites, units, length = evaluate_run(ctx, model)
        if tset:
            dev[alpha] = dev_score(ctx, model, tset)
        scored[alpha] = (suites, units)
        _write_run(run_folder(cfg, tag, wise_label(strategy, alpha), seed), ctx.base_models[tag], suites, units,
                   settings | {"strategy": wise_label(strategy, alpha), "wise_ft": alpha, "max_seq_length": length,
                               "train_wall_s": 0.0,  # no training: counted once, in the run's row
                               "eval_wall_s": round(time.perf_counter() - begin, 2)})
    if tset:
        base_score = base_dev_score(ctx, tag, tset)
        alpha = choose_alpha(base_score, dev, cfg.wise_dev_tolerance)
        label = dev_label(strategy)
        _write_run(run_folder(cfg, tag, label, seed), ctx.base_models[tag], *scored[alpha],
                   settings | {"strategy": label, "wise_ft": alpha, "train_wall_s": 0.0, "eval_wall_s": 0.0,
                               "wise_dev": {"set": tset.name, "base": base_score, "tolerance": cfg.wise_dev_tolerance,
                                            "scores": {f"{a:g}": s for a, s in sorted(dev.items())}}})


def _write_run(out: Path, base_model: str, suites: list[dict], units: dict, settings: dict) -> None:
    from hf_hybrid.evaluation.report import write_results

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "units.npz", suffix=".npz") as tmp:
        np.savez_compressed(tmp, **units)
    write_results(out / RESULTS_FILE, base_model, suites, settings)


def _base_evaluated(cfg: ExperimentConfig, tag: str, strategy: str, seed: int) -> Path | None:
    """A finished run of an untrained row (``base``, ``bm25``) of another seed: nothing is trained, so its
    evaluation does not depend on the seed, and one evaluation serves every seed (with XLM-R and MTEB suites that
    is minutes each)."""
    for other in cfg.seeds:
        folder = run_folder(cfg, tag, strategy, other)
        if other != seed and is_finished(folder, cfg.run_fingerprint()):
            return folder
    return None


def read_run(folder: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """A finished run's results (``results.json``) and per-query units of its parallel suite (``units.npz``)."""
    with np.load(folder / "units.npz") as units:
        return json.loads(results_file(folder).read_text()), {k: units[k] for k in units.files}


def _drop_weights(model_dir: Path) -> None:
    """Delete the fine-tuned weights but keep the records (the grid's checkpoint is ``results.json``)."""
    for item in model_dir.iterdir():
        if item.name not in (TRAINING_RECORD, RUN_MARKER):
            shutil.rmtree(item) if item.is_dir() else item.unlink()


def run_grid(cfg: ExperimentConfig, log=print) -> dict[str, int]:
    """Run every unfinished cell of the grid; returns how many runs were trained and skipped."""
    import yaml

    cfg.validate()
    ctx = prepare(cfg)
    cfg.folder.mkdir(parents=True, exist_ok=True)
    write_text(cfg.folder / "config.yaml", yaml.safe_dump(asdict(cfg), sort_keys=False, allow_unicode=True))
    if ctx.pretrain_record:
        write_text(cfg.folder / "pretraining.json", json.dumps(ctx.pretrain_record, indent=2))
    fingerprint = cfg.run_fingerprint()
    counts = {"trained": 0, "skipped": 0}
    # Seed by seed: a grid stopped part-way (it is checkpointed and may span sittings) has every strategy for the
    # seeds it finished, so its partial report already compares like with like.
    cells = [(tag, s, seed) for tag in ctx.base_models for seed in cfg.seeds for s in cfg.strategies]
    for i, (tag, strategy, seed) in enumerate(cells, 1):
        variants = cfg.variants(strategy)
        if all(is_finished(run_folder(cfg, tag, s, seed), fingerprint) for s in [strategy, *variants]):
            counts["skipped"] += 1
            log(f"[{i}/{len(cells)}] {tag} {strategy} seed {seed}: finished earlier, skipped")
            continue
        start = time.perf_counter()
        run_one(ctx, tag, strategy, seed)
        counts["trained"] += 1
        log(f"[{i}/{len(cells)}] {tag} {strategy} seed {seed}: done in {time.perf_counter() - start:.1f} s")
    return counts
