"""Remedies for forgetting as training settings (issue 29): distillation from the frozen base (``distill_weight``),
translation batches (``beta``) and query-side-only training (``train_side``), on a tiny encoder built here (2 layers
of width 32 over all-MiniLM-L6-v2's tokenizer, with E5-style prompts)."""

import json
from pathlib import Path

import pytest
import torch
from sentence_transformers import SentenceTransformer

from hf_hybrid.train import main as train_main
from hf_hybrid.training.files import TRAINING_RECORD as RECORD

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = {"query": "query: ", "passage": "passage: "}


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory, minilm_path) -> Path:
    """A randomly initialised 2-layer BERT of width 32 as a sentence-transformers folder (mean pooling, unit
    length, query/passage prompts, no dropout, so that two runs on one batch compute one loss): trains a step in
    milliseconds."""
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny")
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    torch.manual_seed(0)
    encoder = BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                   num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
                                   hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    encoder.save_pretrained(str(folder / "encoder"))
    tokenizer.save_pretrained(str(folder / "encoder"))
    transformer = Transformer(str(folder / "encoder"), max_seq_length=32)
    model = SentenceTransformer(modules=[transformer, Pooling(32, pooling_mode="mean"), Normalize()],
                                prompts=PROMPTS, device="cpu")
    model.save(str(folder / "model"))
    return folder / "model"


def load(folder: Path) -> SentenceTransformer:
    return SentenceTransformer(str(folder), device="cpu")


def train(out: Path, model: Path, *argv: str) -> Path:
    base = ["--config", str(ROOT / "configs" / "quickstart-test.yaml"), "--model", str(model),
            "--learning_rate", "1e-2"]
    assert train_main([*base, "--output_dir", str(out), *argv]) == 0
    return out


# -- distillation from the base --------------------------------------------------------------------------------
def features(model, texts: list[str], prompt: str) -> dict:
    return model.preprocess([prompt + t for t in texts])


def test_distillation_loss_is_mnrl_plus_lambda_mse_to_the_frozen_base(tiny_folder):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from hf_hybrid.training.config import TrainConfig
    from hf_hybrid.training.distill import DistillationLoss
    from hf_hybrid.training.losses import build_loss

    model, base = load(tiny_folder), load(tiny_folder)
    loss = build_loss(model, TrainConfig(distill_weight=7.0))
    assert isinstance(loss, DistillationLoss) and loss.ranking.gather_across_devices
    anchors, positives = ["where is the market", "who wrote it"], ["the market is north", "a poet wrote it"]
    with torch.no_grad():  # the student moves away from the base: the MSE term is no longer 0
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    model.train()
    terms = loss([features(model, anchors, "query: "), features(model, positives, "passage: ")], None)
    total = terms["ranking"] + terms["distill"]
    model.eval()
    with torch.no_grad():
        student = [model.encode(anchors, prompt="query: ", convert_to_tensor=True),
                   model.encode(positives, prompt="passage: ", convert_to_tensor=True)]
        teacher = [base.encode(anchors, prompt="query: ", convert_to_tensor=True),
                   base.encode(positives, prompt="passage: ", convert_to_tensor=True)]
        mnrl = MultipleNegativesRankingLoss(model, scale=20.0).compute_loss_from_embeddings(student, None)
        mse = (((student[0] - teacher[0]) ** 2).mean() + ((student[1] - teacher[1]) ** 2).mean()) / 2
    assert float(mse) > 0
    torch.testing.assert_close(terms["ranking"].detach(), mnrl, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms["distill"].detach(), 7.0 * mse, atol=1e-6, rtol=1e-4)
    assert total.requires_grad and len(loss.base.memo) == 4  # each distinct text's base embedding, once


def test_base_embeddings_are_computed_once_per_text_and_not_from_the_trained_weights(tiny_folder):
    from hf_hybrid.training.distill import FrozenBase

    model = load(tiny_folder).train()
    modes = [m.training for m in model.modules()]
    frozen = FrozenBase(model)
    texts = ["query: a", "query: b", "query: a"]
    first = frozen(model.preprocess(texts))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    again = frozen(model.preprocess(["query: b", "query: c"]))
    torch.testing.assert_close(again[0], first[1])  # memoized
    expected = load(tiny_folder).encode(["query: c"], convert_to_tensor=True)[0]
    torch.testing.assert_close(again[1], expected, atol=1e-6, rtol=1e-5)  # a new text: the base's weights
    assert [m.training for m in model.modules()] == modes  # the base ran in eval mode, the model's modes restored
    left = model.preprocess(["query: d", "query: a longer text"])
    width = int(left["attention_mask"][0].sum())
    for key in ("input_ids", "attention_mask"):  # the short row padded on the left: its positions depend on it
        left[key][0] = left[key][0].roll(left[key].shape[1] - width)
    before = len(frozen.memo)
    assert frozen(left).shape[0] == 2 and len(frozen.memo) == before + 1  # only the row without padding is kept


