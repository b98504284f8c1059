"""The bundled real-language sample: 500 question–passage groups in 10 languages, shipped inside the package.

The texts live in ``hf_hybrid/data/sample/sample.jsonl`` (package data, so an installed wheel finds them through
:mod:`importlib.resources`); ``hf_hybrid/data/sample/DATA_CARD.md`` says how they were made and their limits.
The file is assembled by ``scripts/build_sample.py`` from hand-written sources; the train/test split is by group
(every fifth group is test), so no question leaks across splits in any language.

    from hf_hybrid.data import load_sample
    splits = load_sample()                                # DatasetDict: train (400 groups), test (100 groups)
    test_sw = load_sample("test", languages=["en", "sw"])
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as paj
from datasets import Dataset, DatasetDict

from hf_hybrid.data.schema import validate_parallel
from hf_hybrid.errors import UserError
from hf_hybrid.languages import resource_level, script

SAMPLE_FILE = "sample.jsonl"
SAMPLE_SPLITS = ("train", "test")
SAMPLE_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "de", "ru", "ar", "sw", "yo", "ha", "am")
# Resource level and script per language, from the shared language table (so cards and reports agree).
SAMPLE_RESOURCE_LEVELS: dict[str, str] = {code: resource_level(code) for code in SAMPLE_LANGUAGES}
LOW_RESOURCE: frozenset[str] = frozenset(c for c, level in SAMPLE_RESOURCE_LEVELS.items() if level == "low")
SAMPLE_SCRIPTS: dict[str, str] = {code: script(code) for code in SAMPLE_LANGUAGES}
SCHEMA_COLUMNS = ("id", "lang", "query", "passage")


def sample_path() -> Traversable:
    """Where the sample's JSONL file is, in a source checkout or an installed wheel alike."""
    return files("hf_hybrid.data") / "sample" / SAMPLE_FILE


def read_bundled_table(path: Traversable) -> pa.Table:
    """A JSONL file shipped in the package, straight into Arrow: no row loop, no `datasets` cache files."""
    with path.open("rb") as handle:
        return paj.read_json(handle)


def load_sample(split: str | None = None, languages: list[str] | None = None) -> DatasetDict | Dataset:
    """The sample as a validated parallel ``DatasetDict`` (train/test), or one split as a ``Dataset``.

    ``languages`` keeps only those languages (all groups stay complete in each). Columns: ``id``, ``lang``,
    ``query``, ``passage``.
    """
    if split is not None and split not in SAMPLE_SPLITS:
        raise UserError("split", f"the sample has no split {split!r} (has {', '.join(SAMPLE_SPLITS)})",
                        f"use one of {', '.join(SAMPLE_SPLITS)}")
    for code in languages or ():
        if code not in SAMPLE_LANGUAGES:
            raise UserError("languages", f"the sample has no language {code!r} (has {', '.join(SAMPLE_LANGUAGES)})",
                            "choose languages the sample has")
    table = read_bundled_table(sample_path())
    if languages:
        table = table.filter(pc.is_in(table["lang"], pa.array(list(languages))))
    parts = {}
    for name in [split] if split else SAMPLE_SPLITS:
        part = table.filter(pc.equal(table["split"], name)).select(list(SCHEMA_COLUMNS))
        parts[name] = validate_parallel(Dataset(part), source=f"sample[{name}]")
    return parts[split] if split else DatasetDict(parts)
