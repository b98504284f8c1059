"""The frozen prefix, computed once: hidden states after the last frozen layer, on disk, reused by every step.

With ``freeze_layers N`` a model of L layers trains only its top N; the embeddings and layers ``0 … L−N−1`` never
change. Their output for a text is therefore a pure function of (those weights, the text's token ids), and
recomputing it at every step a text appears, and again in every scoring pass of every model that shares the
prefix, is wasted work: at the e5-real grid's settings 10 of 12 layers. :class:`FrozenPrefix` attaches to a
``SentenceTransformer`` with three forward hooks and changes nothing else:

1. before sentence-transformers' Transformer module runs, each row's token ids are looked up (computed and stored on a miss, in one
   batched forward of the prefix alone), and the layer stack is swapped for its top ``L − depth`` layers;
2. the first top layer's input ``hidden_states`` is replaced by the looked-up states (the embeddings' own output,
   a cheap table look-up, is discarded);
3. after the transformer, the full stack is put back, also when the forward raised.

So the trainer, the loss, ``encode``, MTEB and BEIR all run unchanged and only the top layers compute. A
query-side model (a ``Router`` with a query and a document transformer) is served on each route.

**Same results.** The prefix runs in eval mode in both paths (:func:`keep_prefix_in_eval`: no dropout below the
trained layers, and no random numbers drawn there), so a cached run and a recomputed one draw the same dropout
masks in the top layers and reach the same losses and weights (``tests/test_frozen_prefix.py``: within 1e-5). A
row's states do not depend on the rest of its batch (padded keys are masked out), so where a text was first
computed does not matter either.

**Keys.** A store is one folder per prefix: a hash of every byte of the prefix's weights (embeddings and the
frozen layers), its depth and the model class. A different base, depth or fine-tuned prefix is another folder, and
a trained model whose prefix is bit-identical to its base (``freeze_layers``, WiSE-FT of such a model) finds the
base's folder. Inside it, a row is keyed by a hash of its token ids (and token types) up to the last real token:
another tokenizer, prompt or ``max_seq_length`` gives other ids, hence another key, never a stale entry.

**Storage.** float32, as the layers compute them (float16 would halve the disk but move the top layers' input by
about 1e-3 relative, past the 1e-5 the equality test holds): ``tokens × hidden × 4`` bytes a text, 1.5 KB per
token for a hidden size of 384, in :mod:`hf_hybrid.prefix_store`. Shards are written atomically (the index last,
so a shard without its index is never read) and memory-mapped when read: only the pages a step touches are resident.
Several processes (DDP ranks, grid cells) may add shards to one folder at once; a duplicate entry is harmless.

**LoRA.** Plain LoRA adapts every layer: no frozen prefix, nothing to cache. With ``freeze_layers N`` LoRA adapts
only the top N layers (:mod:`hf_hybrid.training.tuning`), the prefix is the base's, bit for bit, and it is served
like any other; the model is then wrapped in peft's ``PeftModel``, which :func:`transformer_model` looks through.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from hf_hybrid.prefix_store import PrefixStore, row_keys


def default_root() -> Path:
    """``$HF_HYBRID_PREFIX_CACHE``, else ``frozen_prefix`` in hf-hybrid's cache (``$HF_HYBRID_CACHE``, else
    ``~/.cache/hf_hybrid``)."""
    if os.environ.get("HF_HYBRID_PREFIX_CACHE"):
        return Path(os.environ["HF_HYBRID_PREFIX_CACHE"])
    from hf_hybrid.models import cache_root

    return cache_root() / "frozen_prefix"


def transformer_modules(model) -> list:
    """The sentence-transformers ``Transformer`` modules that run a model's layers: ``[model[0]]`` for a plain
    model; for a query-side model (:mod:`hf_hybrid.training.query_side`, a ``Router`` first) each route's
    transformer, query and document, which share the base's prefix when only the top layers trained. A module
    itself (anything with ``auto_model``) is its own list; a model without a transformer (BM25) gives ``[]``."""
    if hasattr(model, "auto_model"):
        return [model]
    try:
        first = model[0]
    except (TypeError, IndexError, KeyError):
        return []
    if hasattr(first, "auto_model"):
        return [first]
    routes = getattr(first, "sub_modules", None)  # sentence-transformers' Router: a ModuleDict of Sequentials
    if not isinstance(routes, torch.nn.ModuleDict):
        return []
    found: dict[int, object] = {}
    for modules in routes.values():
        for module in modules:
            if hasattr(module, "auto_model"):
                found.setdefault(id(module), module)
    return list(found.values())


def transformer_model(model) -> torch.nn.Module:
    """The transformers model of a ``SentenceTransformer`` (``model[0].auto_model``) or of one of its
    ``Transformer`` modules, taken out of peft's
    ``PeftModel`` when training wrapped it for LoRA. peft injects the adapters into the model's own layers, so the
    unwrapped model runs with them; and through it the layer stack, the embeddings before it and the parameter
    names are the base's (the wrapper prefixes every name with ``base_model.model.`` and holds the embeddings and
    the stack under one child, which would hide the prefix's modules from :func:`_prefix_modules`)."""
    auto = (model if hasattr(model, "auto_model") else model[0]).auto_model
    peft = sys.modules.get("peft")  # a PeftModel exists only once peft has been imported
    return auto.get_base_model() if peft is not None and isinstance(auto, peft.PeftModel) else auto


