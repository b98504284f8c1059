"""A seeded synthetic multilingual world: a stand-in for real parallel QA data that runs anywhere.

Why: the paper's question (hybrid vs sequential batches, zero-shot languages) needs many languages with
controlled resource levels and scripts, which no data shipped offline gives. The world has

* **concepts** shared by all languages; each language has its own lexicon for them. Languages of one *family*
  derive their words from a common proto-lexicon with mutations (cognates), written in the family's script;
  families use disjoint scripts (Latin, Cyrillic, Ethiopic, Devanagari, Greek), so some pairs share surface
  forms and others share nothing but meaning;
* **groups**: a question–passage pair about a subject (two concepts) and a relation, with its object as the
  answer, rendered in every language with that language's word order;
* **resource levels**: ``high`` languages have every training group, ``low`` ones a small fraction, ``zero``
  ones none (zero-shot); every language has every dev/test group, so held-out evaluation covers all of them.

Text is assembled column-wise with ``pyarrow.compute`` (lexicon ``take`` + ``binary_join_element_wise``), chunk by
chunk, so millions of rows never exist as Python lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, DatasetDict

from hf_hybrid.errors import UserError
from hf_hybrid.languages import SYNTHETIC_CODES

_CONSONANTS = "ptkbdgmnlrsvfzh"
_VOWELS = "aeiou"
# Letter maps from the Latin proto-alphabet into each family script (one code point per letter).
_SCRIPT_LETTERS = {
    "Latin": _CONSONANTS + _VOWELS,
    "Cyrillic": "птксдгмнлрсвфзхаеиоу".replace("с", "ц", 1),
    "Greek": "πτκβδγμνλρσφθζχαειου",
    "Ethiopic": "ፐጠከበደገመነለረሰቨፈዘሀአኤኢኦኡ",
    "Devanagari": "पटकबडगमनलरसवफज़हअएइओउ".replace("ज़", "ज"),
}
_FAMILY_SCRIPTS = ("Latin", "Cyrillic", "Ethiopic", "Devanagari", "Greek")
_QUESTION, _ABOUT = 0, 1  # reserved concept ids for the question word and a filler preposition
_RESERVED = 2


@dataclass
class WorldConfig:
    """Size and shape of a synthetic world. Same config + seed → identical world."""

    seed: int = 0
    high: int = 3
    low: int = 3
    zero: int = 2
    families: int = 3
    train_groups: int = 2000
    dev_groups: int = 200
    test_groups: int = 300
    low_fraction: float = 0.15
    concepts: int = 1500
    relations: int = 40
    hard_negatives: bool = True
    mutation_rate: float = 0.25
    shared_names: float = 0.0
    chunk_groups: int = 100_000

    def validate(self) -> None:
        n = self.high + self.low + self.zero
        if n < 2 or n > len(SYNTHETIC_CODES):
            raise UserError("languages", f"high+low+zero = {n}", f"use between 2 and {len(SYNTHETIC_CODES)} languages")
        if self.high < 1:
            raise UserError("high", f"{self.high}", "a world needs at least one high-resource language")
        if not 0 < self.low_fraction <= 1:
            raise UserError("low_fraction", f"{self.low_fraction}", "use a fraction in (0, 1]")
        if min(self.train_groups, self.dev_groups, self.test_groups) < 0:
            raise UserError("groups", "negative group count", "use counts >= 0")
        if not 0 <= self.shared_names < 1:
            raise UserError("shared_names", f"{self.shared_names}", "use a fraction in [0, 1), e.g. 0.1")
        if self.concepts < self.relations + _RESERVED + 10:
            raise UserError("concepts", f"{self.concepts}", f"use at least relations + {_RESERVED + 10}")


@dataclass
class SyntheticLanguage:
    code: str
    family: int
    script: str
    resource: str  # "high" | "low" | "zero"
    word_order: tuple[int, ...]  # permutation of (subject, relation, object) in passages


@dataclass
class SyntheticWorld:
    """The generated world: its languages and the parallel :class:`~datasets.DatasetDict` (train/dev/test)."""

    config: WorldConfig
    languages: list[SyntheticLanguage]
    dataset: DatasetDict
    lexicons: dict[str, pa.Array] = field(repr=False)

    def resource_levels(self) -> dict[str, str]:
        """Language → ``high`` / ``low`` / ``zero-shot`` (the evaluation's vocabulary)."""
        return {lang.code: "zero-shot" if lang.resource == "zero" else lang.resource for lang in self.languages}

    def codes(self, resource: str | None = None) -> list[str]:
        return [lang.code for lang in self.languages if resource is None or lang.resource == resource]

    def summary(self) -> dict:
        return {"config": asdict(self.config),
                "languages": [asdict(lang) for lang in self.languages],
                "rows": {split: len(ds) for split, ds in self.dataset.items()}}

    def monolingual_text(self, lang: str, sentences: int, seed: int = 0) -> list[str]:
        """Unlabelled sentences in one language (for masked-language-model pre-training): random subjects,
        relations and objects drawn independently of the parallel groups, so no parallel signal leaks."""
        rng = np.random.default_rng([self.config.seed, 7, seed, SYNTHETIC_CODES.index(lang)])
        spec = next(language for language in self.languages if language.code == lang)
        c = self.config
        subject = rng.integers(_RESERVED + c.relations, c.concepts, size=(sentences, 2))
        relation = rng.integers(_RESERVED, _RESERVED + c.relations, size=sentences)
        obj = rng.integers(_RESERVED + c.relations, c.concepts, size=sentences)
        filler = rng.integers(_RESERVED + c.relations, c.concepts, size=sentences)
        table = _passages(self.lexicons[lang], spec, subject, relation, obj, filler)
        return table.to_pylist()


def _word(rng: np.random.Generator) -> str:
    syllables = rng.integers(2, 4)
    return "".join(rng.choice(list(_CONSONANTS)) + rng.choice(list(_VOWELS)) for _ in range(syllables))


def _mutate(word: str, rng: np.random.Generator, rate: float) -> str:
    letters = list(word)
    for i, ch in enumerate(letters):
        if rng.random() < rate:
            letters[i] = rng.choice(list(_VOWELS if ch in _VOWELS else _CONSONANTS))
    return "".join(letters)


def _lexicon(proto: list[str], script: str, rng: np.random.Generator, rate: float,
             names: dict[int, str] | None = None) -> pa.Array:
    """One language's words: cognates of the family's proto-words, written in the family's script, except the
    shared ``names``, written identically (in Latin letters) in every language.

    Words are kept unique within a language (a collision would make two concepts indistinguishable)."""
    table = str.maketrans(_SCRIPT_LETTERS["Latin"], _SCRIPT_LETTERS[script])
    names = names or {}
    seen: set[str] = set()  # names are capitalized, mutated words lower-case: the two never collide
    words = []
    for concept, base in enumerate(proto):
        if concept in names:
            words.append(names[concept])
        else:
            words.append(_unique(_mutate(base, rng, rate), seen, rng).translate(table))
    return pa.array(words, pa.string())


def _unique(word: str, seen: set[str], rng: np.random.Generator) -> str:
    """``word``, lengthened by random vowels until it is not in ``seen``; recorded in ``seen``."""
    while word in seen:
        word = word + rng.choice(list(_VOWELS))
    seen.add(word)
    return word


def _shared_names(config: WorldConfig) -> dict[int, str]:
    """Concept id → a name written the same way in every language (people, places, brands, numbers).

    Why: a multilingual encoder such as XLM-R starts fine-tuning with *some* cross-lingual alignment, much of it
    anchored on strings that every language's text shares. Without any shared string, a world's families have
    nothing in common but meaning, and an encoder pre-trained on it starts at chance cross-lingually. Drawn from
    their own random stream, so ``shared_names=0`` leaves a world exactly as it was."""
    if not config.shared_names:
        return {}
    rng = np.random.default_rng([config.seed, 11])
    nouns = np.arange(_RESERVED + config.relations, config.concepts)
    chosen = rng.choice(nouns, size=max(1, round(config.shared_names * len(nouns))), replace=False)
    seen: set[str] = set()
    return {concept: _unique(_word(rng).capitalize(), seen, rng) for concept in sorted(int(c) for c in chosen)}


def _languages(config: WorldConfig, rng: np.random.Generator) -> list[SyntheticLanguage]:
    levels = ["high"] * config.high + ["low"] * config.low + ["zero"] * config.zero
    result = []
    for i, level in enumerate(levels):
        family = i % config.families
        order = tuple(int(x) for x in rng.permutation(3)) if family else (0, 1, 2)
        result.append(SyntheticLanguage(SYNTHETIC_CODES[i], family, _FAMILY_SCRIPTS[family % 5], level, order))
    return result


def _passages(lexicon: pa.Array, lang: SyntheticLanguage, subject, relation, obj, filler) -> pa.Array:
    parts = [pc.binary_join_element_wise(pc.take(lexicon, subject[:, 0]), pc.take(lexicon, subject[:, 1]), " "),
             pc.take(lexicon, relation), pc.take(lexicon, obj)]
    ordered = [parts[i] for i in lang.word_order]
    about = pa.array(np.full(len(relation), lexicon[_ABOUT].as_py(), dtype=object), pa.string())
    return pc.binary_join_element_wise(*ordered, about, pc.take(lexicon, filler), " ")


def _queries(lexicon: pa.Array, lang: SyntheticLanguage, subject, relation) -> pa.Array:
    question = pa.array(np.full(len(relation), lexicon[_QUESTION].as_py(), dtype=object), pa.string())
    subj = pc.binary_join_element_wise(pc.take(lexicon, subject[:, 0]), pc.take(lexicon, subject[:, 1]), " ")
    rel = pc.take(lexicon, relation)
    first, second = (subj, rel) if lang.word_order.index(0) < lang.word_order.index(1) else (rel, subj)
    return pc.binary_join_element_wise(question, first, second, " ")


def _group_keys(config: WorldConfig, total: int, rng: np.random.Generator) -> np.ndarray:
    """Unique (subject pair, relation) keys: no two groups ask the same question (no false negatives)."""
    nouns = config.concepts - config.relations - _RESERVED
    space = nouns * nouns * config.relations
    if total > space // 2:
        raise UserError("concepts", f"{config.concepts} concepts give {space} questions for {total} groups",
                        "raise concepts (or relations) so there are at least twice as many questions as groups")
    return rng.choice(space, size=total, replace=False)


def _decode(keys: np.ndarray, config: WorldConfig) -> tuple[np.ndarray, np.ndarray]:
    nouns = config.concepts - config.relations - _RESERVED
    relation = keys % config.relations + _RESERVED
    pair = keys // config.relations
    subject = np.stack([pair // nouns, pair % nouns], axis=1) + _RESERVED + config.relations
    return subject, relation


def _split_tables(world_langs, lexicons, config, keys, first_id, split, rng) -> Iterator[pa.Table]:
    """Yield Arrow tables (one per chunk × language) for one split."""
    for start in range(0, len(keys), config.chunk_groups):
        chunk = keys[start:start + config.chunk_groups]
        n = len(chunk)
        subject, relation = _decode(chunk, config)
        low_nouns = _RESERVED + config.relations
        obj = rng.integers(low_nouns, config.concepts, size=n)
        filler = rng.integers(low_nouns, config.concepts, size=n)
        neg_relation = (relation - _RESERVED + rng.integers(1, config.relations, size=n)) % config.relations + _RESERVED
        neg_obj = rng.integers(low_nouns, config.concepts, size=n)
        ids = pa.array([f"{split}-{first_id + start + i:08d}" for i in range(n)], pa.string())
        keep_low = rng.random(n) < config.low_fraction
        for lang in world_langs:
            if split == "train" and lang.resource != "high":
                mask = keep_low if lang.resource == "low" else np.zeros(n, dtype=bool)
            else:
                mask = np.ones(n, dtype=bool)
            if not mask.any():
                continue
            lex = lexicons[lang.code]
            columns = {
                "id": ids,
                "lang": pa.array([lang.code] * n, pa.string()),
                "query": _queries(lex, lang, subject, relation),
                "passage": _passages(lex, lang, subject, relation, obj, filler),
            }
            if config.hard_negatives:
                negative = _passages(lex, lang, subject, neg_relation, neg_obj, filler)
                columns["negatives"] = pa.ListArray.from_arrays(np.arange(n + 1, dtype=np.int32), negative)
            yield pa.table(columns).filter(pa.array(mask))


def _typed(name: str, value, current):
    """An override in the type of the setting it replaces. Source strings (``synthetic:seed=3``) arrive as
    int, float or str; a value of the wrong kind is a one-line error here rather than a TypeError deep inside."""
    if isinstance(current, bool):
        if value in (0, 1) or str(value).lower() in ("true", "false"):
            return value in (1, True) or str(value).lower() == "true"
    elif isinstance(current, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    kind = {bool: "true or false", int: "an integer", float: "a number"}[type(current)]
    raise UserError(name, f"{value!r} is not {kind}", f"give e.g. {name}={current}")


def make_world(config: WorldConfig | None = None, **overrides) -> SyntheticWorld:
    """Generate a world. ``make_world(train_groups=10_000, seed=3)`` overrides fields of :class:`WorldConfig`."""
    config = config or WorldConfig()
    for name, value in overrides.items():
        if not hasattr(config, name):
            raise UserError(name, "not a synthetic-world setting", f"use one of {', '.join(asdict(config))}")
        setattr(config, name, _typed(name, value, getattr(config, name)))
    config.validate()
    rng = np.random.default_rng(config.seed)
    languages = _languages(config, rng)
    protos = [[_word(rng) for _ in range(config.concepts)] for _ in range(config.families)]
    names = _shared_names(config)
    lexicons = {lang.code: _lexicon(protos[lang.family], lang.script, rng, config.mutation_rate, names)
                for lang in languages}
    total = config.train_groups + config.dev_groups + config.test_groups
    keys = _group_keys(config, total, rng)
    splits = {"train": keys[:config.train_groups],
              "dev": keys[config.train_groups:config.train_groups + config.dev_groups],
              "test": keys[config.train_groups + config.dev_groups:]}
    data = {}
    for split, split_keys in splits.items():
        tables = list(_split_tables(languages, lexicons, config, split_keys, 0, split, rng))
        if tables:
            data[split] = Dataset(pa.concat_tables(tables))
    return SyntheticWorld(config, languages, DatasetDict(data), lexicons)
