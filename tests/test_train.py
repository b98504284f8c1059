"""Training: one process end to end, two gloo processes through the real launcher, exact resume, bad input."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from sentence_transformers import SentenceTransformer

from hf_hybrid.commands.arguments import parse
from hf_hybrid.config import load_yaml
from hf_hybrid.plan_rows import materialize
from hf_hybrid.sampling import BatchPlan, PlanConfig
from hf_hybrid.train import main as train_main
from hf_hybrid.training import TrainConfig
from hf_hybrid.training.files import CHECKPOINT_COMPLETE, RUN_MARKER, TRAINING_SCHEMA, read_training_record
from hf_hybrid.training.files import TRAINING_RECORD as RECORD

ROOT = Path(__file__).resolve().parents[1]
TEST_CONFIG = ROOT / "configs" / "quickstart-test.yaml"
DATA = "synthetic:train_groups=200,dev_groups=20,test_groups=40"
BASE = ["--config", str(TEST_CONFIG)]


def env():
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}


def run_train(args, threads: int = 1) -> subprocess.CompletedProcess:
    """``hf_hybrid.train`` run in this process, its exit code and output returned as a finished process's. Not a
    subprocess: that would spend ~9 s importing torch and transformers again for every run. One torch thread, as a
    launched run has with ``OMP_NUM_THREADS=1`` (:func:`env`), so its weights equal those of the subprocess runs
    of the resume test bit for bit (``threads``: more, where no test compares weights)."""
    out, err, before = io.StringIO(), io.StringIO(), torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = train_main([*BASE, *args])
    finally:
        torch.set_num_threads(before)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def weights(folder):
    return load_file(str(Path(folder) / "model.safetensors"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "model"
    proc = run_train(["--output_dir", str(out), "--trace_batches"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_one_process_run_writes_a_loadable_model_and_record(trained, minilm_path):
    record = read_training_record(trained)
    assert record["schema"] == TRAINING_SCHEMA
    assert record["strategy"]["name"] == "hybrid" and record["strategy"]["alpha"] == 0.5
    assert record["held_out_languages"] == ["qag", "qah"]
    assert record["steps"] == 6 and record["hardware"]["num_processes"] == 1
    assert sum(record["steps_per_kind"].values()) == 6
    model = SentenceTransformer(str(trained))
    base = SentenceTransformer(record["base_model"] if os.path.isdir(record["base_model"]) else minilm_path)
    # Trained at 32 tokens, saved at the base's 256: the training length must not cut texts at inference.
    assert (record["max_seq_length"], record["inference_max_seq_length"]) == (32, 256)
    assert model.max_seq_length == base.max_seq_length == 256
    text = ["horila vopeke vuli goza"]
    assert not torch.allclose(model.encode(text, convert_to_tensor=True), base.encode(text, convert_to_tensor=True))
    assert (trained / "README.md").exists()


def plan_rows(batch_size=8, steps=6):
    (cfg,) = parse(["--config", str(TEST_CONFIG)], TrainConfig, PlanConfig)[1:]
    from hf_hybrid.data import load_parallel

    train = load_parallel(DATA)["train"]
    return materialize(train, BatchPlan(train, cfg, steps))


def test_trace_matches_the_plan_one_process(trained):
    rows = plan_rows()
    trace = [json.loads(line) for line in (trained / "trace" / "batches_rank0.jsonl").read_text().splitlines()]
    assert len(trace) == 6
    for step, batch in enumerate(trace):
        assert batch["anchors"] == rows["anchor"][step * 8:(step + 1) * 8]


def minilm_without_dropout(minilm_path: str, folder: Path) -> str:
    """all-MiniLM-L6-v2 with dropout off, so that two runs on the same batch compute the same loss."""
    import shutil

    shutil.copytree(minilm_path, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (folder / "config.json").write_text(json.dumps(config))
    return str(folder)


def test_two_processes_train_on_slices_of_the_same_global_batch(tmp_path, minilm_path):
    model = minilm_without_dropout(minilm_path, tmp_path / "minilm")
    single_out = tmp_path / "single"
    single = run_train(["--model", model, "--output_dir", str(single_out), "--trace_batches", "--max_steps", "4"])
    assert single.returncode == 0, single.stderr[-2000:]
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "hf_hybrid.train",
           *BASE, "--model", model, "--output_dir", str(out), "--trace_batches", "--max_steps", "4"]
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = plan_rows(steps=6)
    traces = [[json.loads(line) for line in (out / "trace" / f"batches_rank{r}.jsonl").read_text().splitlines()]
              for r in (0, 1)]
    assert len(traces[0]) == len(traces[1]) == 4
    for step in range(4):
        plan_step = rows.select(range(step * 8, (step + 1) * 8))
        assert traces[0][step]["anchors"] + traces[1][step]["anchors"] == plan_step["anchor"]
        kinds = {k for k in plan_step["kind"]}
        assert len(kinds) == 1  # both halves belong to one batch of one kind
    # In-batch negatives gathered: with identical weights and the same global batch, the mean of the two
    # processes' first-step losses equals the one-process loss on the whole batch (without gathering, each
    # process would rank against its 4 local passages only and the loss would be lower).
    single = [json.loads(x) for x in (single_out / "trace" / "rank0.jsonl").read_text().splitlines()]
    ranks = [[json.loads(x) for x in (out / "trace" / f"rank{r}.jsonl").read_text().splitlines()] for r in (0, 1)]
    mean_first = (ranks[0][0]["loss"] + ranks[1][0]["loss"]) / 2
    assert abs(mean_first - single[0]["loss"]) < 1e-3, (mean_first, single[0]["loss"])
    local_only = [r[0]["loss"] for r in ranks]
    assert single[0]["loss"] > 0.1 and len(set(local_only)) == 2
    record = json.loads((out / RECORD).read_text())
    assert record["hardware"]["num_processes"] == 2


def test_killed_run_resumes_to_identical_weights(tmp_path):
    full = tmp_path / "full"
    proc = run_train(["--output_dir", str(full), "--save_steps", "2"])
    assert proc.returncode == 0, proc.stderr[-2000:]

    killed = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-m", "hf_hybrid.train", *BASE, "--output_dir", str(killed),
                              "--save_steps", "2", "--trace_batches"], env=env(), cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while not (killed / "checkpoints" / "checkpoint-2" / CHECKPOINT_COMPLETE).exists():
        assert child.poll() is None, "training ended before the first checkpoint"
        assert time.time() < deadline
        time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not (killed / RECORD).exists()

    again = run_train(["--output_dir", str(killed), "--save_steps", "2"])
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = run_train(["--output_dir", str(killed), "--save_steps", "2", "--resume", "--trace_batches"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = weights(full), weights(killed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)  # bit for bit on CPU
    rows = plan_rows()
    trace = [json.loads(x) for x in (killed / "trace" / "batches_rank0.jsonl").read_text().splitlines()]
    resumed_batches = trace[-4:]  # the resumed process trained steps 2..5
    for i, batch in enumerate(resumed_batches, start=2):
        assert batch["anchors"] == rows["anchor"][i * 8:(i + 1) * 8]


@pytest.mark.parametrize("argv, needles", [
    (["--strategy", "alternate"], ["strategy", "'alternate'"]),
    (["--alpha", "2"], ["alpha", "outside [0, 1]"]),
    (["--train_languages", "sw"], ["train_languages", "'sw'"]),
    (["--batch_size", "64", "--strategy", "mono"], ["batch_size", "fewer than one monolingual batch"]),
    (["--model", "FacebookAI/xlm-roberta-base"], ["model", "offline"]),
    (["--loss", "triplet"], ["loss", "'triplet'"]),
])
def test_bad_input_is_one_line_and_leaves_nothing(tmp_path, capsys, argv, needles):
    out = tmp_path / "out"
    code = train_main([*BASE, "--output_dir", str(out), *argv])
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert code == 2 and len(lines) == 1, err[-2000:]
    for needle in needles:
        assert needle in lines[0]
    assert not out.exists()


def test_output_folder_of_another_run_is_refused(tmp_path, capsys, trained):
    code = train_main([*BASE, "--output_dir", str(trained), "--alpha", "0.25"])
    err = capsys.readouterr().err
    assert code == 2 and "holds another run" in err


def test_every_shipped_config_parses():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        data = load_yaml(str(path), (TrainConfig, PlanConfig))
        train_cfg, plan_cfg = parse(["--config", str(path)], TrainConfig, PlanConfig)
        plan_cfg.validate()
        assert train_cfg.model and data
    import yaml

    for path in sorted((ROOT / "configs" / "accelerate").glob("*.yaml")):
        assert yaml.safe_load(path.read_text())["distributed_type"]


def test_push_to_hub_after_training_loads_back_identically(tmp_path, local_hub, minilm_path):
    out = tmp_path / "pushed"
    base = minilm_path  # the local Hub is reachable but does not hold the base model
    proc = subprocess.run([sys.executable, "-m", "hf_hybrid.train", *BASE, "--model", base, "--output_dir", str(out),
                           "--max_steps", "2", "--push_to_hub", "org/hybrid-minilm"], env={**env(), **local_hub.env},
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pushed to" in proc.stdout
    assert local_hub.token not in proc.stdout + proc.stderr
    local = SentenceTransformer(str(out))
    remote = SentenceTransformer("org/hybrid-minilm", cache_folder=str(tmp_path / "cache"))
    text = ["horila vopeke vuli goza", "цалу тулехе"]
    assert torch.equal(local.encode(text, convert_to_tensor=True), remote.encode(text, convert_to_tensor=True))


def test_cached_loss_periodic_evaluation_and_per_kind_logs(tmp_path):
    out = tmp_path / "cached"
    proc = run_train(["--output_dir", str(out), "--loss", "cached_mnrl", "--mini_batch_size", "4",
                      "--eval_steps", "3", "--logging_steps", "3", "--strategy", "sequential"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((out / RECORD).read_text())
    assert record["loss"] == "CachedMultipleNegativesRankingLoss"
    history = record["log_history"]
    evals = [h for h in history if any(k.endswith("multi.map") for k in h)]
    assert len(evals) == 2  # at steps 3 and 6, through the SentenceEvaluator
    first, second = [h for h in history if "loss" in h]
    assert "loss_mono" in first and "loss_cross" not in first  # sequential: mono first...
    assert "loss_cross" in second and "loss_mono" not in second  # ...then cross
    assert any(k.startswith("loss_mono/") for k in first) and "loss_cross/mixed" in second



def test_a_small_encoder_trained_on_the_synthetic_world_retrieves_better(tmp_path, minilm_path):
    """The synthetic world is learnable: fine-tuning improves retrieval on held-out groups.

    Monolingual batches, because all-MiniLM-L6-v2's English vocabulary maps the world's Ethiopic-script
    language to [UNK] pieces, so cross-lingual batches through it teach nothing (measured: mono.map 0.52 → 0.42
    with hybrid batches, 0.52 → 0.75 with mono batches); the experiments' MLM-pretrained encoder has no such gap."""
    from hf_hybrid.data import load_parallel
    from hf_hybrid.evaluation import evaluate_parallel

    data = "synthetic:train_groups=600,dev_groups=10,test_groups=60"
    out = tmp_path / "learn"
    proc = run_train(["--data", data, "--output_dir", str(out), "--max_steps", "40", "--batch_size", "32",
                      "--learning_rate", "5e-5", "--strategy", "mono"], threads=os.cpu_count() or 1)
    assert proc.returncode == 0, proc.stderr[-2000:]
    test = load_parallel(data)["test"]
    levels = {code: "high" for code in set(test["lang"])}
    base = SentenceTransformer(minilm_path)
    before = evaluate_parallel(base, test, resource_levels=levels, show_progress_bar=False)["metrics"]
    after = evaluate_parallel(SentenceTransformer(str(out)), test, resource_levels=levels,
                              show_progress_bar=False)["metrics"]
    assert after["mono.map"] > before["mono.map"] + 0.1, (before["mono.map"], after["mono.map"])
    assert after["cross.map"] > before["cross.map"], (before["cross.map"], after["cross.map"])