def layer_stack_path(auto_model) -> tuple[str, torch.nn.ModuleList]:
    """The dotted name and object of the transformer's list of layers: the ``ModuleList`` with
    ``num_hidden_layers`` entries (``encoder.layer`` in BERT / XLM-R, ``transformer.layer`` in DistilBERT)."""
    depth = getattr(auto_model.config, "num_hidden_layers", None)
    for name, module in auto_model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == depth:
            return name, module
    raise ValueError(f"no list of {depth} transformer layers found in {type(auto_model).__name__}")


def frozen_depth(model) -> int:
    """How many of the lowest layers (with everything before them) have no trainable weight: the prefix that
    training leaves unchanged. 0 when anything before the stack trains or the model is not a plain transformer."""
    auto = transformer_model(model)
    try:
        _, stack = layer_stack_path(auto)
    except ValueError:
        return 0
    in_stack = {id(p) for p in stack.parameters()}
    for param in auto.parameters():  # registration order: everything before the stack comes first
        if id(param) in in_stack:
            break
        if param.requires_grad:
            return 0
    depth = 0
    for layer in stack:
        if any(p.requires_grad for p in layer.parameters()):
            break
        depth += 1
    return depth if depth < len(stack) else 0


def _prefix_modules(auto_model, depth: int) -> list[torch.nn.Module]:
    """The modules that make up the prefix: every child subtree whose weights all lie before the stack, and the
    first ``depth`` layers."""
    stack_name, stack = layer_stack_path(auto_model)
    ancestors = {".".join(stack_name.split(".")[:i]) for i in range(len(stack_name.split(".")))}
    in_stack = {id(p) for p in stack.parameters()}
    before: set[int] = set()
    for param in auto_model.parameters():
        if id(param) in in_stack:
            break
        before.add(id(param))
    modules = []
    for name, module in auto_model.named_children():
        params = {id(p) for p in module.parameters()}
        if name not in ancestors and params and params <= before:
            modules.append(module)
    return modules + list(stack)[:depth]


def keep_prefix_in_eval(model, depth: int) -> list:
    """The prefix runs in eval mode whatever the trainer's ``model.train()`` set: no dropout below the trained
    layers, in the cached path (where it does not run at all) and the recomputed one alike, so both see the same
    states and draw the same random numbers. Returns the hook handles."""
    def to_eval(module, args):
        if module.training:
            module.train(False)
    return [m.register_forward_pre_hook(to_eval) for m in _prefix_modules(transformer_model(model), depth)]