def test_distill_weight_trains_records_and_shows_on_the_card(tmp_path, tiny_folder):
    out = train(tmp_path / "m", tiny_folder, "--distill_weight", "50")
    record = json.loads((out / RECORD).read_text())
    assert record["fine_tuning"]["distill_weight"] == 50.0 and record["loss"] == "DistillationLoss"
    assert any("distill" in entry for entry in record["log_history"])  # both terms are logged
    from hf_hybrid.cards import render_model_card

    assert "distill_weight" in str(render_model_card(str(out)))


@pytest.mark.parametrize("argv, needles", [
    (["--distill_weight", "-1"], ["distill_weight", "-1"]),
    (["--distill_weight", "10", "--loss", "cached_mnrl"], ["distill_weight", "--loss mnrl"]),
    (["--train_side", "passage"], ["train_side", "both, query"]),
    (["--train_side", "query", "--loss", "cached_mnrl"], ["train_side", "--loss mnrl"]),
    (["--train_side", "query", "--lora_r", "4", "--save_adapter"], ["train_side", "--save_adapter"]),
])
def test_bad_remedy_settings_are_one_line(tmp_path, capsys, tiny_folder, argv, needles):
    out = tmp_path / "out"
    base = ["--config", str(ROOT / "configs" / "quickstart-test.yaml"), "--model", str(tiny_folder)]
    assert train_main([*base, "--output_dir", str(out), *argv]) == 2
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and all(needle in lines[0] for needle in needles), lines
    assert not out.exists()


# -- translation batches ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world():
    from hf_hybrid.data import make_world

    return make_world(train_groups=400, dev_groups=10, test_groups=10, seed=1)


def plan(world, steps=60, **kw):
    from hf_hybrid.sampling import BatchPlan, PlanConfig

    cfg = PlanConfig(**{"batch_size": 16, "exclude_languages": world.codes("zero")} | kw)
    return BatchPlan(world.dataset["train"], cfg, steps)


@pytest.mark.parametrize("strategy", ["mono", "cross", "hybrid", "sequential", "mixed"])
def test_translation_batches_pair_one_groups_passages_in_two_languages(world, strategy):
    import numpy as np

    from hf_hybrid.plan_rows import materialize

    train = world.dataset["train"]
    ids, langs, passages = np.array(train["id"]), np.array(train["lang"]), train["passage"]
    p = plan(world, strategy=strategy, beta=0.4)
    batches = list(p.batches())
    translation = [b for b in batches if b.kind == "translation"]
    assert 0.2 < len(translation) / len(batches) < 0.6
    for batch in translation:
        assert (ids[batch.query_rows] == ids[batch.passage_rows]).all()  # translations of one another
        assert len(set(ids[batch.query_rows])) == len(batch.query_rows)  # no two rows of one group
        assert (batch.query_lang != batch.passage_lang).all()
        assert (langs[batch.query_rows] == batch.query_lang).all() and (langs[batch.passage_rows] == batch.passage_lang).all()
        assert not (set(batch.query_lang) | set(batch.passage_lang)) & set(world.codes("zero"))
    rows = materialize(train, p, 0, 20)
    for i, row in enumerate(rows):
        batch = batches[row["batch"]]
        q, d = int(batch.query_rows[i % 16]), int(batch.passage_rows[i % 16])
        assert row["positive"] == passages[d]
        assert row["anchor"] == (passages[q] if row["kind"] == "translation" else train[q]["query"])


