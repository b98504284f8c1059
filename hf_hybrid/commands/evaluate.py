"""``python -m hf_hybrid.evaluate`` / ``hf-hybrid evaluate``: measure a model and write results, table, plots.

Everything is computed before anything is written, so a bad input (one-line error, exit code 2) leaves no
partial results behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hf_hybrid.backends import BACKEND_SPECS
from hf_hybrid.commands.arguments import ArgumentParser, flag
from hf_hybrid.errors import UserError, cli_entry, read_utf8
from hf_hybrid.evaluation.results import RESULTS_FILE
from hf_hybrid.evaluation.suites import SUITES, SuiteOptions, load_suite
from hf_hybrid.hub_names import looks_like_path
from hf_hybrid.training.files import read_training_record


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="hf-hybrid evaluate", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, type=flag(kind="model"),
                   help="SentenceTransformer folder or Hub id, resolved as `train` does (see `hf-hybrid models`), "
                        "or bm25: the lexical baseline (bm25s, tokenized per language)")
    p.add_argument("--backend", default="torch", type=flag(choices=BACKEND_SPECS),
                   help="torch | onnx | onnx-int8 | onnx-q8 | onnx-q4 | openvino | openvino-int8: run the files "
                        "`hf-hybrid export` wrote into the model (faster on CPU)")
    p.add_argument("--dry_run", action="store_true",
                   help="check the model, data, suites and MTEB/BEIR names and the output folder; evaluate nothing")
    p.add_argument("--data", nargs="*", default=[], type=flag(kind="source"),
                   help="parallel-schema data: 'sample', a local path, or a Hub id")
    p.add_argument("--split", default="test", type=flag(kind="text"), help="split of --data (default: test)")
    p.add_argument("--languages", nargs="*", type=flag(kind="text"),
                   help="restrict multilingual and translation suites to these languages")
    p.add_argument("--zero-shot", nargs="*", default=None, type=flag(kind="text"),
                   help="zero-shot languages (default: held_out_languages of the model's hf_hybrid_training.json)")
    p.add_argument("--resource-levels", type=flag(kind="text"),
                   help="JSON file or string mapping language → high|low (synthetic codes)")
    p.add_argument("--suite", nargs="*", default=[], choices=sorted(SUITES),
                   help="named suites (hf_hybrid.evaluation.suites.SUITES), each from the real release by default")
    p.add_argument("--with-context", action="store_true", help="append the paragraph to XQuAD-R/MLQA-R sentences")
    add_suite_flags(p)
    p.add_argument("--mteb", nargs="*", default=[], type=flag(kind="text"), help="MTEB task or benchmark names")
    p.add_argument("--beir", nargs="*", default=[], type=flag(kind="text"), help="BEIR folders or dataset names")
    p.add_argument("--beir-split", default="test", type=flag(kind="text"))
    p.add_argument("--beir-queries", type=flag(kind="file"),
                   help="queries.jsonl in another language for cross-lingual BEIR")
    p.add_argument("--batch-size", type=flag(int, range="[1, inf)"), default=64)
    p.add_argument("--cache-dir", type=flag(kind="output"),
                   help="on-disk embedding cache (keyed by model and text hash)")
    p.add_argument("--no-prefix-cache", action="store_true",
                   help="recompute the frozen layers of a model trained with freeze_layers instead of reading their "
                        "stored states (hf_hybrid.frozen_prefix)")
    p.add_argument("--prefix-cache-dir", type=flag(kind="output"),
                   help="folder of the frozen-prefix cache (default: $HF_HYBRID_PREFIX_CACHE, else "
                        "~/.cache/hf_hybrid/frozen_prefix)")
    p.add_argument("--against-base", action="store_true",
                   help="also score the model's base (base_model of its training record) on the translation suites "
                        "(--suite translation_howto translation_cldr), so results and card state what fine-tuning "
                        "changed in translation retrieval, the skill a multilingual base is chosen for")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--output", required=True, type=flag(kind="output"),
                   help="folder for results.json, results.md and plots/")
    return p


def _stem(suite) -> str:
    return suite.name.replace("_", "-")


def add_suite_flags(p: argparse.ArgumentParser) -> None:
    """Per suite of the registry: ``--<name>-dir`` / ``-split`` (and ``-corpus-dir``); a cross-lingual suite also
    takes ``--<name> LANG ...`` to pick languages. Adding a suite to SUITES adds its flags; nothing here changes."""
    for suite in SUITES.values():
        stem = _stem(suite)
        p.add_argument(f"--{stem}-dir", type=flag(kind="folder"),
                       help=f"local copy of {suite.name} ({suite.source})")
        if suite.splits:
            p.add_argument(f"--{stem}-split", choices=suite.splits, help=f"split of {suite.name} (default: {suite.splits[0]})")
        if suite.has_corpus:
            p.add_argument(f"--{stem}-corpus-dir", type=flag(kind="folder"),
                           help=f"local copy of {suite.name}'s passages")
        if suite.kind == "crosslingual":
            p.add_argument(f"--{stem}", nargs="*", default=[], type=flag(kind="text"),
                           help=f"{suite.name} languages ({' '.join(suite.languages)}); implies --suite {suite.name}")


def suite_options(args, suite) -> SuiteOptions:
    """This run's options for one suite, read from its generated flags."""
    attr = suite.name
    languages = (getattr(args, attr, None) if suite.kind == "crosslingual"
                 else args.languages if suite.kind == "translation" else None)  # a translation set is languages × texts
    return SuiteOptions(root=getattr(args, f"{attr}_dir"), corpus_root=getattr(args, f"{attr}_corpus_dir", None),
                        split=getattr(args, f"{attr}_split", None), languages=tuple(languages) if languages else None,
                        with_context=args.with_context)


