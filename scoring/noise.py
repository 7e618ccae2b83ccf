"""ASR noise as Whisper makes it on these calls: measured once on the samples, then applied to clean dialogues.

`measure()` aligns each turn's true text with what was transcribed (Levenshtein opcodes over normal forms) and
counts what went wrong, per true character: homophones (same toneless pinyin, as the matcher sees it),
near-pinyin substitutions (one letter of the pinyin apart, or a classic merge such as n/l, an/ang, in/ing),
other substitutions, dropped characters, inserted characters and splits (one character heard as two).
`bench/asr_noise.py` stores the result as `scoring/data/asr_noise.yaml`; `load_noise()` reads it and
`NoiseModel.apply()` draws the same kinds of errors at the measured rates, deterministically from a seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rapidfuzz.distance import Levenshtein

from scoring.normalise import normalise, pinyin

if TYPE_CHECKING:
    from scoring.corpus import Dialogue

Kind = Literal["homophone", "near_pinyin", "other", "dropped", "inserted", "split"]
KINDS: tuple[Kind, ...] = ("homophone", "near_pinyin", "other", "dropped", "inserted", "split")
DATA = "asr_noise.yaml"
_NEAR = (("n", "l"), ("f", "h"), ("ang", "an"), ("eng", "en"), ("ing", "in"), ("r", "l"))


class NoiseError(Exception):
    """The noise table cannot be used (one line)."""


def syllable(char: str) -> str:
    return pinyin(char).strip()


def near(a: str, b: str) -> bool:
    """Whether two different syllables are what a telephone line and an accent blur: one letter apart, or a
    classic merge (n/l, f/h, an/ang, en/eng, in/ing, r/l)."""
    if a == b or not a.isalpha() or not b.isalpha():
        return False
    if Levenshtein.distance(a, b) <= 1:
        return True
    return any(_merge(a, x, y) == _merge(b, x, y) for x, y in _NEAR)


def _merge(s: str, x: str, y: str) -> str:
    return s.replace(x, y) if len(x) > 1 else (y + s[1:] if s.startswith(x) else s)


class Substitution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    truth: str = Field(min_length=1)
    heard: str
    kind: Kind
    count: int = Field(ge=1)


class Confusions(BaseModel):
    """What `measure()` found: counts per kind over `chars` true characters, and each observed substitution."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    measured_on: str
    turns: int = Field(ge=1)
    chars: int = Field(ge=1)
    counts: dict[Kind, int]
    substitutions: list[Substitution]
    homophones: dict[str, list[str]] = Field(description="syllable → common characters that sound like it")

    def dump(self) -> str:
        header = "# Measured by `python -m bench.asr_noise` (see its docstring); counts are per true character.\n"
        return header + yaml.safe_dump(self.model_dump(), allow_unicode=True, sort_keys=False, width=200)

    def rate(self, kind: Kind) -> float:
        return self.counts.get(kind, 0) / self.chars


def classify(truth: str, heard: str) -> Kind:
    """The kind of one replacement of `truth` characters by `heard` characters (both non-empty)."""
    if len(truth) == 1 and len(heard) == 2:
        return "split"
    if len(truth) != len(heard):
        return "other"
    pairs = list(zip(map(syllable, truth), map(syllable, heard), strict=True))
    if all(a == b for a, b in pairs):
        return "homophone"
    if all(a == b or near(a, b) for a, b in pairs):
        return "near_pinyin"
    return "other"


def measure(pairs: Iterable[tuple[str, str]], measured_on: str) -> Confusions:
    """Count the errors of every (true text, transcribed text) pair of one turn each."""
    counts: Counter[str] = Counter()
    seen: Counter[tuple[str, str, str]] = Counter()
    turns = chars = 0
    for truth_text, heard_text in pairs:
        truth, heard = normalise(truth_text), normalise(heard_text)
        turns += 1
        chars += len(truth)
        for op in Levenshtein.opcodes(truth, heard):
            a, b = truth[op.src_start : op.src_end], heard[op.dest_start : op.dest_end]
            if op.tag == "delete":
                counts["dropped"] += len(a)
            elif op.tag == "insert":
                counts["inserted"] += len(b)
            elif op.tag == "replace":
                for part_a, part_b in _split_replace(a, b):
                    kind = classify(part_a, part_b)
                    counts[kind] += len(part_a)
                    seen[(part_a, part_b, kind)] += 1
    substitutions = [
        Substitution(truth=t, heard=h, kind=k, count=n)
        for (t, h, k), n in sorted(seen.items(), key=lambda item: (-item[1], item[0]))
    ]
    return Confusions(
        measured_on=measured_on,
        turns=turns,
        chars=chars,
        counts={k: counts[k] for k in KINDS},
        substitutions=substitutions,
        homophones=common_homophones(),
    )


