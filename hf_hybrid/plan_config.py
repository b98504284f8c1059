"""``PlanConfig``: how the batches of a plan are drawn (strategy, alpha, batch size, seed, languages), with the checks
a plan makes before it draws anything. Shared by the CLI flags, YAML configs and the Python API; the drawing itself
is :mod:`hf_hybrid.sampling`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hf_hybrid.config import check_types
from hf_hybrid.errors import UserError

STRATEGIES = ("mono", "cross", "hybrid", "sequential", "mixed")
KINDS = ("mono", "cross", "mixed")
MONO, CROSS, MIXED = 0, 1, 2


@dataclass
class PlanConfig:
    """How batches are drawn. Shared by the CLI flags, YAML configs and the Python API."""

    strategy: str = field(default="hybrid", metadata={"help": f"one of {', '.join(STRATEGIES)}"})
    alpha: float = field(default=0.5, metadata={"help": "hybrid: probability that a step is monolingual"})
    batch_size: int = field(default=32, metadata={"help": "global batch size (all processes together)"})
    seed: int = field(default=42, metadata={"help": "the plan is a pure function of (seed, step)"})
    first: str = field(default="mono", metadata={"help": "sequential: kind of the first phase (mono|cross|mixed)"})
    then: str = field(default="cross", metadata={"help": "sequential: kind of the second phase"})
    switch_step: int | None = field(default=None, metadata={"help": "sequential: first step of the second phase "
                                                                    "(default: half of the steps)"})
    cross_pairing: str = field(default="mixed", metadata={"help": "cross: 'mixed' (a language pair per row, as "
                                                                  "the paper) or 'pair' (one pair per batch)"})
    language_sampling: str = field(default="uniform", metadata={"help": "'uniform' (the paper) or 'size' "
                                                                        "(pool size ** (1/temperature))"})
    temperature: float = field(default=1.0, metadata={"help": "language_sampling=size: temperature"})
    train_languages: list[str] | None = field(default=None, metadata={"help": "training languages (default: all)"})
    exclude_languages: list[str] = field(default_factory=list,
                                         metadata={"help": "languages held out of training (zero-shot)"})

    def validate(self) -> None:
        check_types(self)  # the same check the YAML loader applies: exclude_languages="es" is not ['e', 's']
        if self.strategy not in STRATEGIES:
            raise UserError("strategy", f"unknown strategy {self.strategy!r}", f"use one of {', '.join(STRATEGIES)}")
        if not 0.0 <= self.alpha <= 1.0:
            raise UserError("alpha", f"{self.alpha} is outside [0, 1]", "use a probability, e.g. 0.5 (the paper)")
        if self.batch_size < 2:
            raise UserError("batch_size", f"{self.batch_size}", "in-batch negatives need a batch size of at least 2")
        for name in ("first", "then"):
            if getattr(self, name) not in KINDS:
                raise UserError(name, f"unknown batch kind {getattr(self, name)!r}", f"use one of {', '.join(KINDS)}")
        if self.cross_pairing not in ("mixed", "pair"):
            raise UserError("cross_pairing", repr(self.cross_pairing), "use 'mixed' or 'pair'")
        if self.language_sampling not in ("uniform", "size"):
            raise UserError("language_sampling", repr(self.language_sampling), "use 'uniform' or 'size'")
        if not 0 < self.temperature < float("inf"):
            raise UserError("temperature", f"{self.temperature}", "use a positive temperature")
        if self.seed < 0:
            raise UserError("seed", f"{self.seed} is negative", "use a seed >= 0 (numpy's generators need one)")
        if self.switch_step is not None and self.switch_step < 0:
            raise UserError("switch_step", f"{self.switch_step} is negative", "use a step >= 0, or omit it (half)")

    def check_languages(self, present: set[str], source: str, names: dict[str, str] | None = None) -> None:
        """Where the plan meets the data: every language a setting names must be a known code, and in the data.

        A held-out language the data lacks would be recorded as zero-shot while nothing was held out; a training
        language it lacks would silently train on fewer. One exception: with ``train_languages`` given, the config
        says exactly what trains, and ``exclude_languages`` may then also name evaluation-only languages that the
        training data never had (the paper's el and vi next to mMARCO) — they are zero-shot by construction.
        ``names`` renames a setting for a command that calls it differently (the quickstart's ``held_out``)."""
        from hf_hybrid.data.languages import is_known

        for setting in ("exclude_languages", "train_languages"):
            codes = getattr(self, setting) or []
            unknown = [code for code in codes if not is_known(code)]
            declared = setting == "exclude_languages" and bool(self.train_languages)
            missing = unknown if declared else [code for code in codes if code not in present]
            if missing:
                raise UserError((names or {}).get(setting, setting), f"{', '.join(map(repr, missing))} not in "
                                f"{source!r} (it has {', '.join(sorted(present))})",
                                "name only languages the data has (ISO 639 codes)")

    def uses(self) -> set[int]:
        """The batch kinds this strategy can produce."""
        return {"mono": {MONO}, "cross": {CROSS}, "mixed": {MIXED}, "hybrid": {MONO, CROSS},
                "sequential": {KINDS.index(self.first), KINDS.index(self.then)}}[self.strategy]

    def describe(self) -> str:
        if self.strategy == "hybrid":
            return f"hybrid(alpha={self.alpha})"
        if self.strategy == "sequential":
            return f"sequential({self.first}->{self.then}, switch={self.switch_step})"
        return self.strategy
