"""Sources → the parallel schema (``id``, ``lang``, ``query``, ``passage``[, ``negatives``]) as ``datasets``."""

from hf_hybrid.data.local import load_parallel
from hf_hybrid.data.schema import group_counts, validate_parallel
from hf_hybrid.data.synthetic import SyntheticWorld, WorldConfig, make_world


def load_sample(split: str | None = None, languages: list[str] | None = None):
    """The bundled real-language sample (see ``hf_hybrid/data/sample/DATA_CARD.md``)."""
    from hf_hybrid.data.sample import load_sample as _load

    return _load(split=split, languages=languages)


__all__ = ["load_parallel", "validate_parallel", "group_counts", "make_world", "WorldConfig", "SyntheticWorld",
           "load_sample"]
