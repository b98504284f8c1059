"""``hf-hybrid push-space MODEL --space-id org/name``: the cross-lingual search demo as a Hugging Face Space.

A Space installs its ``requirements.txt`` and runs ``app.py``. hf-hybrid is not on PyPI, so the Space gets the
package as a wheel built from this checkout and uploaded beside the app (``./hf_hybrid-<ver>-py3-none-any.whl[demo]``
in the requirements, a form pip accepts in a requirements file), with every dependency pinned to the version tested
here. One commit uploads:

- ``app.py`` (``space/app.py``, the thin launcher) and ``requirements.txt``;
- ``space_settings.json``: ``MODEL_ID``, ``BASE_MODEL_ID``, ``CORPUS`` and ``DEMO_EMBEDDINGS``, which the demo reads
  as defaults under the Space's own variables (:func:`hf_hybrid.demo.config.settings_from_file`);
- ``demo_embeddings/<model fingerprint>/<prompt>.npz``: the corpus embedded by each model
  (:func:`hf_hybrid.demo.cache.write_corpus_embeddings`), so the Space answers without re-embedding at start;
- the corpus file when it is local (``corpus/<name>``);
- ``README.md``: the Space card (``space/README.md`` with its YAML header filled in by ``huggingface_hub.SpaceCard``)
  and a section saying which embeddings ship, keyed by what, and that a mismatch makes the demo re-embed.

The models must already be on the Hub (``hf-hybrid push``): a Space cannot read a folder on this machine.
The token comes from ``HF_TOKEN`` or ``hf auth login`` and is never printed or written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from hf_hybrid.errors import UserError

ROOT = Path(__file__).resolve().parents[1]  # the checkout the wheel is built from
SETTINGS_FILE = "space_settings.json"
EMBEDDINGS_FOLDER = "demo_embeddings"
EXTRAS = ("demo",)  # what the Space needs beyond the core: gradio and faiss-cpu
# CPU Spaces: torch from the CPU wheel index (the default index would pull CUDA builds of several GB)
TORCH_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def check_models(names: list[str]) -> None:
    """Each model is a Hub id, not a local folder: the Space downloads it by that id."""
    from hf_hybrid.hub_names import is_hub_id

    for name in names:
        if Path(name).expanduser().exists() or not is_hub_id(name):
            raise UserError("MODEL", f"{name!r} is not a Hub model id (a Space cannot read a folder on this machine)",
                            "push the folder first (hf-hybrid push FOLDER --repo-id org/name) and pass org/name")


def build_wheel(dest: Path) -> Path:
    """The package's wheel, built from a copy of the checkout (so no ``build/`` or ``*.egg-info`` lands in it).

    ``--no-build-isolation``: the build uses the setuptools installed here instead of fetching one from PyPI, so
    push-space works offline against a local endpoint and takes a second.
    """
    if not (ROOT / "pyproject.toml").is_file() or not (ROOT / "space" / "app.py").is_file():
        raise UserError("push-space", f"{ROOT} is not an hf-hybrid source checkout (no pyproject.toml, space/app.py)",
                        "run push-space from a clone of the repository (pip install -e .)")
    src = dest / "src"
    shutil.copytree(ROOT / "hf_hybrid", src / "hf_hybrid", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, src / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(dest / "wheel"), str(src)], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError("wheel", f"pip wheel failed ({last})", "install setuptools>=68 into this environment")
    return next((dest / "wheel").glob("hf_hybrid-*.whl"))


def pinned_requirements(wheel: Path) -> str:
    """``requirements.txt``: the wheel with its extras, then its dependencies pinned to the versions installed here.

    The wheel's ``Requires-Dist`` lines carry no marker but ``extra == "..."`` (pyproject.toml), so a regex reads
    them without adding ``packaging`` as a dependency.
    """
    import re
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(meta).decode().splitlines()
    pins = []
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        spec, _, marker = line.split(":", 1)[1].strip().partition(";")
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec).group(0)
        extras = set(re.findall(r'extra\s*==\s*"([^"]+)"', marker))
        if (extras and not extras & set(EXTRAS)) or name == "hf-hybrid":
            continue
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(spec.strip())
    return "\n".join(["# hf-hybrid from the wheel beside this file; its dependencies pinned to the tested versions",
                      TORCH_INDEX, f"./{wheel.name}[{','.join(EXTRAS)}]", *sorted(pins, key=str.lower)]) + "\n"


def corpus_hash(passages: list[str]) -> str:
    """sha256 over the passages' cache keys in order: names the corpus the shipped embeddings were made from."""
    from hf_hybrid.evaluation.embeddings import text_key

    return hashlib.sha256("\n".join(text_key(p) for p in passages).encode()).hexdigest()[:16]


def write_embeddings(models: list[str], passages: list[str], folder: Path) -> list[dict]:
    """Each model's corpus embeddings under ``folder/<fingerprint>/<prompt>.npz``; what was written, for the card."""
    from hf_hybrid.demo.cache import write_corpus_embeddings
    from hf_hybrid.models import load_model

    shipped = []
    for name in models:
        path = write_corpus_embeddings(load_model(name), passages, folder)
        shipped.append({"model": name, "file": path.relative_to(folder.parent).as_posix(),
                        "fingerprint": path.parent.name, "prompt": path.stem})
    return shipped