def test_tensorboard_logs_symmetric_loss_and_gradient_checkpointing(tmp_path):
    out = tmp_path / "tb"
    proc = run_train(["--output_dir", str(out), "--max_steps", "2", "--logging_steps", "1", "--report_to",
                      "tensorboard", "--symmetric", "--gradient_checkpointing"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list(out.glob("checkpoints/runs/*/events.out.tfevents.*"))
    record = json.loads((out / RECORD).read_text())
    assert record["loss"] == "MultipleNegativesRankingLoss"  # sentence-transformers 6.2: symmetric by directions
    assert record["loss_directions"] == ["query_to_doc", "doc_to_query"]


# -- never lose a user's files ----------------------------------------------------------------------------
SAMPLE = ROOT / "hf_hybrid" / "data" / "sample" / "sample.jsonl"


def finished_folder(path: Path) -> Path:
    """A folder that looks like a finished run (marker, record, a model file) to check nothing deletes it."""
    path.mkdir(parents=True)
    (path / RUN_MARKER).write_text(json.dumps({"fingerprint": "0" * 16, "strategy": "mono", "model": "m"}))
    (path / RECORD).write_text("{}")
    (path / "model.safetensors").write_text("the user's finished model")
    return path


def data_file(tmp_path: Path, name: str, change=None) -> str:
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    rows = change(rows) if change else rows
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return str(path)


@pytest.mark.parametrize("bad, needle", [
    (lambda tmp: ["--model", "org/a-typo-d-model"], "model"),
    (lambda tmp: ["--data", data_file(tmp, "dup.jsonl", lambda rows: rows + rows[:1])], "duplicate"),
    (lambda tmp: ["--data", data_file(tmp, "neg.jsonl", lambda rows: [r | {"negatives": 5} for r in rows])],
     "negatives"),
])
def test_overwrite_with_a_bad_input_keeps_the_finished_run(tmp_path, capsys, bad, needle):
    done = finished_folder(tmp_path / "done")
    code = train_main([*BASE, "--output_dir", str(done), "--overwrite_output_dir", *bad(tmp_path)])
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert code == 2 and len(lines) == 1 and needle in lines[0], lines
    assert (done / "model.safetensors").read_text() == "the user's finished model"


@pytest.mark.parametrize("prepare, argv, needle", [
    (lambda out: None, ["--resume"], "no interrupted run to resume"),
    (lambda out: out.write_text("a file"), [], "is a file"),
])
def test_resume_without_a_run_and_a_file_as_output_are_one_line(tmp_path, capsys, prepare, argv, needle):
    out = tmp_path / "out"
    prepare(out)
    code = train_main([*BASE, "--output_dir", str(out), *argv])
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert code == 2 and len(lines) == 1 and needle in lines[0], lines
    assert not out.is_dir()


def test_resume_after_the_data_changed_is_refused(tmp_path, capsys):
    from hf_hybrid.sampling import PlanConfig
    from hf_hybrid.training.run_folder import fingerprint

    data = data_file(tmp_path, "data.jsonl")
    # the test config holds out synthetic languages; this data is the sample's real ones
    argv = [*BASE, "--data", data, "--exclude_languages", "am", "--output_dir", str(tmp_path / "run")]
    train_cfg, plan_cfg = parse(argv, TrainConfig, PlanConfig)
    checkpoint = tmp_path / "run" / "checkpoints" / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    (checkpoint / CHECKPOINT_COMPLETE).write_text('{"step": 2}')
    marker = {"fingerprint": fingerprint(train_cfg, plan_cfg), "data_fingerprint": "of the data it started with"}
    (tmp_path / "run" / RUN_MARKER).write_text(json.dumps(marker))
    code = train_main([*argv, "--resume"])
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "changed since the interrupted run" in lines[0], lines


def test_push_without_a_token_fails_before_training(tmp_path):
    out = tmp_path / "out"
    environ = {k: v for k, v in env().items() if k != "HF_TOKEN"} | {"HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-m", "hf_hybrid.train", *BASE, "--output_dir", str(out),
                           "--push_to_hub", "org/x"], env=environ, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "no Hub token" in proc.stderr, proc.stderr[-2000:]
    assert not out.exists()


def test_two_trainings_into_one_folder(tmp_path, capsys):
    """A run is refused in one line, and changes nothing, while another holds the folder's lock. The test holds the
    lock itself (``hf_hybrid.locks.folder_lock``, what a running ``train`` holds for its whole run), so the order is
    fixed instead of raced between two processes' start-ups. The folder holds a finished run that the refused run
    would replace (``--overwrite_output_dir``): every file stays as it was and nothing is written beside it. Once
    the lock is free the same command replaces the run, and only the folder and its lock file are left. (Without
    the lock check the refused run would train and replace the run, and this test would fail.)"""
    from hf_hybrid.locks import folder_lock
    from hf_hybrid.sampling import PlanConfig
    from hf_hybrid.training.run_folder import fingerprint

    def files() -> dict:
        return {p.relative_to(tmp_path): (p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")}

    out = tmp_path / "shared"
    first_args = ["--output_dir", str(out), "--max_steps", "2", "--alpha", "0.9"]
    first = run_train(first_args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert read_training_record(out)["strategy"]["alpha"] == 0.9
    marker = json.loads((out / RUN_MARKER).read_text())
    assert marker["fingerprint"] == fingerprint(*parse([*BASE, *first_args], TrainConfig, PlanConfig))
    second_args = ["--output_dir", str(out), "--max_steps", "2", "--alpha", "0.2", "--overwrite_output_dir"]
    before = files()
    with folder_lock(out, wait=False):
        code = train_main([*BASE, *second_args])
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "another training run holds it" in errors[0], errors
    assert files() == before
    again = run_train(second_args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert read_training_record(out)["strategy"]["alpha"] == 0.2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared", "shared.lock"]  # nothing left beside it


def test_ctrl_c_is_one_line_that_says_resume(tmp_path):
    out = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-m", "hf_hybrid.train", *BASE, "--output_dir", str(out),
                              "--max_steps", "40", "--save_steps", "2"], env=env(), cwd=ROOT, text=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    deadline = time.time() + 600
    while not (out / "checkpoints" / "checkpoint-2" / CHECKPOINT_COMPLETE).exists():
        assert child.poll() is None and time.time() < deadline, "training ended before the first checkpoint"
        time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    err = child.communicate(timeout=600)[1]
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert child.returncode == 2 and "Traceback" not in err, err[-2000:]
    assert len(lines) == 1 and "interrupted" in lines[0] and "--resume" in lines[0]


def test_lazy_feed_gives_the_materialized_plan_rows_in_any_order(tmp_path):
    """Training reads the plan lazily (memory flat in max_steps); its rows are the materialized plan's, also after
    a jump such as a resume, and the card's row access in between does not disturb them."""
    from hf_hybrid.data import load_parallel
    from hf_hybrid.training.feed import PlanFeed

    (cfg,) = parse(["--config", str(TEST_CONFIG)], TrainConfig, PlanConfig)[1:]
    train = load_parallel(DATA)["train"]
    plan = BatchPlan(train, cfg, 6)
    rows = materialize(train, plan)
    feed = PlanFeed(train, plan, ["anchor", "positive"])
    lazy = feed.dataset(tmp_path / "feed")
    assert len(lazy) == len(rows) == 48
    for step in (4, 5, 0, 1, 2, 3):  # a resume at step 4, then a fresh start
        part = slice(step * 8, (step + 1) * 8)
        assert lazy[part] == {c: rows[c][part] for c in ("anchor", "positive")}, step
        assert feed.label(step)[0] == rows["kind"][step * 8]
    assert lazy[9]["anchor"] == rows[9]["anchor"]


def test_validate_run_checks_everything_and_writes_nothing(tmp_path):
    from hf_hybrid.errors import UserError
    from hf_hybrid.sampling import PlanConfig
    from hf_hybrid.training import validate_run

    out = tmp_path / "new" / "model"
    inputs = validate_run(*parse([*BASE, "--output_dir", str(out)], TrainConfig, PlanConfig))
    assert inputs.folder.work == out and inputs.folder.resume_from is None and inputs.plan.max_steps == 6
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UserError, match="resume"):
        validate_run(*parse([*BASE, "--output_dir", str(out), "--resume"], TrainConfig, PlanConfig))
    assert list(tmp_path.iterdir()) == []