def common_homophones(per_syllable: int = 8, common: int = 3500) -> dict[str, list[str]]:
    """Per syllable, the most frequent characters of jieba's dictionary that sound like it: what a substituted
    homophone is drawn from (rare characters would make the noise easier to see through than Whisper's)."""
    import jieba  # only the measurement needs it

    weight: Counter[str] = Counter()
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as words:
        for line in words:
            word, freq = line.split()[:2]
            for char in word:
                if "\u4e00" <= char <= "\u9fff":
                    weight[char] += int(freq)
    table: dict[str, list[str]] = {}
    for char, _ in weight.most_common(common):
        sound = table.setdefault(syllable(char), [])
        if len(sound) < per_syllable:
            sound.append(char)
    return dict(sorted(table.items()))


def _split_replace(a: str, b: str) -> list[tuple[str, str]]:
    """An equal-length replacement is one substitution per character; any other stays whole."""
    if len(a) == len(b):
        return list(zip(a, b, strict=True))
    return [(a, b)]


class NoiseModel:
    """Draws errors at the measured rates. Substitutions seen in the samples are replayed for their own characters;
    any other character becomes a homophone or a near-pinyin character from the stored table."""

    def __init__(self, confusions: Confusions) -> None:
        self.confusions = confusions
        self.rates = {kind: confusions.rate(kind) for kind in KINDS}
        self.observed: dict[str, list[Substitution]] = {}
        for sub in confusions.substitutions:
            self.observed.setdefault(sub.truth, []).append(sub)
        self.by_syllable = confusions.homophones
        self._near = {s: [t for t in self.by_syllable if near(s, t)] for s in self.by_syllable}
        self._sounds = sorted(self.by_syllable)

    def apply(self, text: str, rng: random.Random) -> str:
        """`text` as Whisper might have heard it: punctuation kept where it was, errors on Chinese characters."""
        out: list[str] = []
        for char in text:
            if not ("\u4e00" <= char <= "\u9fff"):
                out.append(char)
                continue
            out.append(self._one(char, rng))
        return "".join(out)

    def _one(self, char: str, rng: random.Random) -> str:
        roll = rng.random()
        for kind in KINDS:
            rate = self.rates[kind]
            if roll < rate:
                return self._error(char, kind, rng)
            roll -= rate
        return char

    def _error(self, char: str, kind: Kind, rng: random.Random) -> str:
        if kind == "dropped":
            return ""
        if kind == "inserted":
            return char + rng.choice(self._fillers)
        replayed = [s for s in self.observed.get(char, []) if s.kind == kind]
        if replayed:
            return rng.choices([s.heard for s in replayed], weights=[s.count for s in replayed])[0]
        sound = syllable(char)
        if kind == "split":
            return char + char
        if kind == "near_pinyin":
            options = self._near.get(sound, [])
            sound = rng.choice(options) if options else sound
        elif kind == "other":
            sound = rng.choice(self._sounds)
        candidates = [c for c in self.by_syllable.get(sound, []) if c != char]
        return rng.choice(candidates) if candidates else char

    @property
    def _fillers(self) -> list[str]:
        inserted = [s.heard for s in self.confusions.substitutions if s.kind == "other" and len(s.heard) == 1]
        return inserted or ["的"]


def load_noise(path: Path | None = None) -> NoiseModel:
    """The measured table bundled with callqa (or another one). Raises `NoiseError` (one line)."""
    try:
        text = (
            path.read_text(encoding="utf-8")
            if path
            else resources.files("scoring.data").joinpath(DATA).read_text("utf-8")
        )
        return NoiseModel(Confusions.model_validate(yaml.safe_load(text)))
    except (OSError, yaml.YAMLError) as exc:
        raise NoiseError(f"{path or DATA}: cannot read the noise table: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise NoiseError(f"{path or DATA}: field {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def noisy_variants(dialogues: list[Dialogue], model: NoiseModel, *, count: int, seed: int) -> list[Dialogue]:
    """`count` noisy copies of every dialogue (ids `ID~1`, `ID~2`…), each drawn from its own seeded generator, so
    one dialogue's variants do not change when others are added."""
    made = []
    for number in range(1, count + 1):
        for dialogue in dialogues:
            rng = random.Random(f"{seed}:{dialogue.id}:{number}")
            turns = [t.model_copy(update={"text": model.apply(t.text, rng) or t.text}) for t in dialogue.turns]
            made.append(dialogue.model_copy(update={"id": f"{dialogue.id}~{number}", "turns": turns}))
    return made
