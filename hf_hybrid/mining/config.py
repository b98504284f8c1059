"""Settings of ``hf-hybrid mine``: the false-negative guards of sentence-transformers' ``mine_hard_negatives``
(same names, same meaning) plus what parallel data needs (the group-blind ablation, language-trap negatives)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hf_hybrid.config import check_types
from hf_hybrid.errors import UserError

SAMPLING = ("top", "random")


@dataclass
class MineConfig:
    data: str = field(default="sample", metadata={"help": "parallel source: sample | synthetic:... | a local "
                                                          "file/folder | a Hub dataset id"})
    model: str = field(default="sentence-transformers/all-MiniLM-L6-v2",
                       metadata={"help": "model that scores candidates (any name `hf-hybrid models` lists, a "
                                         "folder or a Hub id)"})
    output: str | None = field(default=None, metadata={"help": "folder to save the mined dataset to (default: "
                                                               "print the summary only)"})
    languages: list[str] | None = field(default=None, metadata={"help": "keep only these languages"})
    splits: list[str] = field(default_factory=lambda: ["train"],
                              metadata={"help": "splits to mine (the others are copied unchanged)"})
    num_negatives: int = field(default=1, metadata={"help": "negatives per row"})
    range_min: int = field(default=0, metadata={"help": "skip the first N surviving candidates (the hardest)"})
    range_max: int = field(default=50, metadata={"help": "consider only the top N candidates"})
    absolute_margin: float | None = field(default=None, metadata={
        "help": "drop a candidate unless score + margin <= the positive's score"})
    relative_margin: float | None = field(default=None, metadata={
        "help": "drop a candidate scoring above positive - |positive| * margin"})
    max_score: float | None = field(default=None, metadata={"help": "drop a candidate scoring above this"})
    sampling: str = field(default="top", metadata={"help": "top: the hardest survivors; random: drawn from them"})
    seed: int = field(default=42, metadata={"help": "seed of the random sampling"})
    generic: bool = field(default=False, metadata={
        "help": "ablation: one pool of all languages and group-blind (only the row's own passage is excluded), "
                "as a generic miner does; may return translations of the positive"})
    language_trap: int = field(default=0, metadata={
        "help": "also store N trap_negatives per row: its hardest survivors in its own language, which a plan "
                "uses as the negative of a cross-lingual pair whose QUERY is that row's"})
    batch_size: int = field(default=64, metadata={"help": "encoding batch size"})

    def validate(self) -> None:
        check_types(self)
        if self.num_negatives < 1:
            raise UserError("num_negatives", f"{self.num_negatives}", "use 1 or more")
        if self.range_min < 0:
            raise UserError("range_min", f"{self.range_min} is negative", "use 0 or more")
        if self.range_max <= self.range_min:
            raise UserError("range_max", f"{self.range_max} is not above range_min {self.range_min}",
                            "use a range_max larger than range_min")
        room = self.range_max - self.range_min
        if self.num_negatives > room or self.language_trap > room:
            raise UserError("num_negatives", f"{max(self.num_negatives, self.language_trap)} negatives asked from "
                            f"{room} candidates (range_max {self.range_max} - range_min {self.range_min})",
                            "lower num_negatives / language_trap or raise range_max")
        for name in ("absolute_margin", "relative_margin"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise UserError(name, f"{value} is negative", "use a margin >= 0 (e.g. 0.05) or leave it unset")
        if self.relative_margin is not None and self.relative_margin >= 1:
            raise UserError("relative_margin", f"{self.relative_margin}", "use a fraction below 1 (e.g. 0.05)")
        if self.sampling not in SAMPLING:
            raise UserError("sampling", repr(self.sampling), f"use one of {', '.join(SAMPLING)}")
        if self.language_trap < 0:
            raise UserError("language_trap", f"{self.language_trap} is negative", "use 0 (off) or a count")
        if self.language_trap and self.generic:
            raise UserError("language_trap", "set with generic", "trap negatives need per-language pools; drop one")
        if self.batch_size < 1:
            raise UserError("batch_size", f"{self.batch_size}", "use 1 or more")

    def settings(self) -> dict:
        """What changes the mined negatives (the provenance and the grid's cache key)."""
        skip = {"data", "output", "languages", "batch_size"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}