def test_beta_zero_leaves_every_plan_bit_identical_and_beta_keeps_the_other_steps_kinds(world):
    """The digest is that of the plans drawn by hf_hybrid.sampling before translation batches existed (commit
    bad11bb; a change of the synthetic world changes it too)."""
    import hashlib

    digest = hashlib.sha256()
    for kw in [dict(strategy="hybrid"), dict(strategy="mono"), dict(strategy="cross", cross_pairing="pair"),
               dict(strategy="sequential", first="cross", then="mixed"), dict(strategy="mixed")]:
        for b in plan(world, steps=300, seed=3, beta=0.0, **kw).batches():
            digest.update(f"{b.step}{b.kind}".encode())
            digest.update(b.query_rows.tobytes())
            digest.update(b.passage_rows.tobytes())
            digest.update("".join(b.query_lang).encode())
            digest.update("".join(b.passage_lang).encode())
    assert digest.hexdigest() == "f992a5206bc3dfa2e1f09d4a1feeaa9190ddbc620f69d935e95f1535c4c10aac"
    without, with_beta = plan(world, steps=300, strategy="hybrid"), plan(world, steps=300, strategy="hybrid", beta=0.3)
    kinds = [(without.kind(s), with_beta.kind(s)) for s in range(300)]
    assert all(a == b for a, b in kinds if b != "translation")  # a translation step replaces, nothing shifts
    assert "translation" not in without.summary()["steps_per_kind"]  # records of plans without it are unchanged
    full = list(with_beta.batches())  # exact resume holds with translation batches too
    for a, b in zip(full[137:], with_beta.batches(start=137), strict=True):
        assert a.kind == b.kind and (a.query_rows == b.query_rows).all() and (a.passage_rows == b.passage_rows).all()


@pytest.mark.parametrize("kw, field", [({"beta": 1.5}, "beta"), ({"beta": -0.1}, "beta"),
                                        ({"beta": 0.2, "strategy": "mono", "train_languages": ["qaa"]}, "beta"),
                                        ({"beta": 0.2, "strategy": "mono", "batch_size": 300}, "batch_size")])
def test_bad_translation_settings_name_the_field(world, kw, field):
    from hf_hybrid.errors import UserError

    with pytest.raises(UserError) as err:
        plan(world, **kw)
    assert err.value.field == field and "\n" not in str(err.value)


def test_translation_batches_put_the_query_prompt_on_both_passages(world, tiny_folder):
    """sentence-transformers' collator picks the prompts per batch kind (the feed's ``dataset_name``): both sides of
    a translation batch in the query role, every other batch by column (anchor: query, positive: passage)."""
    from sentence_transformers.sentence_transformer.data_collator import SentenceTransformerDataCollator

    from hf_hybrid.training.feed import PlanFeed, kind_prompts

    model = load(tiny_folder)
    p = plan(world, strategy="hybrid", beta=0.5)
    feed = PlanFeed(world.dataset["train"], p, ["anchor", "positive", "negative"])
    column = {"anchor": "query: ", "positive": "passage: ", "negative": "passage: "}
    collate = SentenceTransformerDataCollator(model.preprocess, prompts=kind_prompts(column, p.config))
    assert kind_prompts(column, plan(world, strategy="hybrid").config) == column  # beta 0: as before
    seen = set()
    for step in range(12):
        rows = feed.transform({"row": list(range(step * 16, step * 16 + 4))})
        assert set(rows["dataset_name"]) == {p.kind(step)}
        batch = collate([dict(zip(rows, values, strict=True)) for values in zip(*rows.values(), strict=True)])
        side = "query: " if p.kind(step) == "translation" else "passage: "
        expected = model.preprocess([side + text for text in rows["positive"]])
        assert torch.equal(batch["positive_input_ids"], expected["input_ids"])
        assert torch.equal(batch["anchor_input_ids"], model.preprocess(["query: " + t for t in rows["anchor"]])["input_ids"])
        seen.add(p.kind(step))
    assert "translation" in seen and len(seen) > 1


def test_beta_trains_records_and_shows_on_the_card(tmp_path, tiny_folder):
    out = train(tmp_path / "m", tiny_folder, "--beta", "0.5", "--logging_steps", "1")
    record = json.loads((out / RECORD).read_text())
    assert record["strategy"]["beta"] == 0.5 and record["steps_per_kind"]["translation"] > 0
    assert any("loss_translation" in entry for entry in record["log_history"])
    from hf_hybrid.cards import render_model_card

    assert "share of translation batches" in str(render_model_card(str(out)))


