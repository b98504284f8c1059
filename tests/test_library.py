"""hf-hybrid as a library: ``from hf_hybrid import …`` in a plain sentence-transformers script. README's script runs
in one process and in two gloo processes, on the batches of ``hf-hybrid train``, one kind of batch per step."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = "synthetic:train_groups=200,dev_groups=20,test_groups=40"  # as configs/quickstart-test.yaml
HELD_OUT = ["qag", "qah"]
README_MODEL = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"  # the test trains all-MiniLM-L6-v2

# Runs a script with every SentenceTransformerTrainer tracing its batches (the collator wrapper that
# `hf-hybrid train --trace_batches` uses), one file per process.
TRACED = """
import os, runpy, sys
from pathlib import Path
from sentence_transformers import SentenceTransformerTrainer
from hf_hybrid.training.trainer import TracingCollator

init = SentenceTransformerTrainer.__init__

def traced_init(self, *args, **kwargs):
    init(self, *args, **kwargs)
    trace = Path(os.environ["TRACE_DIR"]) / f"batches_rank{self.accelerator.process_index}.jsonl"
    self.data_collator = TracingCollator(self.data_collator, lambda: trace)

SentenceTransformerTrainer.__init__ = traced_init
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def env(**extra):
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1", **extra}


def readme_script() -> str:
    section = (ROOT / "README.md").read_text().split("## Use it from your own training script", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


@pytest.fixture(scope="module")
def train():
    from hf_hybrid import load_parallel

    return load_parallel(DATA)["train"]


def test_import_is_cheap_and_every_public_name_resolves():
    probe = "import sys, hf_hybrid; print([m for m in ('torch', 'sentence_transformers', 'datasets') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env(), check=True)
    assert out.stdout.strip() == "[]"
    import hf_hybrid

    assert {"HybridBatches", "MultilingualRetrievalEvaluator", "load_parallel"} <= set(hf_hybrid.__all__)
    assert all(getattr(hf_hybrid, name) is not None for name in hf_hybrid.__all__)
    assert set(hf_hybrid.__all__) <= set(dir(hf_hybrid))
    doc = hf_hybrid.HybridBatches.__doc__
    assert "Args:" in doc and "Example:" in doc and "SentenceTransformerTrainer(" in doc
    with pytest.raises(AttributeError):
        hf_hybrid.NoSuchThing  # noqa: B018


def test_readme_script_is_short_and_uses_only_the_public_api():
    script = readme_script()
    assert len(script.strip().splitlines()) <= 30
    assert re.findall(r"^from hf_hybrid[.\w]* import .*$", script, flags=re.M) == [
        "from hf_hybrid import HybridBatches, MultilingualRetrievalEvaluator, load_parallel"]
    assert script.count(README_MODEL) == 1


def test_train_dataset_holds_only_the_loss_columns_and_is_memory_mapped(tmp_path, train):
    from datasets.table import MemoryMappedTable

    from hf_hybrid import HybridBatches
    from hf_hybrid.plan_rows import materialize

    steps = 100_000  # 800,000 rows: 6.4 MB of row numbers on disk, no text until a row is read
    batches = HybridBatches(train, max_steps=steps, batch_size=8, exclude_languages=HELD_OUT)
    dataset = batches.train_dataset(tmp_path)
    assert len(dataset) == steps * 8 and isinstance(dataset.data, MemoryMappedTable)
    assert (tmp_path / "rank0" / "rows.arrow").stat().st_size < steps * 8 * 8 + 4096
    for step in (0, steps - 1):
        rows = dataset[step * 8:(step + 1) * 8]
        assert set(rows) == {"anchor", "positive", "negative"}  # not batch, kind, query_lang, passage_lang
        plan = materialize(train, batches.plan, step, step + 1)
        assert rows == {c: plan[c] for c in rows}
    assert HybridBatches(train, max_steps=2, batch_size=8, use_negatives=False).columns == ["anchor", "positive"]


def test_a_filtered_dataset_is_planned_on_its_own_rows(tmp_path, train):
    from hf_hybrid import HybridBatches

    kept = train.filter(lambda lang: lang not in HELD_OUT, input_columns="lang")
    languages = {text: lang for text, lang in zip(train["query"], train["lang"], strict=True)}
    batches = HybridBatches(kept, max_steps=20, batch_size=8, strategy="mono")
    assert {languages[a] for a in batches.train_dataset(tmp_path)[:]["anchor"]}.isdisjoint(HELD_OUT)


def test_training_arguments_carry_the_plan_and_refuse_what_breaks_it(tmp_path, train, minilm_path):
    from sentence_transformers import SentenceTransformer

    from hf_hybrid import HybridBatches, PlanBatchSampler
    from hf_hybrid.errors import UserError

    batches = HybridBatches(train, max_steps=6, batch_size=8, exclude_languages=HELD_OUT)
    args = batches.training_arguments(tmp_path, learning_rate=1e-4)
    assert (args.max_steps, args.per_device_train_batch_size, args.dataloader_drop_last) == (6, 8, True)
    assert args.accelerator_config.split_batches and args.seed == args.data_seed == 42 and args.learning_rate == 1e-4
    sampler = args.batch_sampler(batches.train_dataset(tmp_path / "feed"), batch_size=4, drop_last=False)
    assert isinstance(sampler, PlanBatchSampler) and list(sampler)[1] == list(range(8, 16))  # global batches
    for bad in ({"per_device_train_batch_size": 4}, {"max_steps": 3}, {"batch_sampler": "no_duplicates"},
                {"accelerator_config": {"split_batches": False}}, {"gradient_accumulation_steps": 2}):
        with pytest.raises(UserError, match=next(iter(bad))):
            batches.training_arguments(tmp_path, **bad)
    translation = HybridBatches(train, max_steps=6, batch_size=8, exclude_languages=HELD_OUT, beta=0.5)
    prompts = translation.training_arguments(tmp_path, prompts={"anchor": "query: ", "positive": "passage: "}).prompts
    assert prompts["translation"] == {"anchor": "query: ", "positive": "query: ", "negative": "query: "}
    assert prompts["mono"] == {"anchor": "query: ", "positive": "passage: "}
    with pytest.raises(TypeError, match="alpah"):
        HybridBatches(train, max_steps=6, alpah=0.5)
    model = SentenceTransformer(minilm_path)
    loss = batches.loss(model, scale=30.0)
    assert type(loss).__name__ == "MultipleNegativesRankingLoss" and loss.gather_across_devices and loss.scale == 30.0


@pytest.mark.slow
def test_the_docstring_example_runs(tmp_path, monkeypatch, minilm_path):
    import hf_hybrid

    example = re.search(r"Example:\n\s+::\n(.*?)\n\s+Attributes:", hf_hybrid.HybridBatches.__doc__, flags=re.S).group(1)
    code = textwrap.dedent(example).replace(README_MODEL, minilm_path)
    assert "max_steps=100" in code and "batch_size=16" in code
    monkeypatch.chdir(tmp_path)  # one step of 4 rows: a step of 16 sample passages takes ~10 s on 2 CPU cores
    exec(compile(code.replace("max_steps=100", "max_steps=1").replace("batch_size=16", "batch_size=4"),
                 "HybridBatches example", "exec"), {})
    assert (tmp_path / "models" / "hybrid" / "checkpoint-1").is_dir()


def read_trace(folder: Path, rank: int) -> list[dict]:
    return [json.loads(line) for line in (folder / f"batches_rank{rank}.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_readme_script_trains_on_the_batches_of_hf_hybrid_train_in_one_and_two_processes(tmp_path, train,
                                                                                         minilm_path):
    script = tmp_path / "train.py"
    script.write_text(readme_script().replace(README_MODEL, minilm_path))
    traced = tmp_path / "traced.py"
    traced.write_text(TRACED)
    runs = {name: tmp_path / name for name in ("one", "two")}
    for folder in runs.values():
        folder.mkdir()
    cli = subprocess.Popen([sys.executable, "-m", "hf_hybrid.train", "--config", str(ROOT / "configs" /
                            "quickstart-test.yaml"), "--max_steps", "4", "--output_dir", str(tmp_path / "cli"),
                            "--trace_batches"], env=env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    one = subprocess.run([sys.executable, str(traced), str(script)], env=env(TRACE_DIR=str(runs["one"])),
                         cwd=runs["one"], capture_output=True, text=True, timeout=600)
    cli_err = cli.communicate(timeout=600)[1]
    assert cli.returncode == 0, cli_err[-3000:]
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                          "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", str(traced),
                          str(script)], env=env(TRACE_DIR=str(runs["two"])), cwd=runs["two"], capture_output=True,
                         text=True, timeout=900)
    assert two.returncode == 0, two.stderr[-3000:]

    reference = read_trace(tmp_path / "cli" / "trace", 0)  # hf-hybrid train's global batches
    single, halves = read_trace(runs["one"], 0), [read_trace(runs["two"], r) for r in (0, 1)]
    assert len(reference) == len(single) == len(halves[0]) == len(halves[1]) == 4
    language = {}
    for column in ("query", "passage"):
        for text, lang in zip(train[column], train["lang"], strict=True):
            language.setdefault(text, set()).add(lang)
    kinds = []
    for step, batch in enumerate(reference):
        assert (single[step]["anchors"], single[step]["positives"]) == (batch["anchors"], batch["positives"])
        for field in ("anchors", "positives"):  # each process: its half of the same global batch
            assert halves[0][step][field] + halves[1][step][field] == batch[field]
        per_process = [{"mono" if language[a] == language[p] else "cross" for a, p in
                        zip(half[step]["anchors"], half[step]["positives"], strict=True)} for half in halves]
        assert len(per_process[0] | per_process[1]) == 1, (step, per_process)  # one kind on both processes
        kinds.append(per_process[0].pop())
    assert set(kinds) == {"mono", "cross"}  # the seed draws both kinds in 4 steps
    for run in (one, two):
        assert "eval_dev_multi.map" in run.stdout + run.stderr  # the evaluator ran
    for folder in runs.values():
        assert (folder / "out" / "my-run" / "final" / "model.safetensors").exists()
