"""``PlanConfig``: how the batches of a plan are drawn (strategy, alpha, batch size, seed, languages), with the checks
a plan makes before it draws anything. Shared by the CLI flags, YAML configs and the Python API; the drawing itself
is :mod:`hf_hybrid.sampling`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hf_hybrid.config import check_types
from hf_hybrid.errors import UserError
from hf_hybrid.ranges import SEED, check_ranges

STRATEGIES = ("mono", "cross", "hybrid", "sequential", "mixed")
# Batch kinds. A strategy draws the first three; ``translation`` replaces a share ``beta`` of any strategy's steps.
KINDS = ("mono", "cross", "mixed", "translation")
MONO, CROSS, MIXED, TRANSLATION = 0, 1, 2, 3
PHASE_KINDS = KINDS[:3]  # what ``first`` / ``then`` may name


@dataclass
class PlanConfig:
    """How batches are drawn. Shared by the CLI flags, YAML configs and the Python API."""

    strategy: str = field(default="hybrid", metadata={"help": f"one of {', '.join(STRATEGIES)}",
                                                      "choices": STRATEGIES})
    alpha: float = field(default=0.5, metadata={"help": "hybrid: probability that a step is monolingual",
                                                "range": "[0, 1]",
                                                "fix": "use a probability, e.g. 0.5 (the paper)"})
    batch_size: int = field(default=32, metadata={"help": "global batch size (all processes together)",
                                                  "range": "[2, inf)",
                                                  "fix": "in-batch negatives need a batch size of at least 2"})
    seed: int = field(default=42, metadata={"help": "the plan is a pure function of (seed, step)",
                                            "range": SEED})
    first: str = field(default="mono", metadata={"help": "sequential: kind of the first phase (mono|cross|mixed)",
                                                 "choices": PHASE_KINDS})
    then: str = field(default="cross", metadata={"help": "sequential: kind of the second phase",
                                                 "choices": PHASE_KINDS})
    switch_step: int | None = field(default=None, metadata={"help": "sequential: first step of the second phase "
                                                                    "(default: half of the steps)",
                                                            "range": "[0, inf)",
                                                            "fix": "use a step >= 0, or omit it (half)"})
    cross_pairing: str = field(default="mixed", metadata={"help": "cross: 'mixed' (a language pair per row, as "
                                                                  "the paper) or 'pair' (one pair per batch)",
                                                          "choices": ("mixed", "pair")})
    language_sampling: str = field(default="uniform", metadata={"help": "'uniform' (the paper) or 'size' "
                                                                        "(pool size ** (1/temperature))",
                                                                "choices": ("uniform", "size")})
    temperature: float = field(default=1.0, metadata={"help": "language_sampling=size: temperature",
                                                      "range": "(0, inf)",
                                                      "fix": "use a positive temperature"})
    train_languages: list[str] | None = field(default=None, metadata={"help": "training languages (default: all)",
                                                                      "kind": "text"})
    exclude_languages: list[str] = field(default_factory=list,
                                         metadata={"help": "languages held out of training (zero-shot)",
                                                   "kind": "text"})
    beta: float = field(default=0.0, metadata={"help": "any strategy: probability that a step is a translation "
                                                       "batch instead (rows: a group's passage in language x "
                                                       "and its translation in y != x, both in the query role: "
                                                       "the translation ranking task multilingual bases are "
                                                       "pre-trained on (LaBSE, Feng et al., ACL 2022), "
                                                       "against forgetting; issue 29); the strategy draws the "
                                                       "other steps (hybrid: mono with alpha); 0: off",
                                               "range": "[0, 1]"})

    def validate(self) -> None:
        check_types(self)  # the same check the YAML loader applies: exclude_languages="es" is not ['e', 's']
        check_ranges(self)  # every range and choice declared above

    def check_languages(self, present: set[str], source: str, names: dict[str, str] | None = None) -> None:
        """Where the plan meets the data: every language a setting names must be a known code, and in the data.

        A held-out language the data lacks would be recorded as zero-shot while nothing was held out; a training
        language it lacks would silently train on fewer. One exception: with ``train_languages`` given, the config
        says exactly what trains, and ``exclude_languages`` may then also name evaluation-only languages that the
        training data never had (the paper's el and vi next to mMARCO) — they are zero-shot by construction.
        ``names`` renames a setting for a command that calls it differently (the quickstart's ``held_out``)."""
        from hf_hybrid.languages import is_known

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
        """The batch kinds this strategy (and ``beta``) can produce."""
        kinds = {"mono": {MONO}, "cross": {CROSS}, "mixed": {MIXED}, "hybrid": {MONO, CROSS},
                 "sequential": {KINDS.index(self.first), KINDS.index(self.then)}}[self.strategy]
        return kinds | {TRANSLATION} if self.beta else kinds

    def describe(self) -> str:
        if self.strategy == "hybrid":
            name = f"hybrid(alpha={self.alpha})"
        elif self.strategy == "sequential":
            name = f"sequential({self.first}->{self.then}, switch={self.switch_step})"
        else:
            name = self.strategy
        return f"{name} + translation(beta={self.beta})" if self.beta else name
