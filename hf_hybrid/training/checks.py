"""Every check a training run makes before it writes anything, in one place.

:func:`validate_run` makes the checks ``train`` makes first (``train`` runs :func:`check_inputs`, then inspects
the output folder under its lock), for a dry run to call on its own: the configs, the Hub
target and token (a push that can only fail must fail before hours of training, not after), the data (loaded and
validated by the data layer: schema, types, duplicates), the eval split, the batch plan (drawable: every pool big
enough), the base model (resolvable: a local folder, an offline model, or a Hub id; ``train`` then loads it,
still before writing) and the output folder (see :mod:`hf_hybrid.training.run_folder`). It returns
what it loaded, so ``train`` does not load it twice. It writes nothing: no folder, no lock file, no cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset, DatasetDict

from hf_hybrid.errors import UserError
from hf_hybrid.sampling import BatchPlan, PlanConfig
from hf_hybrid.training.config import TrainConfig
from hf_hybrid.training.run_folder import RunFolder, check_output_path, inspect_output


@dataclass
class RunInputs:
    """What a run trains on, all checked: the configs, the loaded data, the drawn plan, the resolved model path
    and (once the output folder has been inspected) the run folder."""

    train: TrainConfig
    plan_cfg: PlanConfig
    data: DatasetDict
    plan: BatchPlan
    model_path: str
    world: int
    folder: RunFolder | None = None

    @property
    def train_data(self) -> Dataset:
        return self.data["train"]

    @property
    def data_fingerprint(self) -> str:
        """datasets' own fingerprint: a hash of the content (in memory) or of the cache files' mtimes."""
        return self.train_data._fingerprint


def check_push_target(train: TrainConfig) -> None:
    """The repo id and a token, checked before training (:mod:`hf_hybrid.hub` owns both rules)."""
    if not train.push_to_hub:
        return
    from hf_hybrid.hub_names import check_repo_id, require_token

    check_repo_id(train.push_to_hub, "push_to_hub")
    require_token()


def _load_data(train: TrainConfig, plan_cfg: PlanConfig) -> DatasetDict:
    from hf_hybrid.data import load_parallel
    from hf_hybrid.data.sources import check_source_supports

    check_source_supports(train.data, plan_cfg)
    data = load_parallel(train.data)
    if "train" not in data:
        raise UserError("data", f"{train.data!r} has no train split (has {', '.join(data)})",
                        "use a source with a train split")
    if train.eval_steps and train.eval_split not in data:
        raise UserError("eval_split", f"{train.data!r} has no split {train.eval_split!r} (has "
                        f"{', '.join(data)})", "choose an existing split or set --eval_steps 0")
    return data


def check_negatives(train_data: Dataset) -> None:
    """Hard negatives must be lists of passage texts: the trainer takes the first of each row's list."""
    import pyarrow as pa

    if "negatives" not in train_data.column_names:
        return
    kind = train_data.data.table.schema.field("negatives").type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)) or not (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)):
        raise UserError("negatives", f"column of type {kind}, not a list of texts",
                        'give each row a list of passage strings, e.g. "negatives": ["a passage"]')


def check_tuning(train: TrainConfig) -> None:
    """How the options that choose which weights train (:mod:`hf_hybrid.training.tuning`) combine, before any data
    is read; each one's range is :meth:`TrainConfig.validate`'s. ``freeze_layers`` with ``lora_r`` is LoRA in the
    top layers only."""
    if train.lora_r:
        import importlib.util

        if importlib.util.find_spec("peft") is None:
            raise UserError("lora_r", f"{train.lora_r} needs the peft package, which is not installed",
                            "pip install peft, or set --lora_r 0")
    if train.save_adapter and not train.lora_r:
        raise UserError("save_adapter", "set without LoRA", "add --lora_r 8, or drop --save_adapter")


def check_inputs(train: TrainConfig, plan_cfg: PlanConfig, world: int = 1) -> RunInputs:
    """Everything but the output folder; cheap checks first, so a typo costs no data loading."""
    train.validate()
    check_tuning(train)
    plan_cfg.validate()
    if plan_cfg.batch_size % world:
        raise UserError("batch_size", f"global batch {plan_cfg.batch_size} does not split over {world} processes",
                        f"use a multiple of {world}")
    check_push_target(train)
    check_output_path(Path(train.output_dir))
    data = _load_data(train, plan_cfg)
    from hf_hybrid.data.schema import check_negatives_complete, languages_of

    plan_cfg.check_languages(languages_of(data), train.data)  # a held-out language the data lacks is no zero-shot
    check_negatives(data["train"])
    if train.use_negatives:
        check_negatives_complete(data["train"], source=f"{train.data}[train]")
    plan = BatchPlan(data["train"], plan_cfg, train.max_steps)
    from hf_hybrid.models import resolve_model

    return RunInputs(train, plan_cfg, data, plan, resolve_model(train.model), world)


def validate_run(train: TrainConfig, plan_cfg: PlanConfig, world: int = 1) -> RunInputs:
    """Every check :func:`hf_hybrid.training.run.train` makes before it writes anything, without training and
    without writing; raises :class:`~hf_hybrid.errors.UserError` (one line) on the first problem.

    The one check it cannot make for good is the lock: another run may take the folder after this returns; it
    reports a folder that another run holds *now*."""
    from hf_hybrid.locks import is_held

    inputs = check_inputs(train, plan_cfg, world)
    if is_held(train.output_dir):
        raise busy(train.output_dir)
    inputs.folder = inspect_output(train, plan_cfg, inputs.data_fingerprint)
    return inputs


def busy(output_dir: str | Path) -> UserError:
    return UserError("output_dir", f"{str(output_dir)!r} is in use: another training run holds it",
                     "wait for that run to finish, or choose another --output_dir")
