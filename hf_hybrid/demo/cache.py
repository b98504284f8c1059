"""Corpus embeddings on disk, so that a restart answers in seconds instead of re-embedding the whole corpus.

Embedding the bundled 1,500 passages with two multilingual-e5-small models took minutes on 2 CPU cores at every
start; reading them back takes milliseconds. The format is the evaluation's own
:class:`~hf_hybrid.evaluation.embeddings.EmbeddingCache` (one helper for one job), so a file is::

    <root>/<model fingerprint>/<prompt name, or "none">.npz   with  keys: sha256 of each passage (32 hex chars)
                                                                   vectors: float32, L2-normalised, one row per key

It is keyed by the model's fingerprint (:func:`~hf_hybrid.evaluation.embeddings.model_fingerprint`: weights,
prompts, max_seq_length), by the passage prompt's name, and per passage text: a corpus is cached when every one of
its passages is, which is its corpus hash, and a corpus that changed keeps the vectors of the passages it kept.

Where the demo looks, in this order: ``<model folder>/demo_embeddings/`` (shipped with a model: ``hf-hybrid push``
writes it with :func:`write_corpus_embeddings`), the same path in the model's Hub repo, the folder ``DEMO_EMBEDDINGS``
names (a Space made by ``hf-hybrid push-space`` ships its models' files there), and the local cache
``$HF_HYBRID_CACHE/demo_embeddings/`` (default ``~/.cache/hf_hybrid/demo_embeddings/``), the only place it writes.
A file is served only after it passed three checks: it reads, its vectors have the model's dimension and unit
norm, and two of its passages re-embedded now agree with it (cosine >= 0.999), so a file copied under the wrong
fingerprint, or written by another model, is never served: the demo says so and re-embeds.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from hf_hybrid.demo.search import Encoder

# torch and sentence-transformers come with the evaluation's cache: imported where used, so that importing the
# demo (and putting its page up) does not wait for them

CACHE_FOLDER = "demo_embeddings"
SPOT_CHECK_COSINE = 0.999  # a float32 model re-embedding the same text on CPU agrees to ~1e-6
CHUNK = 128  # passages embedded between two progress reports (4 batches of 32)
Log = Callable[[str], None]
Progress = Callable[[int, int], None]


def local_cache_root() -> Path:
    """``$HF_HYBRID_CACHE/demo_embeddings`` (default ``~/.cache/hf_hybrid/demo_embeddings``): where the demo writes."""
    from hf_hybrid.models import cache_root

    return cache_root() / CACHE_FOLDER


def _hub_file(name: str, relative: str) -> Path | None:
    """``relative`` from the model's Hub repo when the Hub can be asked, else None (never a long network wait)."""
    import huggingface_hub

    from hf_hybrid.models import hub_reachable

    if name.count("/") != 1 or huggingface_hub.constants.HF_HUB_OFFLINE or not hub_reachable():
        return None
    try:
        return Path(huggingface_hub.hf_hub_download(name, relative))
    except Exception:  # absent file, private repo, network: each only means "not shipped"; we embed instead
        return None


def _cache_files(name: str | None, fingerprint: str, prompt: str | None, shipped_dir: str | Path | None = None
                 ) -> list[Path]:
    """The cache files to try for model ``name``, in order: shipped in its folder or its Hub repo, shipped in
    ``shipped_dir`` (a Space's ``demo_embeddings/``), then local."""
    from hf_hybrid.evaluation.embeddings import EmbeddingCache
    from hf_hybrid.models import resolve_model

    relative = Path(CACHE_FOLDER) / fingerprint / f"{prompt or 'none'}.npz"
    files = [EmbeddingCache(local_cache_root(), fingerprint, prompt).path]
    if shipped_dir is not None:
        files.insert(0, EmbeddingCache(shipped_dir, fingerprint, prompt).path)
    if name is None:
        return files
    folder = Path(resolve_model(name))
    with_model = folder / relative if folder.is_dir() else _hub_file(name, relative.as_posix())
    return [with_model, *files] if with_model is not None else files


def _read_checked(path: Path, encoder: Encoder, wanted: dict[str, str]) -> tuple[dict[str, np.ndarray], str | None]:
    """The vectors of the ``wanted`` passages (key -> text) in ``path``, or why none of them can be served."""
    try:
        with np.load(path) as data:
            keys, vectors = data["keys"].tolist(), np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        return {}, f"{path} cannot be read ({type(err).__name__})"
    dim = encoder.model.get_embedding_dimension()
    if vectors.ndim != 2 or len(vectors) != len(keys) or (dim and vectors.shape[1] != dim):
        return {}, f"{path} holds vectors of shape {vectors.shape}, not {dim}-dimensional ones"
    table = {k: v for k, v in zip(keys, vectors, strict=True) if k in wanted}
    if not table:
        return {}, None
    matrix = np.stack(list(table.values()))
    if not np.isfinite(matrix).all() or np.abs(np.linalg.norm(matrix, axis=1) - 1).max() > 1e-3:
        return {}, f"{path} holds vectors that are not unit-length"
    probe = [next(iter(table)), list(table)[-1]]
    fresh = encoder.encode([wanted[k] for k in probe], query=False)
    cosine = float(min(np.sum(fresh * np.stack([table[k] for k in probe]), axis=1)))
    if cosine < SPOT_CHECK_COSINE:
        return {}, f"{path} does not match this model (re-embedded passages agree at cosine {cosine:.3f})"
    return table, None