# -- grids and dry runs ----------------------------------------------------------------------------------------
def test_grid_rows_set_the_remedies_per_row(tmp_path, monkeypatch, tiny_folder):
    import hf_hybrid.training.run
    from hf_hybrid.errors import UserError
    from hf_hybrid.experiments.config import Context, ExperimentConfig, plan_settings
    from hf_hybrid.experiments.grid import train_run
    from hf_hybrid.experiments.variants import check_row_options, strategy_options

    assert plan_settings("hybrid-0.5+trans0.2") == {"strategy": "hybrid", "alpha": 0.5, "beta": 0.2}
    assert plan_settings("seq-mono-cross+distill100") == {"strategy": "sequential", "first": "mono", "then": "cross"}
    assert strategy_options("hybrid-0.5+lora8+lr1e-3") == {"lora_r": 8, "learning_rate": 1e-3}
    for bad in ("hybrid-0.5+lr0", "hybrid-0.5+lr2", "hybrid-0.5+trans2", "hybrid-0.5+distill0", "hybrid-0.5+distil1", "mono+trans0.1+trans0.2",
                "hybrid-0.5+lora0", "hybrid-0.5+lora2.5", "hybrid-0.5+lora1e1"):
        with pytest.raises(UserError) as err:
            plan_settings(bad)
        assert err.value.field == "strategies" and "\n" not in str(err.value)
    made = []
    monkeypatch.setattr(hf_hybrid.training.run, "train", lambda t, p: made.append((t, p)) or tmp_path)
    cfg = ExperimentConfig(data="synthetic:train_groups=200", models=[str(tiny_folder)], distill_weight=5.0,
                           freeze_layers=1)
    ctx = Context(cfg, {"tiny": str(tiny_folder)}, None, ["qaa", "qab"], {})
    train_run(ctx, "tiny", "hybrid-0.5+distill100+trans0.3", 0, tmp_path / "a")
    train_run(ctx, "tiny", "mono", 0, tmp_path / "b")
    train_run(ctx, "tiny", "hybrid-0.5+lora8+lr1e-3", 0, tmp_path / "c")
    (row, row_plan), (grid, grid_plan), (lora, _) = made
    assert (lora.learning_rate, grid.learning_rate) == (1e-3, cfg.learning_rate)  # the row's rate, the grid's
    assert (row.distill_weight, row_plan.beta, row_plan.alpha) == (100.0, 0.3, 0.5)
    assert (grid.distill_weight, grid_plan.beta) == (5.0, 0.0)  # the grid-wide λ where the row sets none
    assert (lora.lora_r, lora.freeze_layers, grid.lora_r) == (8, 1, 0)  # LoRA in the grid's top layers
    lora.validate()  # an int rank, as TrainConfig types it
    cfg.strategies, cfg.lora_r = ["hybrid-0.5", "hybrid-0.5+lora8"], 4
    with pytest.raises(UserError) as err:
        check_row_options(cfg)  # a grid-wide rank and a row's own: one line, not a silent override
    assert err.value.field == "lora_r" and "hybrid-0.5+lora8" in str(err.value) and "\n" not in str(err.value)


def test_dry_runs_accept_the_remedies(tmp_path, tiny_folder):
    from hf_hybrid.check import check_experiment, check_train
    from hf_hybrid.experiments.config import ExperimentConfig
    from hf_hybrid.sampling import PlanConfig
    from hf_hybrid.training import TrainConfig

    data = "synthetic:train_groups=200"
    train_cfg = TrainConfig(model=str(tiny_folder), data=data, output_dir=str(tmp_path / "run"), max_steps=40, max_seq_length=32,
                            distill_weight=100.0)
    report = check_train(train_cfg, PlanConfig(batch_size=8, exclude_languages=["qag", "qah"], beta=0.5),
                         online=False)
    assert report.ok, report.render()
    assert report.summary["steps per kind"]["translation"] > 0 and "translation" in report.summary["steps"]
    train_cfg.loss = "cached_mnrl"
    assert any(p.startswith("distill_weight:") for p in check_train(train_cfg, PlanConfig(), online=False).problems)
    grid = ExperimentConfig(data=data, models=[str(tiny_folder)], strategies=["hybrid-0.5", "hybrid-0.5+trans0.5",
                            "hybrid-0.5+lora8"], seeds=[0], output_dir=str(tmp_path / "grid"), max_steps=20,
                            batch_size=8, freeze_layers=1)
    report = check_experiment(grid, online=False)
    assert report.ok, report.render()
    assert "translation" in report.summary["plan hybrid-0.5+trans0.5"]
    grid.lora_r = 4
    assert [p for p in check_experiment(grid, online=False).problems if p.startswith("lora_r:")]


# -- query side only -------------------------------------------------------------------------------------------
def test_query_side_loss_ranks_trained_queries_against_the_base_documents(tiny_folder):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from hf_hybrid.training.config import TrainConfig
    from hf_hybrid.training.distill import QuerySideLoss
    from hf_hybrid.training.losses import build_loss

    model, base = load(tiny_folder), load(tiny_folder)
    loss = build_loss(model, TrainConfig(train_side="query", distill_weight=3.0))
    assert isinstance(loss, QuerySideLoss)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    model.eval()
    anchors, positives = ["where is the market", "who wrote it"], ["the market is north", "a poet wrote it"]
    terms = loss([features(model, anchors, "query: "), features(model, positives, "passage: ")], None)
    with torch.no_grad():
        queries = model.encode(anchors, prompt="query: ", convert_to_tensor=True)
        documents = base.encode(positives, prompt="passage: ", convert_to_tensor=True)
        mnrl = MultipleNegativesRankingLoss(model).compute_loss_from_embeddings([queries, documents], None)
        mse = ((queries - base.encode(anchors, prompt="query: ", convert_to_tensor=True)) ** 2).mean()
    torch.testing.assert_close(terms["ranking"].detach(), mnrl, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms["distill"].detach(), 3.0 * mse, atol=1e-6, rtol=1e-4)


