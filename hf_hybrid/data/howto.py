"""The bundled out-of-domain how-to set: practical questions and leaflet-style answers in the sample's 10 languages.

It exists so the real-language grid has a second evaluation set that was used neither for training nor for
choosing any setting, from a different source than the training data (issue 19: strategies that look best on
held-out groups of a small training source can transfer worst to other text). The sample is encyclopedic
question → fact; this set is a person's own situation → instructions (first aid, documents, mobile money, …),
written separately, with its own card (``hf_hybrid/data/howto/DATA_CARD.md``). Every group is ``test``.

    from hf_hybrid.data.howto import load_howto
    test = load_howto()                      # Dataset: id, lang, query, passage
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset

from hf_hybrid.data.sample import SAMPLE_LANGUAGES, SCHEMA_COLUMNS, read_bundled_table
from hf_hybrid.data.schema import validate_parallel
from hf_hybrid.errors import UserError

HOWTO_FILE = "howto.jsonl"


def howto_path() -> Traversable:
    return files("hf_hybrid.data") / "howto" / HOWTO_FILE


def load_howto(languages: list[str] | None = None) -> Dataset:
    """The how-to set as a validated parallel ``Dataset`` (all groups; it has only a test split)."""
    for code in languages or ():
        if code not in SAMPLE_LANGUAGES:
            raise UserError("languages", f"the how-to set has no language {code!r} (has "
                            f"{', '.join(SAMPLE_LANGUAGES)})", "choose languages the set has")
    table = read_bundled_table(howto_path())
    if languages:
        table = table.filter(pc.is_in(table["lang"], pa.array(list(languages))))
    return validate_parallel(Dataset(table.select(list(SCHEMA_COLUMNS))), source="howto")