def render_card(models: list[str], corpus: str | None, passages: int, digest: str, shipped: list[dict]):
    """``space/README.md`` (the Space card template) with the models, the running gradio/Python, and the shipped
    embeddings documented; ``corpus`` is the ``CORPUS`` setting as the Space sees it."""
    import gradio
    from huggingface_hub import SpaceCard

    from hf_hybrid.hub_names import is_hub_id

    card = SpaceCard((ROOT / "space" / "README.md").read_text(encoding="utf-8"))
    card.data.models = models
    card.data.sdk, card.data.app_file = "gradio", "app.py"
    card.data.sdk_version = gradio.__version__
    card.data.python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if corpus and is_hub_id(corpus) and not corpus.startswith("corpus/"):
        card.data.datasets = [corpus]
    rows = "\n".join(f"| `{s['model']}` | `{s['file']}` | `{s['fingerprint']}` | `{s['prompt']}` |" for s in shipped)
    card.text += f"""
## What this Space ships

Settings (`{SETTINGS_FILE}`, overridden by the Space's variables): models {', '.join(f'`{m}`' for m in models)};
corpus {f'`{corpus}`' if corpus else 'the sample bundled with hf-hybrid'} ({passages} passages, corpus hash
`{digest}`: sha256 over the passages' keys). hf-hybrid is installed from the wheel uploaded beside `app.py`.

The corpus embeddings were computed before the push, one file per model, so the Space answers without
re-embedding at start:

| model | file | model fingerprint | prompt |
| --- | --- | --- | --- |
{rows}

Each file holds `keys` (sha256 of each passage, 32 hex characters) and `vectors` (float32, L2-normalised). The
demo reads a file only for the model whose fingerprint (weights, prompts, max sequence length) names its folder,
with that passage prompt, and only for the passages whose keys it holds; then two passages are re-embedded and
must agree (cosine >= 0.999). If the model, the prompt or the corpus changed, those checks fail or the keys do not
match, and the demo re-embeds what is missing (progress on the page), never serving stale vectors.
"""
    return card


def _corpus_setting(corpus: str | None) -> tuple[str | None, list[tuple[str, Path]]]:
    """``CORPUS`` as the Space sees it, and the local files to upload for it (``corpus/<name>``)."""
    if corpus is None or not Path(corpus).expanduser().exists():
        return corpus, []
    source = Path(corpus).expanduser()
    if source.is_file():
        return f"corpus/{source.name}", [(f"corpus/{source.name}", source)]
    files = [(f"corpus/{source.name}/{p.relative_to(source).as_posix()}", p) for p in sorted(source.rglob("*"))
             if p.is_file()]
    return f"corpus/{source.name}", files


def _stage(model: str, base: str | None, corpus: str | None, stage: Path) -> tuple[list, int]:
    """Every file of the Space, as ``CommitOperationAdd``s, after every input was checked; and the file count."""
    from huggingface_hub import CommitOperationAdd

    from hf_hybrid.demo.corpus import load_corpus

    models = [model] + ([base] if base else [])
    check_models(models)
    passages = load_corpus(corpus).passages  # a bad CORPUS is one line before any model is downloaded
    shipped = write_embeddings(models, passages, stage / EMBEDDINGS_FOLDER)
    wheel = build_wheel(stage)
    setting, corpus_files = _corpus_setting(corpus)
    settings = {"MODEL_ID": model, "DEMO_EMBEDDINGS": EMBEDDINGS_FOLDER}
    settings.update({k: v for k, v in (("BASE_MODEL_ID", base), ("CORPUS", setting)) if v})
    card = render_card(models, setting, len(passages), corpus_hash(passages), shipped)
    files = {"app.py": (ROOT / "space" / "app.py").read_bytes(), "README.md": str(card).encode(),
             "requirements.txt": pinned_requirements(wheel).encode(), wheel.name: wheel,
             SETTINGS_FILE: (json.dumps(settings, indent=2) + "\n").encode(),
             **{s["file"]: stage / s["file"] for s in shipped}, **dict(corpus_files)}
    ops = [CommitOperationAdd(path, str(src) if isinstance(src, Path) else src) for path, src in files.items()]
    return ops, len(files)


def push_space(model: str, space_id: str, *, base: str | None = None, corpus: str | None = None,
               private: bool = False, token: str | None = None, commit_message: str | None = None) -> str:
    """Create (or update) the Space ``space_id`` serving ``model`` (and ``base``) in one commit; returns its URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    from hf_hybrid.hub import TRANSIENT_EXCEPTIONS, as_user_error, verify_commit, with_retries
    from hf_hybrid.hub_names import check_repo_id, require_token

    check_repo_id(space_id, "space-id")
    token = require_token(token)
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="hf-hybrid-space-") as tmp:
        ops, count = _stage(model, base, corpus, Path(tmp))
        message = commit_message or f"hf-hybrid: push-space {model} ({count} files: app, wheel, settings, " \
            "embeddings, card)"
        try:
            with_retries(lambda: api.create_repo(space_id, repo_type="space", space_sdk="gradio", private=private,
                                                 exist_ok=True), what="create space")
            info = with_retries(lambda: api.create_commit(space_id, ops, commit_message=message, repo_type="space"),
                                what="commit")
            verify_commit(api, space_id, "space", info.oid, [op.path_in_repo for op in ops])
        except (HfHubHTTPError, OfflineModeIsEnabled, *TRANSIENT_EXCEPTIONS) as err:
            raise as_user_error(err, space_id) from err
    return f"{api.endpoint}/spaces/{space_id}"
