"""Settings of ``hf-hybrid mine``: the false-negative guards of sentence-transformers' ``mine_hard_negatives``
(same names, same meaning) plus what parallel data needs (the group-blind ablation, language-trap negatives)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hf_hybrid.config import check_types
from hf_hybrid.errors import UserError
from hf_hybrid.ranges import SEED, check_ranges

SAMPLING = ("top", "random")


@dataclass
class MineConfig:
    data: str = field(default="sample", metadata={"help": "parallel source: sample | synthetic:... | a local "
                                                          "file/folder | a Hub dataset id", "kind": "source"})
    model: str = field(default="sentence-transformers/all-MiniLM-L6-v2",
                       metadata={"help": "model that scores candidates (any name `hf-hybrid models` lists, a "
                                         "folder or a Hub id)", "kind": "model"})
    output: str | None = field(default=None, metadata={"help": "folder to save the mined dataset to (default: "
                                                               "print the summary only)", "kind": "output"})
    languages: list[str] | None = field(default=None, metadata={"help": "keep only these languages",
                                                                "kind": "text"})
    splits: list[str] = field(default_factory=lambda: ["train"],
                              metadata={"help": "splits to mine (the others are copied unchanged)",
                                        "kind": "text"})
    num_negatives: int = field(default=1, metadata={"help": "negatives per row", "range": "[1, inf)"})
    range_min: int = field(default=0, metadata={"help": "skip the first N surviving candidates (the hardest)",
                                                "range": "[0, inf)"})
    range_max: int = field(default=50, metadata={"help": "consider only the top N candidates",
                                                 "range": "[1, inf)"})
    absolute_margin: float | None = field(default=None, metadata={
        "help": "drop a candidate unless score + margin <= the positive's score",
        "range": "[0, inf)", "fix": "use a margin >= 0 (e.g. 0.05) or leave it unset"})
    relative_margin: float | None = field(default=None, metadata={
        "help": "drop a candidate scoring above positive - |positive| * margin",
        "range": "[0, 1)", "fix": "use a fraction below 1 (e.g. 0.05) or leave it unset"})
    max_score: float | None = field(default=None, metadata={"help": "drop a candidate scoring above this",
                                                            "range": "(-inf, inf)"})
    sampling: str = field(default="top", metadata={"help": "top: the hardest survivors; random: drawn from them",
                                                   "choices": SAMPLING})
    seed: int = field(default=42, metadata={"help": "seed of the random sampling", "range": SEED})
    generic: bool = field(default=False, metadata={
        "help": "ablation: one pool of all languages and group-blind (only the row's own passage is excluded), "
                "as a generic miner does; may return translations of the positive"})
    language_trap: int = field(default=0, metadata={
        "help": "also store N trap_negatives per row: its hardest survivors in its own language, which a plan "
                "uses as the negative of a cross-lingual pair whose QUERY is that row's",
        "range": "[0, inf)", "fix": "use 0 (off) or a count"})
    batch_size: int = field(default=64, metadata={"help": "encoding batch size", "range": "[1, inf)"})

    def validate(self) -> None:
        check_types(self)
        check_ranges(self)  # every range and choice declared above
        if self.range_max <= self.range_min:
            raise UserError("range_max", f"{self.range_max} is not above range_min {self.range_min}",
                            "use a range_max larger than range_min")
        room = self.range_max - self.range_min
        if self.num_negatives > room or self.language_trap > room:
            raise UserError("num_negatives", f"{max(self.num_negatives, self.language_trap)} negatives asked from "
                            f"{room} candidates (range_max {self.range_max} - range_min {self.range_min})",
                            "lower num_negatives / language_trap or raise range_max")
        if self.language_trap and self.generic:
            raise UserError("language_trap", "set with generic", "trap negatives need per-language pools; drop one")

    def settings(self) -> dict:
        """What changes the mined negatives (the provenance and the grid's cache key)."""
        skip = {"data", "output", "languages", "batch_size"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}
