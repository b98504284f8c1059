"""Why WiSE-FT won back so little on the how-to translations (issue 29 item 6), measured: writes docs/truncation.md.

The e5-real grid (and the first forgetting runs) scored the base at its own 512 tokens and every trained and WiSE-FT
model at the training's ``max_seq_length`` (96), because a trained model was saved with the length it was trained
at. This script scores one trained model, its base and its WiSE-FT averages at both lengths on the suites the grid
reads, so the gap the grid reported (trained at 96 − base at 512) splits into what truncation costs (base at 96 −
base at 512) and what fine-tuning changed (trained − base, both at one length). It also reports:

* how long the suites' texts are (tokens, with the model's prompts), and the share cut at the training length;
* the translation suites with the searched side encoded as documents (``passage:``) instead of the E5 rule for
  bitext (both sides ``query:``), the encoding-role question of item 6;
* that every WiSE-FT model is (1−α)·base + α·fine-tuned, weight by weight (largest deviation from the formula).

    .venv/bin/python scripts/truncation_report.py --model hf_hybrid_out/quickstart/model
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from hf_hybrid.atomic import write_text
from hf_hybrid.errors import cli_entry
from hf_hybrid.tables import md_table

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("sample", "howto", "translation_howto", "translation_cldr")
METRICS = {"multilingual": ("cross.map", "multi.map"), "translation": ("cross.map", "en_to_low.map")}


def load_suites(names: list[str], languages: list[str] | None = None) -> dict:
    """The grid's suites: the sample's test split (in-domain), how-to (out of domain), both translation suites;
    ``languages`` keeps only those sides of the translation suites (a quick run)."""
    from hf_hybrid.data import load_parallel
    from hf_hybrid.evaluation.multilingual import pool_from_parallel
    from hf_hybrid.evaluation.suites import load_suite

    suites = {}
    for name in names:
        if name == "sample":
            suites[name] = pool_from_parallel(load_parallel("sample")["test"], name="sample", split="test")
        else:
            (suites[name],) = load_suite(name)
        if languages and hasattr(suites[name], "texts"):
            from hf_hybrid.evaluation.translation import TranslationSet

            data = suites[name]
            suites[name] = TranslationSet(data.name, data.dataset, {
                key: {lang: text for lang, text in by_lang.items() if lang in languages}
                for key, by_lang in data.texts.items()})
    return suites


def suite_texts(data) -> list[str]:
    if hasattr(data, "texts"):  # a translation set
        return [t for by_lang in data.texts.values() for t in by_lang.values()]
    return list(getattr(data, "cand_texts", []))  # a pool: its passages


def token_lengths(model, suites: dict, train_length: int) -> list[list]:
    """Per suite: the token count of its texts with the document prompt (the longer side), p50 / p90 / max, and the
    share longer than the training length."""
    from hf_hybrid.prompts import prompt_text

    prompt = prompt_text(model, "document") or ""
    rows = []
    for name, data in suites.items():
        texts = suite_texts(data)
        if not texts:
            continue
        lengths = np.array([len(model.tokenizer(prompt + text)["input_ids"]) for text in texts])
        rows.append([name, len(texts), f"{np.percentile(lengths, 50):.0f}", f"{np.percentile(lengths, 90):.0f}",
                     int(lengths.max()), f"{(lengths > train_length).mean():.1%}"])
    return rows


def score(model, suites: dict, length: int, depth: int, prefix_root: Path, held_out: list[str],
          candidate_role: str = "query") -> dict:
    """{suite: {metric: value}} of ``model`` read at ``length`` tokens, its top layers run on the shared prefix."""
    from hf_hybrid.evaluation.embeddings import shared_embeddings
    from hf_hybrid.evaluation.suites import evaluate_data
    from hf_hybrid.evaluation.translation import TranslationSet, evaluate_translation
    from hf_hybrid.frozen_prefix import served_prefix

    model.max_seq_length = length
    out = {}
    with shared_embeddings(), served_prefix(model, depth, prefix_root):
        for name, data in suites.items():
            if candidate_role != "query":
                if not isinstance(data, TranslationSet):
                    continue
                result = evaluate_translation(model, data, zero_shot=held_out, candidate_role=candidate_role)
            else:
                result = evaluate_data(model, data, zero_shot=held_out, show_progress_bar=False)
            out[name] = {"type": result["type"], **result["metrics"]}
    return out


def wise_deviation(base: dict, tuned: dict, averaged: dict, alpha: float) -> tuple[float, int]:
    """Largest |averaged − ((1−α)·base + α·tuned)| over every floating weight, and how many tensors differ between
    base and fine-tuned (what WiSE-FT can move at all)."""
    worst, moved = 0.0, 0
    for name, value in averaged.items():
        if value.is_floating_point():
            expected = (1 - alpha) * base[name] + alpha * tuned[name]
            worst = max(worst, float((value - expected).abs().max()))
            moved += int(not torch.equal(base[name], tuned[name]))
    return worst, moved


def fmt(x) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.4f}"


@cli_entry  # bad input (a folder without a training record, ...) is one line and exit code 2
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder written by hf-hybrid train or the quickstart")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    parser.add_argument("--suites", nargs="+", default=list(SUITES), choices=SUITES)
    parser.add_argument("--languages", nargs="+", help="keep only these languages of the translation suites")
    parser.add_argument("--output", default=str(ROOT / "docs" / "truncation.md"))
    args = parser.parse_args(argv)
    args.command = " ".join(sys.argv[1:] if argv is None else argv)  # for the page's generated-by line

    from hf_hybrid.experiments.variants import wise_ft_model
    from hf_hybrid.frozen_prefix import prefix_depth
    from hf_hybrid.models import load_model
    from hf_hybrid.training.files import read_training_record

    started = time.perf_counter()
    record = read_training_record(args.model)
    train_length = record["max_seq_length"]
    held_out = record.get("held_out_languages", [])
    trained_layers = (record.get("fine_tuning") or {}).get("freeze_layers") or 0
    base = load_model(record["base_model"])
    full_length = base.max_seq_length
    lengths = [train_length, full_length]
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    tuned_state = load_model(args.model).state_dict()
    models = {"base": base, "fine-tuned": load_model(args.model)}
    deviations = {}
    for alpha in args.alphas:
        models[f"WiSE-FT α={alpha:g}"] = wise_ft_model(base_state, args.model, alpha)
        deviations[alpha] = wise_deviation(base_state, tuned_state, models[f"WiSE-FT α={alpha:g}"].state_dict(),
                                           alpha)
    depth = prefix_depth(base, trained_layers)
    suites = load_suites(args.suites, args.languages)
    with tempfile.TemporaryDirectory(prefix="truncation-prefix-") as prefix_root:
        scores = {(name, length): score(model, suites, length, depth, Path(prefix_root), held_out)
                  for length in lengths for name, model in models.items()}
        roles = {name: score(models[name], suites, full_length, depth, Path(prefix_root), held_out, "passage")
                 for name in ("base", "fine-tuned")}

    text = render(args, record, base, suites, train_length, full_length, lengths, models, scores, roles, deviations,
                  time.perf_counter() - started)
    write_text(Path(args.output), text)
    print(text)
    return 0


def render(args, record, base, suites, train_length, full_length, lengths, models, scores, roles, deviations,
           wall) -> str:
    lines = ["# Truncation, not forgetting: why WiSE-FT won back little on the how-to translations", "",
             f"Generated by `.venv/bin/python scripts/truncation_report.py {args.command}` "
             f"({wall:.0f} s on this machine). Model: `{args.model}`, fine-tuned from `{record['base_model']}` "
             f"({record.get('steps', record.get('max_steps'))} steps, lr {record['learning_rate']:g}, top "
             f"{(record.get('fine_tuning') or {}).get('freeze_layers')} layers, trained at {train_length} tokens, "
             f"seed {record.get('seed')}; held out: {', '.join(record.get('held_out_languages', [])) or '–'}).", "",
             "## How long the texts are", "",
             f"Tokens per text with the document prompt; the share is the part cut at the training's {train_length}.",
             "", md_table(["suite", "texts", "p50", "p90", "max", f"> {train_length}"],
                          token_lengths(base, suites, train_length)), ""]
    lines += ["## Every model at both lengths", "",
              f"Each model read the texts cut at {lengths[0]} tokens (how the grid scored trained rows until "
              f"issue 29) and at {lengths[1]} (the base's own length, how the grid scored the base, and how "
              "trained models are saved and scored since).", ""]
    rows = []
    for suite, data in scores[("base", full_length)].items():
        for metric in METRICS[data["type"]]:
            row = [suite, metric]
            for length in lengths:
                row += [fmt(scores[(name, length)][suite].get(metric)) for name in models]
            rows.append(row)
    head = ["suite", "metric"] + [f"{name} @{length}" for length in lengths for name in models]
    lines += [md_table(head, rows), ""]
    lines += ["## The gap the grid reported, split", "",
              f"reported = fine-tuned @{train_length} − base @{full_length}; truncation = base @{train_length} − "
              f"base @{full_length}; fine-tuning = fine-tuned − base, both at {full_length} (both at "
              f"{train_length} in the last column).", ""]
    rows = []
    for suite, data in scores[("base", full_length)].items():
        for metric in METRICS[data["type"]]:
            value = {(n, length): scores[(n, length)][suite].get(metric) for n in ("base", "fine-tuned")
                     for length in lengths}
            rows.append([suite, metric, f"{value[('fine-tuned', train_length)] - value[('base', full_length)]:+.4f}",
                         f"{value[('base', train_length)] - value[('base', full_length)]:+.4f}",
                         f"{value[('fine-tuned', full_length)] - value[('base', full_length)]:+.4f}",
                         f"{value[('fine-tuned', train_length)] - value[('base', train_length)]:+.4f}"])
    lines += [md_table(["suite", "metric", "reported", "truncation", f"fine-tuning @{full_length}",
                        f"fine-tuning @{train_length}"], rows), ""]
    lines += ["## The encoding role of the translation suites", "",
              f"At {full_length} tokens: both sides in the query role (the E5 rule for bitext, what the suites do) "
              "against the searched side in the document role.", ""]
    rows = []
    for suite in roles["base"]:
        for metric in METRICS["translation"]:
            both = [scores[(n, full_length)][suite].get(metric) for n in ("base", "fine-tuned")]
            docs = [roles[n][suite].get(metric) for n in ("base", "fine-tuned")]
            rows.append([suite, metric, fmt(both[0]), fmt(both[1]), f"{both[1] - both[0]:+.4f}", fmt(docs[0]),
                         fmt(docs[1]), f"{docs[1] - docs[0]:+.4f}"])
    lines += [md_table(["suite", "metric", "base, query/query", "fine-tuned, query/query", "change",
                        "base, query/document", "fine-tuned, query/document", "change"], rows), ""]
    lines += ["## The WiSE-FT models are the weight averages", "",
              md_table(["α", "largest abs(weight − ((1−α)·base + α·fine-tuned))", "tensors fine-tuning moved"],
                       [[f"{a:g}", f"{d:.2e}", n] for a, (d, n) in deviations.items()]), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