def prefix_key(model, depth: int) -> str:
    """The store folder's name: a hash of every byte of the prefix's weights, its depth and the model class."""
    auto = transformer_model(model)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{type(auto).__name__}:{depth}".encode())
    for module in _prefix_modules(auto, depth):
        for name, tensor in module.state_dict().items():
            data = tensor.detach().cpu().contiguous()
            digest.update(f"{name}{tuple(data.shape)}{data.dtype}".encode())
            digest.update(data.view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()


def prefix_depth(model, trained_layers: int) -> int:
    """The frozen prefix of a model whose top ``trained_layers`` layers trained (``freeze_layers``): its layer count
    minus those; 0 (nothing to cache) when it has no plain layer stack or ``trained_layers`` is 0. A query-side
    model counts the layers of its routes' transformers (both the base's architecture)."""
    modules = transformer_modules(model)
    if not trained_layers or not modules:
        return 0
    try:
        return max(0, len(layer_stack_path(transformer_model(modules[0]))[1]) - trained_layers)
    except ValueError:
        return 0


@contextmanager
def served_prefix(model, depth: int, root: str | Path | None = None) -> Iterator[list[FrozenPrefix]]:
    """Within the block, ``model`` (a trained model, its WiSE-FT average, or the base itself: all share the prefix's
    weights when only the top layers trained) runs only its top layers on the stored states; what it computed is
    written on the way out. A query-side model is served on both routes, from one store when their prefixes are
    the same weights. ``depth`` 0 (or a model without a layer stack, e.g. BM25) serves nothing. Yields the
    attached :class:`FrozenPrefix` objects (one per transformer; none when nothing is served)."""
    if depth <= 0:
        yield []
        return
    stores: dict[Path, PrefixStore] = {}
    prefixes = [FrozenPrefix(module, depth, root, stores) for module in transformer_modules(model)]
    try:
        yield prefixes
    finally:
        for prefix in prefixes:
            prefix.flush()
            prefix.detach()


class FrozenPrefix:
    """Serves a model's frozen prefix from a :class:`PrefixStore` (see the module docstring). ``detach()`` removes
    the hooks; ``flush()`` writes what was computed since the last flush. In training, the prefix must also be
    kept in eval mode (:func:`keep_prefix_in_eval`, which :mod:`hf_hybrid.training.tuning` applies whether or not
    the cache is on)."""

    def __init__(self, model, depth: int, root: str | Path | None = None,
                 stores: dict[Path, PrefixStore] | None = None):
        """``model``: a ``SentenceTransformer`` whose first module is its transformer, or one ``Transformer``
        module (a route of a query-side model). ``stores``: folders already open, shared by the prefixes of one
        model so that two routes with one prefix read and write one store."""
        modules = transformer_modules(model)
        if len(modules) != 1:
            raise ValueError(f"{type(model).__name__} has {len(modules)} transformers; serve them with served_prefix")
        (transformer,) = modules
        auto = transformer_model(transformer)
        self.auto, self.depth = auto, depth
        stack_name, self.stack = layer_stack_path(auto)
        if not 0 < depth < len(self.stack):
            raise ValueError(f"a frozen prefix of {depth} layers needs 0 < depth < {len(self.stack)}")
        parent_name, _, self.attr = stack_name.rpartition(".")
        self.parent = auto.get_submodule(parent_name) if parent_name else auto
        self.top = torch.nn.ModuleList(list(self.stack)[depth:])
        self.bottom = torch.nn.ModuleList(list(self.stack)[:depth])
        folder = Path(root or default_root()) / prefix_key(transformer, depth)
        stores = {} if stores is None else stores
        if folder not in stores:
            stores[folder] = PrefixStore(folder)
        self.store = stores[folder]
        self.hits = self.misses = 0
        self._inject: torch.Tensor | None = None
        self._computing = False
        # On sentence-transformers' Transformer module, not the transformers model: the module calls the model's
        # ``forward`` method directly, which skips hooks registered on the model itself.
        self._handles = [
            transformer.register_forward_pre_hook(self._before),
            self.top[0].register_forward_pre_hook(self._into_top, with_kwargs=True),
            transformer.register_forward_hook(self._after, always_call=True),
        ]

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def flush(self) -> Path | None:
        return self.store.flush()

    # -- the hooks ---------------------------------------------------------------------------------------------
    def _before(self, module, args):
        features = args[0] if args and isinstance(args[0], Mapping) else {}  # encode passes a BatchEncoding
        if self._computing or features.get("input_ids") is None or features.get("attention_mask") is None:
            return None  # a call we do not know how to serve runs the whole model, unchanged
        states = self.lookup(features["input_ids"], features["attention_mask"], features.get("token_type_ids"))
        if states is None:
            return None
        self._inject = states
        self.parent._modules[self.attr] = self.top
        return None

    def _into_top(self, module, args, kwargs):
        if self._inject is None:
            return None
        states, self._inject = self._inject, None
        if args:
            return (states.to(args[0]), *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": states.to(kwargs["hidden_states"])}

    def _after(self, module, args, output):
        self.parent._modules[self.attr] = self.stack
        self._inject = None

    # -- states --------------------------------------------------------------------------------------------------
    def lookup(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               token_type_ids: torch.Tensor | None = None) -> torch.Tensor | None:
        """The prefix's output for a batch, ``(rows, seq, hidden)``, zeros past each row's last token; missing rows
        are computed in one forward of the prefix and stored. None when a row cannot be served (left padding)."""
        keys = row_keys(input_ids, attention_mask, token_type_ids)
        if any(k is None for k in keys):
            return None
        if any(k not in self.store.entries for k in keys):
            self.store.refresh()  # another process or cell may have written them meanwhile
        missing = list({k: i for i, k in reversed(list(enumerate(keys))) if k not in self.store.entries}.values())
        if missing:  # one row per distinct missing text
            self._compute(missing, keys, input_ids, attention_mask, token_type_ids)
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        found = [self.store.entries[k] for k in keys]
        out = np.zeros((len(keys), input_ids.shape[1], found[0].shape[1]), np.float32)
        for row, states in enumerate(found):
            out[row, :states.shape[0]] = states
        return torch.from_numpy(out).to(input_ids.device)

    @torch.no_grad()
    def _compute(self, rows: list[int], keys: list[bytes], input_ids, attention_mask, token_type_ids) -> None:
        """The prefix alone on the missing rows (trimmed to their longest), the stack swapped for its bottom."""
        length = int(attention_mask[rows].sum(dim=1).max())
        inputs = {"input_ids": input_ids[rows, :length], "attention_mask": attention_mask[rows, :length]}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids[rows, :length]
        was_training = self.auto.training
        self._computing = True
        self.parent._modules[self.attr] = self.bottom
        try:
            self.auto.train(False)
            hidden = self.auto(**inputs, return_dict=True).last_hidden_state.float().cpu().numpy()
        finally:
            self.parent._modules[self.attr] = self.stack
            self.auto.train(was_training)
            self._computing = False
        mask = inputs["attention_mask"].cpu().numpy().astype(bool)
        for j, row in enumerate(rows):
            self.store.add(keys[row], np.ascontiguousarray(hidden[j, :int(mask[j].sum())]))