def test_query_side_model_encodes_documents_with_the_base(tmp_path, tiny_folder, monkeypatch):
    """``train_side query``: the saved model loads with ``SentenceTransformer(path)``; ``encode_document`` is the
    base's, ``encode_query`` the trained encoder's; a grid's WiSE-FT row at α = 0 is the base on both sides."""
    from hf_hybrid.training import run
    from hf_hybrid.training.query_side import route_documents_to_base

    finalize = run.finalize

    def finalize_and_route(model, cfg, start):  # what run.train does once it calls route_documents_to_base itself
        finalize(model, cfg, start)
        route_documents_to_base(model, cfg, str(tiny_folder))

    monkeypatch.setattr(run, "finalize", finalize_and_route)
    out = train(tmp_path / "q", tiny_folder, "--train_side", "query", "--distill_weight", "10")
    model, base = load(out), load(tiny_folder)
    texts = ["where is the market", "tumu defi mimapi davu", "ፐኡሰኢ ፈኦፈኢ ደኤሰኢ"]
    torch.testing.assert_close(model.encode_document(texts, convert_to_tensor=True),
                               base.encode_document(texts, convert_to_tensor=True), atol=1e-6, rtol=0)
    assert (model.encode_query(texts, convert_to_tensor=True)
            - base.encode_query(texts, convert_to_tensor=True)).abs().max() > 1e-3  # the query side trained
    from hf_hybrid.demo.search import Encoder

    served = Encoder("q", model)  # the demo names the role, so each side takes its own route
    torch.testing.assert_close(torch.from_numpy(served.encode(texts, query=True)),
                               model.encode_query(texts, convert_to_tensor=True), atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.from_numpy(served.encode(texts, query=False)),
                               base.encode_document(texts, convert_to_tensor=True), atol=1e-6, rtol=0)
    record = json.loads((out / RECORD).read_text())
    assert record["fine_tuning"]["train_side"] == "query" and record["loss"] == "QuerySideLoss"
    from hf_hybrid.cards import render_model_card

    card = str(render_model_card(str(out)))
    assert "model.encode_query(" in card and "model.encode_document(" in card and "train_side" in card
    from hf_hybrid.experiments.variants import wise_ft_model

    averaged = wise_ft_model(base.state_dict(), out, 0.0)
    torch.testing.assert_close(averaged.encode_query(texts, convert_to_tensor=True),
                               base.encode_query(texts, convert_to_tensor=True), atol=1e-6, rtol=0)


def test_two_processes_gather_the_ranking_part_only(tmp_path, tiny_folder):
    """Every remedy at once under DDP (two gloo processes on CPU): the mean of the two processes' losses equals the
    one-process loss on the whole batch, step by step — the ranking part's negatives (here the base's document
    embeddings, which carry no gradient) span both processes, and each process's MSE and base embeddings are its
    own."""
    import os
    import subprocess
    import sys

    argv = ["--config", str(ROOT / "configs" / "quickstart-test.yaml"), "--model", str(tiny_folder), "--max_steps",
            "3", "--trace_batches", "--distill_weight", "50", "--beta", "0.5", "--train_side", "query",
            "--learning_rate", "1e-2"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    for name, prefix in (("single", [sys.executable]), ("ddp", launch)):
        proc = subprocess.run([*prefix, "-m", "hf_hybrid.train", *argv, "--output_dir", str(tmp_path / name)],
                              env=env, capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]

    def losses(name: str, rank: int) -> list[float]:
        lines = (tmp_path / name / "trace" / f"rank{rank}.jsonl").read_text().splitlines()
        return [json.loads(line)["loss"] for line in lines]

    single, first, second = losses("single", 0), losses("ddp", 0), losses("ddp", 1)
    assert len(single) == len(first) == len(second) == 3
    for step in range(3):
        assert abs((first[step] + second[step]) / 2 - single[step]) < 1e-3, (step, first, second, single)
    assert first != second  # each process had its own half