def selected_suites(args) -> list[str]:
    """``--suite`` names plus the cross-lingual suites given languages, in registry order."""
    return [name for name, suite in SUITES.items()
            if name in args.suite or (suite.kind == "crosslingual" and getattr(args, name, None))]


def check_output(value: str) -> Path:
    """``--output`` must be a folder we can write, checked before any work is done."""
    from hf_hybrid.atomic import output_folder_problem

    if problem := output_folder_problem(value):
        raise UserError("--output", problem, "give a folder path you can write to (created if missing) for "
                        "results.json, results.md and plots/")
    return Path(value).expanduser()


def training_record(model_path: str) -> dict:
    """The model folder's hf_hybrid_training.json, or {} for a model that hf-hybrid did not train."""
    return read_training_record(model_path, required=False) or {}


def base_model_of(model_path: str) -> str:
    """The base a model was fine-tuned from (its training record's ``base_model``), for ``--against-base``."""
    base = training_record(model_path).get("base_model")
    if not base:
        raise UserError("--against-base", f"{model_path!r} has no training record naming its base model",
                        "use it on a model trained by `hf-hybrid train`")
    return base


def score_base(args, model, translation: list, depth: int, **evaluate) -> dict:
    """``--against-base``: the model's base on the same translation sets, sharing its frozen prefix, read at the
    model's own length (a model saved at a short training length would otherwise lose to its base on long texts
    for truncation alone: training.run.inference_length)."""
    from hf_hybrid.evaluation.suites import evaluate_data
    from hf_hybrid.frozen_prefix import served_prefix
    from hf_hybrid.models import load_model

    base_model = base_model_of(args.model)
    encoder = load_model(base_model)
    encoder.max_seq_length = model.max_seq_length
    with served_prefix(encoder, depth, args.prefix_cache_dir):
        suites = [evaluate_data(encoder, data, **evaluate) for data in translation]
    return {"model": base_model, "max_seq_length": model.max_seq_length, "suites": suites}


def zero_shot_languages(model_path: str, given: list[str] | None) -> list[str]:
    """``--zero-shot`` if given, else ``held_out_languages`` from the model folder's hf_hybrid_training.json."""
    if given is not None:
        return given
    return list(training_record(model_path).get("held_out_languages", []))


def trained_layers(model_path: str) -> int:
    """How many top layers training changed (``freeze_layers``, also with LoRA, which then adapts only those),
    from the training record; 0 when unknown or when every layer trained (plain LoRA too): then there is no frozen
    prefix to read back."""
    tuning = training_record(model_path).get("fine_tuning") or {}
    return int(tuning.get("freeze_layers") or 0)


