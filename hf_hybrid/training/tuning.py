"""Which weights a run trains, and how the trained weights end up in the saved model.

* ``freeze_layers N``: only the top N transformer layers (and whatever comes after them: pooler, heads) train.
  Embeddings and lower layers get ``requires_grad=False``, so autograd never reaches them and backward stops at
  layer L−N: on 2 CPU cores most of a step's time is backward through the 250k-piece embedding and the lower
  layers of E5 / XLM-R. The frozen layers run without dropout, and with ``prefix_cache`` (the default) their
  output is computed once per text and read back at every step (:mod:`hf_hybrid.frozen_prefix`).
* ``lora_r r``: LoRA adapters (Hu et al., 2021, "LoRA: Low-Rank Adaptation of Large Language Models"), W + B·A
  with rank r, through ``peft``. Saved merged by default (a plain sentence-transformers model that loads
  without peft); with ``save_adapter`` in the adapter layout that ``SentenceTransformer(path)`` loads back.
  Alone, every layer is adapted. With ``freeze_layers N`` only the top N layers get adapters and every base
  weight stays fixed: the lower layers are the base's, bit for bit, and the frozen-prefix cache serves them as
  without LoRA. That is the row issue 29 measures beside full fine-tuning of the same top layers: LoRA learns
  less and forgets less (Biderman et al., 2024, "LoRA Learns Less and Forgets Less", arXiv 2405.09673).
* ``wise_ft α``: WiSE-FT (Wortsman et al., 2022, "Robust fine-tuning of zero-shot models"):
  θ = (1−α)·θ_base + α·θ_finetuned, the remedy against forgetting what the base did well elsewhere.
  For LoRA, W + α·B·A is exactly that interpolation, so only B is interpolated (from its initial zeros).
"""

from __future__ import annotations

import re

import torch

from hf_hybrid.errors import UserError
from hf_hybrid.frozen_prefix import (
    FrozenPrefix,
    keep_prefix_in_eval,
    layer_stack_path,
    prefix_depth,
    transformer_model,
)
from hf_hybrid.training.config import TrainConfig


def layer_stack(model) -> tuple[str, torch.nn.ModuleList]:
    """The dotted name and object of the transformer's list of layers
    (:func:`hf_hybrid.frozen_prefix.layer_stack_path`), or a one-line error."""
    try:
        return layer_stack_path(transformer_model(model))
    except ValueError as err:
        raise UserError("freeze_layers", str(err),
                        "use freeze_embeddings or lora_r with this model, or set --freeze_layers 0") from None


def freeze_lower_layers(model, top: int) -> None:
    """Train only the top ``top`` layers and what follows the layer stack; freeze the embeddings and the rest.

    Parameters are registered in forward order (embeddings, layers, pooler), so everything met before the layer
    stack is the input side, and everything after it trains."""
    _, layers = layer_stack(model)
    if top > len(layers):
        raise UserError("freeze_layers", f"{top} is more than the model's {len(layers)} layers",
                        f"use 1 to {len(layers)} (0: train every layer)")
    trained = {id(p) for layer in list(layers)[len(layers) - top:] for p in layer.parameters()}
    in_stack = {id(p) for p in layers.parameters()}
    past_stack = False
    for _, param in transformer_model(model).named_parameters():
        if id(param) in in_stack:
            past_stack = True
            param.requires_grad_(id(param) in trained)
        else:
            param.requires_grad_(past_stack)
    # The frozen layers run without dropout, so that their output is a function of the text alone: what the
    # frozen-prefix cache stores, and the same in a run that recomputes it (training record: frozen_prefix).
    keep_prefix_in_eval(model, len(layers) - top)


def serve_frozen_prefix(model, cfg: TrainConfig) -> FrozenPrefix | None:
    """The frozen-prefix cache for this run, when it has a frozen prefix to cache: ``freeze_layers`` (with or
    without LoRA, which then adapts only the top layers) and ``prefix_cache`` on."""
    if not cfg.caches_prefix:
        return None
    depth = prefix_depth(model, cfg.freeze_layers)
    return FrozenPrefix(model, depth, cfg.prefix_cache_dir) if depth > 0 else None