def corpus_embeddings(encoder: Encoder, passages: Sequence[str], *, model_name: str | None = None, log: Log = print,
                      progress: Progress | None = None, shipped_dir: str | Path | None = None) -> np.ndarray:
    """The L2-normalised embeddings of ``passages`` (row i for passage i) with the encoder's passage prompt.

    Read from the cache files of model ``model_name`` (its folder or Hub repo, then ``shipped_dir``, then the local
    cache; without a name, ``shipped_dir`` and the local cache) that pass the checks; what is missing is embedded ``CHUNK`` passages at a time
    (``progress(done, total)`` after each chunk, a console line every tenth) and merged into the local cache.
    """
    from hf_hybrid.evaluation.embeddings import model_fingerprint, text_key

    fingerprint = model_fingerprint(encoder.model)
    wanted = {text_key(text): text for text in passages}
    table: dict[str, np.ndarray] = {}
    rejected: set[Path] = set()
    for path in _cache_files(model_name, fingerprint, encoder.passage_prompt, shipped_dir):
        if not path.is_file() or len(table) == len(wanted):
            continue
        found, problem = _read_checked(path, encoder, wanted)
        if problem:
            log(f"{problem}: not used")
            rejected.add(path)
        elif found:
            log(f"{len(found)} of {len(wanted)} passage embeddings read from {path}")
        table = {**found, **table}
    missing = [key for key in wanted if key not in table]
    if missing:
        table.update(_embed_missing(encoder, [wanted[k] for k in missing], fingerprint, log, progress, rejected))
    return np.stack([table[text_key(text)] for text in passages]).astype(np.float32)


def _embed_missing(encoder: Encoder, texts: list[str], fingerprint: str, log: Log, progress: Progress | None,
                   rejected: set[Path]) -> dict[str, np.ndarray]:
    """Embed ``texts`` in chunks, reporting progress, and merge them into the local cache file.

    A local file that failed its checks is replaced, not merged into: its other vectors are as suspect.
    """
    from hf_hybrid.evaluation.embeddings import EmbeddingCache, text_key

    log(f"embedding {len(texts)} passages (not cached for model fingerprint {fingerprint}, "
        f"prompt {encoder.passage_prompt!r})")
    # longest first, as sentence-transformers orders one encode call: chunks of similar length pad least
    texts = sorted(texts, key=len, reverse=True)
    start, vectors, step = time.perf_counter(), [], max(len(texts) // 10, 1)
    for i in range(0, len(texts), CHUNK):
        vectors.append(encoder.encode(texts[i:i + CHUNK], query=False))
        done = min(i + CHUNK, len(texts))
        if progress is not None:
            progress(done, len(texts))
        if done == len(texts) or done // step != (done - CHUNK) // step:
            log(f"embedded {done}/{len(texts)} passages in {time.perf_counter() - start:.0f} s")
    new = dict(zip((text_key(t) for t in texts), np.concatenate(vectors), strict=True))
    cache = EmbeddingCache(local_cache_root(), fingerprint, encoder.passage_prompt)
    try:
        cache.save(new if cache.path in rejected else {**cache.load(), **new})
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # an unreadable old file is replaced whole
        cache.save(new)
    log(f"cached them in {cache.path}")
    return new


def write_corpus_embeddings(model, passages: Sequence[str] | None, folder: str | Path, *,
                            log: Log = print) -> Path:
    """Write the cache file for (``model``, ``passages``) into ``folder``; return its path.

    ``passages`` None means the demo's default corpus (the bundled sample). For shipping with a model::

        write_corpus_embeddings(model, None, Path(model_dir) / CACHE_FOLDER)

    writes ``<model_dir>/demo_embeddings/<fingerprint>/<prompt>.npz``, which the demo reads from that folder, or
    from the Hub repo the folder is pushed to, before it would embed. Vectors already in the local cache are reused.
    """
    from hf_hybrid.evaluation.embeddings import EmbeddingCache, model_fingerprint, text_key

    if passages is None:
        from hf_hybrid.demo.corpus import load_corpus

        passages = load_corpus(None).passages
    encoder = Encoder(str(folder), model)
    matrix = corpus_embeddings(encoder, passages, log=log)  # the local cache only: ``folder`` is being written
    cache = EmbeddingCache(folder, model_fingerprint(model), encoder.passage_prompt)
    cache.save(dict(zip((text_key(t) for t in passages), matrix, strict=True)))
    return cache.path