def parse_levels(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    text = read_utf8(value) if Path(value).is_file() else value
    try:
        levels = json.loads(text)
    except json.JSONDecodeError:
        levels = None
    if not isinstance(levels, dict):
        raise UserError("--resource-levels", f"{value!r} is not a JSON object",
                        'give e.g. \'{"qaa": "high"}\'')
    bad = {k: v for k, v in levels.items() if v not in ("high", "low", "zero-shot")}
    if bad:
        raise UserError("--resource-levels", f"levels {bad} unknown", "use high, low or zero-shot")
    return levels


def load_parallel(spec: str, split: str):
    """'sample', 'synthetic[:opts]', a registered source, a local path or a Hub id, through the data stage's
    own loader (which validates the parallel schema); returns the ``split``."""
    from hf_hybrid.data import load_parallel as load_source

    if looks_like_path(spec) and not Path(spec).expanduser().exists():
        raise UserError("--data", f"file {spec!r} not found", "give an existing file or folder, 'sample', or a Hub id")
    data = load_source(spec, split=split)
    if split not in data:
        raise UserError("--split", f"{split!r} not in {spec!r} (has {list(data)})", "pick an existing split")
    return data[split]


def load_inputs(args) -> tuple[list, list]:
    """Every dataset the run needs, loaded and checked before the model, so bad input fails fast and cheap.

    Returns (multilingual pools, retrieval collections).
    """
    from hf_hybrid.evaluation import load_beir_folder, pool_from_parallel
    from hf_hybrid.evaluation.beir import download_beir
    from hf_hybrid.evaluation.multilingual import MultilingualPool

    pools = [pool_from_parallel(load_parallel(spec, args.split), split=args.split,
                                name=Path(spec).name if Path(spec).exists() else spec) for spec in args.data]
    collections = []
    for name in selected_suites(args):
        for data in load_suite(name, suite_options(args, SUITES[name])):
            (pools if isinstance(data, MultilingualPool) else collections).append(data)
    if args.languages:
        pools = [pool.select_languages(list(args.languages)) for pool in pools]
    for target in args.beir:
        path = Path(target)
        if not path.exists() and "/" not in target:
            path = download_beir(target, Path(args.cache_dir or Path.home() / ".cache" / "hf_hybrid") / "beir")
        collections.append(load_beir_folder(path, split=args.beir_split, queries_file=args.beir_queries))
    return pools, collections


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from hf_hybrid.evaluation import run_mteb
    from hf_hybrid.evaluation.suites import evaluate_data
    from hf_hybrid.frozen_prefix import prefix_depth, served_prefix
    from hf_hybrid.models import load_model

    if args.dry_run:
        from hf_hybrid.check import check_evaluate

        report = check_evaluate(args)
        print(report.render())
        return report.exit_code
    mteb_tasks = _checked_request(args)
    levels = parse_levels(args.resource_levels)
    pools, collections = load_inputs(args)
    model = load_model(args.model, backend=args.backend)
    zero_shot = zero_shot_languages(args.model, args.zero_shot)
    common = {"batch_size": args.batch_size, "cache_dir": args.cache_dir}
    depth = 0 if args.no_prefix_cache or args.backend != "torch" else prefix_depth(model, trained_layers(args.model))
    with served_prefix(model, depth, args.prefix_cache_dir):
        suites = [evaluate_data(model, data, resource_levels=levels, zero_shot=zero_shot, **common)
                  for data in pools + collections]
        if mteb_tasks:
            suites += run_mteb(model, mteb_tasks, batch_size=args.batch_size)
    base = None
    if args.against_base:
        scored = zip(pools + collections, suites, strict=False)  # the MTEB suites after them have no data here
        base = score_base(args, model, [data for data, suite in scored if suite["type"] == "translation"], depth,
                          resource_levels=levels, zero_shot=zero_shot, **common)
    _write(args, model, suites, base, zero_shot)
    print(f"wrote {Path(args.output) / 'results.json'}")
    return 0


def _checked_request(args) -> list:
    """Everything the request can be refused for, before a model is loaded; returns the MTEB tasks it names."""
    from hf_hybrid.evaluation.mteb_runner import resolve_tasks

    if not (args.data or selected_suites(args) or args.mteb or args.beir):
        raise UserError("evaluate", "nothing to evaluate", "add --data, --suite, --mteb or --beir")
    check_output(args.output)
    if args.against_base:
        base_model_of(args.model)  # a model without a recorded base fails now, not after the evaluation
        if not any(SUITES[name].kind == "translation" for name in selected_suites(args)):
            raise UserError("--against-base", "no translation suite selected",
                            "add --suite translation_howto translation_cldr")
    if args.model == "bm25" and args.mteb:
        raise UserError("--mteb", f"{args.mteb} with --model bm25",
                        "MTEB encodes texts; evaluate bm25 with --data, --suite or --beir")
    return resolve_tasks(args.mteb) if args.mteb else []


def _write(args, model, suites: list[dict], base: dict | None, zero_shot: list[str]) -> None:
    """``results.json`` (written last: its presence means done) and the report or, with ``--no_plots``, its table."""
    from hf_hybrid.evaluation import write_evaluation_report

    settings = {k: v for k, v in vars(args).items() if k != "output"}
    settings["zero_shot"] = zero_shot
    if args.no_plots:
        from hf_hybrid.atomic import write_text
        from hf_hybrid.evaluation.report import markdown_table, results_for, results_json

        results = results_for(model, suites, settings, base=base)
        write_text(Path(args.output) / "results.md", markdown_table(results))
        write_text(Path(args.output) / RESULTS_FILE, results_json(results))
    else:
        write_evaluation_report(args.output, model, suites, settings, base=base)


if __name__ == "__main__":
    sys.exit(main())