def lora_layers(model, top: int) -> dict:
    """``LoraConfig`` arguments that put the adapters in the top ``top`` layers of the stack only (none: every
    layer). peft finds a module's layer index after ``layers_pattern`` in its name (``encoder.layer.11.…``); the
    stack's own dotted name, escaped, is that pattern for every architecture :func:`layer_stack` knows."""
    if not top:
        return {}
    name, layers = layer_stack(model)
    return {"layers_to_transform": list(range(len(layers) - top, len(layers))), "layers_pattern": re.escape(name)}


def add_lora(model, cfg: TrainConfig, seed: int) -> None:
    """Wrap the transformer in a peft ``PeftModel`` with LoRA adapters (in the top ``freeze_layers`` layers when
    that is set, else in every layer); only the adapters train: peft freezes every other weight of the transformer.

    Written with peft's ``get_peft_model`` rather than ``SentenceTransformer.add_adapter``: the latter goes
    through transformers' adapter mixin, which (transformers 5.24) refuses peft < 0.22, newer than any peft on
    PyPI (0.21.2). The injected layers are the same, and sentence-transformers saves a ``PeftModel`` in the
    adapter layout it loads (``adapter_config.json`` + ``adapter_model.safetensors``)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                        target_modules=cfg.lora_target_modules or None, **lora_layers(model, cfg.freeze_layers))
    try:
        with torch.random.fork_rng():  # A's random init from the run's seed: two runs of one config are the same
            torch.manual_seed(seed)
            model[0].model = get_peft_model(model[0].model, config)
    except ValueError as err:  # peft knows no default target modules for this architecture, or none matched
        raise UserError("lora_target_modules", f"{cfg.lora_target_modules or 'peft default'}: "
                        f"{str(err).splitlines()[0]}", "name the model's linear layers, e.g. query,value") from None


def prepare_model(model, cfg: TrainConfig, seed: int) -> dict[str, torch.Tensor] | None:
    """Set which weights train; returns the starting values of the trained weights when WiSE-FT needs them
    (a copy of only what changes, not of the whole model)."""
    if cfg.freeze_embeddings:
        model[0].auto_model.get_input_embeddings().requires_grad_(False)
    if cfg.freeze_layers:
        freeze_lower_layers(model, cfg.freeze_layers)  # also with LoRA: the range check, and no dropout below
    if cfg.lora_r:
        add_lora(model, cfg, seed)
    if cfg.wise_ft == 1.0:
        return None
    return {name: p.detach().clone() for name, p in model.named_parameters()
            if p.requires_grad and "lora_A" not in name}


def interpolate(model, start: dict[str, torch.Tensor], alpha: float) -> None:
    """WiSE-FT in place: every weight named in ``start`` becomes (1−α)·start + α·current."""
    state = model.state_dict()
    missing = sorted(set(start) - set(state))
    if missing:
        raise UserError("wise_ft", f"the fine-tuned model lacks weights of the base (e.g. {missing[0]})",
                        "interpolate a model with the base it was fine-tuned from (saved merged)")
    done: set[int] = set()  # tied weights appear under several names in a state dict: interpolate them once
    with torch.no_grad():
        for name, base in start.items():
            if state[name].is_floating_point() and state[name].data_ptr() not in done:
                done.add(state[name].data_ptr())
                state[name].copy_(torch.lerp(base.to(state[name]), state[name], alpha))


def finalize(model, cfg: TrainConfig, start: dict[str, torch.Tensor] | None) -> None:
    """After training, before saving: apply WiSE-FT, then merge LoRA into the weights unless the adapter is to be
    saved as one."""
    if start is not None:
        interpolate(model, start, cfg.wise_ft)
    if cfg.lora_r and not cfg.save_adapter:
        model[0].model = model[0].model.merge_and_unload()


def load_checkpoint_adapter(model, checkpoint: str) -> bool:
    """Resume a LoRA run: load the checkpoint's adapter weights into the ``PeftModel`` being trained (the trainer's
    own loader would rebuild a model of another layout); False when the model has no adapter."""
    from peft import PeftModel, load_peft_weights, set_peft_model_state_dict

    inner = model[0].model
    if not isinstance(inner, PeftModel):
        return False
    set_peft_model_state_dict(inner, load_peft_weights(checkpoint, device="cpu"))
    return True
