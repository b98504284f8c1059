"""Dry-run checks of a base model: its config and tokenizer resolvable (weights never downloaded), its size.

Resolution follows the run's own rules (:func:`hf_hybrid.models.resolve_model`): a local folder, a ``--mirror``
copy (``<owner>__<name>/``), an offline model provided by a pip package (``hf-hybrid models``), or a Hub id,
which offline must already be in the Hugging Face cache. Only ``config.json`` and the tokenizer files are read;
the parameter count comes from the config on the meta device (Accelerate's ``init_empty_weights``), so no
weight is allocated.
"""

from __future__ import annotations

from pathlib import Path

from hf_hybrid.check.data import mirror_copy
from hf_hybrid.check.report import CheckReport, FileEntry

GIB = 1024**3


def _offline_model(name: str, report: CheckReport) -> str | None:
    """The folder of a model pip provides offline, or None; a missing package is a problem."""
    from hf_hybrid.models import OFFLINE_MODELS, availability

    if name not in OFFLINE_MODELS:
        return None
    row = next(r for r in availability() if r["model_id"] == name)
    if not row["installed"]:
        report.problem("model", f"{name!r} is provided offline by the pip package {row['package']}, which is "
                       "not installed", f"pip install {row['package']} (or pip install 'hf-hybrid[offline]')")
        return None
    if not row["ready"]:
        report.notes.append(f"model {name}: converted from {row['package']} on first use (about a minute)")
        return None
    report.files.append(FileEntry("model", str(row["path"]), None, "local"))
    return str(row["path"])


def resolve(name: str, *, mirror: str | None, online: bool, report: CheckReport) -> str | None:
    """Where the model's config and tokenizer will come from (a folder or a Hub id), or None after a problem."""
    from hf_hybrid.ranges import kind_problem

    problem = kind_problem("model", name)  # a missing folder is a path, not a Hub id to look up
    if problem is not None:
        report.problem("model", *problem)
        return None
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    copy = mirror_copy(mirror, name)
    if copy is not None:
        report.files.append(FileEntry("model", str(copy), None, "local"))
        return str(copy)
    offline = _offline_model(name, report)
    if offline is not None or name in _offline_ids():
        return offline
    if online:
        report.files.append(FileEntry("model", f"{name}: config.json + tokenizer files (weights at run time)",
                                      None, "hub"))
        return name
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        report.files.append(FileEntry("model", f"{name} (Hugging Face cache)", None, "cache"))
        return name
    from hf_hybrid.models import OFFLINE_MODELS

    report.problem("model", f"{name!r} cannot be reached offline (no network or HF_HUB_OFFLINE=1) and is not in "
                   "the Hugging Face cache", f"connect to the Hub, pass --mirror with a local copy, or use an "
                   f"offline model ({', '.join(OFFLINE_MODELS)}; see `hf-hybrid models`)")
    return None


def _offline_ids() -> set[str]:
    from hf_hybrid.models import OFFLINE_MODELS

    return set(OFFLINE_MODELS)


def check_model(name: str, *, mirror: str | None, online: bool, report: CheckReport) -> dict | None:
    """Load the config and tokenizer (no weights); returns ``{"parameters", "hidden", "layers", "heads"}``."""
    where = resolve(name, mirror=mirror, online=online, report=report)
    if where is None:
        return None
    from transformers import AutoConfig, AutoTokenizer

    local_only = not online
    try:
        config = AutoConfig.from_pretrained(where, local_files_only=local_only)
    except Exception as err:  # transformers raises OSError/ValueError/KeyError here; one line for the user
        report.problem("model", f"{name!r}: no usable config.json ({type(err).__name__}: "
                       f"{str(err).splitlines()[0][:120]})", "give a model folder or Hub id with a config.json")
        return None
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=local_only)
    except Exception as err:  # same: many exception types, one line
        report.problem("model", f"{name!r}: no usable tokenizer ({type(err).__name__}: "
                       f"{str(err).splitlines()[0][:120]})", "give a model whose repository holds its tokenizer")
        return None
    vocab = getattr(config, "vocab_size", None)
    if vocab is not None and len(tokenizer) > vocab:
        report.problem("model", f"{name!r}: tokenizer has {len(tokenizer)} tokens, the embedding only {vocab}",
                       "use the tokenizer that belongs to the model")
    return {"parameters": _parameters(config), "hidden": getattr(config, "hidden_size", 0),
            "layers": getattr(config, "num_hidden_layers", 0), "heads": getattr(config, "num_attention_heads", 1),
            "max_positions": getattr(config, "max_position_embeddings", None)}


def _parameters(config) -> int | None:
    """Exact parameter count of the encoder built on the meta device (nothing allocated)."""
    from accelerate import init_empty_weights
    from transformers import AutoModel

    try:
        with init_empty_weights():
            model = AutoModel.from_config(config)
    except Exception:  # an architecture transformers cannot build: the size is then simply unknown
        return None
    return sum(p.numel() for p in model.parameters())


def peak_memory_gib(info: dict, *, per_process_batch: int, texts_per_example: int, seq_len: int,
                    half_precision: bool, gradient_checkpointing: bool = False) -> float:
    """Upper estimate of one training process's peak memory, in GiB.

    Weights, gradients and AdamW's two moments in fp32: 16 bytes per parameter. Activations of a transformer
    layer (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", eq. 1):
    ``s·b·h·(34 + 5·a·s/h)`` bytes in 16-bit, twice that in fp32, with b the texts encoded at once (every text
    padded to ``seq_len``: an upper bound). Gradient checkpointing keeps one layer's activations plus each
    layer's input (2·s·b·h bytes).
    """
    s, h, a, layers = seq_len, info["hidden"], max(1, info["heads"]), info["layers"]
    b = per_process_batch * texts_per_example
    per_layer = s * b * h * (34 + 5 * a * s / h) * (1 if half_precision else 2)
    activations = per_layer + layers * 2 * s * b * h if gradient_checkpointing else layers * per_layer
    return (16 * (info["parameters"] or 0) + activations) / GIB


def device_memory_gib() -> float | None:
    """Memory of the first GPU, or None without one (a CPU run is limited by host memory instead)."""
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_properties(0).total_memory / GIB


def check_seq_len(name: str, info: dict, seq_len: int, report: CheckReport) -> None:
    limit = info.get("max_positions")
    if limit and seq_len > limit:
        report.problem("max_seq_length", f"{seq_len} is more than {name}'s {limit} positions",
                       f"use max_seq_length <= {limit}")

