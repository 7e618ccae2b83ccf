"""Phrasebooks are data: YAML files validated here (pydantic, `extra="forbid"`), then compiled for matching.

A directory holds `scorecard.yaml` (pass mark, category caps, confidence floors) and one `<theme>.yaml` per
theme; `<theme>.cases.yaml` beside it holds the rules' example dialogues (see `scoring.cases`). Every load
error is one line naming the file, the rule id and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from scoring.findings import Category, Severity
from scoring.matching import (
    ExactIndex,
    Gap,
    MatchOptions,
    Phrase,
    PhraseList,
    Regex,
    RegexSet,
    compile_phrase,
    compile_regex,
    regex_prefilter,
)

Role = Literal["agent", "client"]
RULE_ID = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
SOURCE = r"^\d{3}_[0-9a-f]{16}\.txt \S.*$"  # seed file name, a space, then the clause
SCORECARD_FILE = "scorecard.yaml"
CASES_SUFFIX = ".cases.yaml"


class PhrasebookError(Exception):
    """A phrasebook cannot be used; `str(err)` is 'FILE: rule RULE: field FIELD: problem'."""


class RuleKind(StrEnum):
    PHRASE_PRESENT = "phrase_present"
    PHRASE_ABSENT = "phrase_absent"
    REGEX_ABSENT = "regex_absent"
    PHRASE_AFTER_ANCHOR = "phrase_after_anchor"
    DEAD_AIR = "dead_air"
    HOLD_EXPLAINED = "hold_explained"
    RESPONSE_LATENCY = "response_latency"
    INTERRUPTION = "interruption"
    SPEECH_RATE = "speech_rate"
    VOLUME = "volume"
    UNANSWERED_QUESTION = "unanswered_question"
    HANGUP_ORDER = "hangup_order"
    CONCEPT = "concept"
    ADDRESS_FORM = "address_form"


class Status(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"  # kept so its id stays reserved and `rules explain` still answers; never scored


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _at_least(value: float, info: ValidationInfo, lower: str, why: str = "") -> float:
    """Cross-field check for a max/min pair, run on the upper field so the load error names it (the lower one
    is declared first, so it is already in `info.data` unless it failed on its own)."""
    low = info.data.get(lower)
    if low is not None and value < low:
        raise ValueError(f"{value:g} is below {lower} {low:g}{why}")
    return value


class Match(_Strict):
    min_score: float = Field(80.0, ge=50, le=100, description="0–100 similarity for a fuzzy hit (text or pinyin)")
    pinyin: bool = True
    fuzzy: bool = True
    fuzzy_min_chars: int = Field(4, ge=1, description="shorter phrases match exactly (text or pinyin) only")
    word_boundary: bool = Field(False, description="an exact hit must start and end on jieba word boundaries")

    def options(self) -> MatchOptions:
        return MatchOptions(**self.model_dump())


class Window(_Strict):
    """Exactly one of: the first/last N seconds of speech, or the role's first/last N turns."""

    first_s: float | None = Field(None, gt=0)
    last_s: float | None = Field(None, gt=0)
    first_turns: int | None = Field(None, ge=1)
    last_turns: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Window:
        if sum(v is not None for v in self.model_dump().values()) != 1:
            raise ValueError("give exactly one of first_s, last_s, first_turns, last_turns")
        return self

    def describe(self) -> str:
        if self.first_s is not None:
            return f"first {self.first_s:g} s"
        if self.last_s is not None:
            return f"last {self.last_s:g} s"
        if self.first_turns is not None:
            return f"first {self.first_turns} turns"
        return f"last {self.last_turns} turns"


class Concept(_Strict):
    """One idea said many ways: its phrases (matched as any phrase is) and what makes a hit of it innocent."""

    phrases: list[str] = Field(min_length=1)
    exceptions: list[str] = Field(default_factory=list, description="longer phrases that make a hit not count")
    negatable: bool = Field(True, description="a negation phrase just before a hit cancels it")
    pinyin: bool = Field(True, description="same pinyin counts; off where tones matter (买 mǎi / 卖 mài)")


class Clause(_Strict):
    """AND of concepts, heard in one turn within `within_chars` of each other, and none of `none_of` near them."""

    all_of: list[str] = Field(min_length=1)
    none_of: list[str] = Field(default_factory=list)
    within_chars: int | None = Field(None, ge=1, description="None: anywhere in the same turn")


class Negation(_Strict):
    phrases: list[str] = Field(min_length=1)
    before_chars: int = Field(6, ge=0, le=30, description="a negation ending this close before a hit cancels it")
    after_chars: int = Field(
        0, ge=0, le=30, description="a refutation starting this close after a hit cancels it (“保本的说法是不对的”)"
    )
    exceptions: list[str] = Field(
        default_factory=list, description="longer phrases in which a negation scopes nothing (“不会的,” as a reply)"
    )


class ConceptSpec(_Strict):
    """Concept lists combined: the spec is heard when any clause (OR) holds; each clause is an AND with NOT."""

    concepts: dict[str, Concept] = Field(min_length=1)
    any_of: list[Clause] = Field(min_length=1)
    negation: list[Negation] = Field(default_factory=list, description="e.g. 不 right before, 不能保证 further")
    match: Match = Match(min_score=85)

    @model_validator(mode="after")
    def _names_defined(self) -> ConceptSpec:
        for number, clause in enumerate(self.any_of):
            unknown = [c for c in (*clause.all_of, *clause.none_of) if c not in self.concepts]
            if unknown:
                raise ValueError(
                    f"any_of.{number}: unknown concept {unknown[0]!r} (define it under concepts: "
                    f"{', '.join(sorted(self.concepts))})"
                )
        return self

    def phrase_fields(self, prefix: str) -> dict[str, list[str]]:
        fields = {f"{prefix}concepts.{name}.phrases": c.phrases for name, c in self.concepts.items()}
        fields |= {f"{prefix}concepts.{name}.exceptions": c.exceptions for name, c in self.concepts.items()}
        for number, negation in enumerate(self.negation):
            fields[f"{prefix}negation.{number}.phrases"] = negation.phrases
            fields[f"{prefix}negation.{number}.exceptions"] = negation.exceptions
        return fields


class Anchor(_Strict):
    """What triggers the rule: once any of these phrases (or the concept spec) is heard, the rule's phrases must
    follow."""

    phrases: list[str] = Field(default_factory=list)
    concept: ConceptSpec | None = Field(None, description="also a trigger: e.g. selling context, not service talk")
    text_only: list[str] = Field(default_factory=list, description="phrases whose homophones do not count (买/卖)")
    exceptions: list[str] = Field(
        default_factory=list, description="longer phrases that make a trigger hit service talk"
    )
    service: str | None = Field(None, description="a concept of `concept`: heard near a phrase trigger, it is service")
    service_within: int = Field(10, ge=1, description="how near, in characters of the same turn")
    role: Role | None = None  # None: either party
    within_s: float | None = Field(None, gt=0, description="deadline after the trigger; None = before the call ends")
    match: Match = Match(fuzzy_min_chars=4)

    @model_validator(mode="after")
    def _something(self) -> Anchor:
        if not self.phrases and self.concept is None:
            raise ValueError("give phrases or a concept (or both)")
        if self.service is not None and (self.concept is None or self.service not in self.concept.concepts):
            raise ValueError(f"service: {self.service!r} is not a concept under concept.concepts")
        return self


class _Rule(_Strict):
    id: str = Field(pattern=RULE_ID)
    category: Category
    severity: Severity
    points: int = Field(ge=0, le=100)
    status: Status = Status.ACTIVE
    message: str = Field(min_length=1, description="what the supervisor reads when the rule fails")
    source: str = Field(pattern=SOURCE)
    why: str | None = None

    @property
    def active(self) -> bool:
        return self.status == Status.ACTIVE

    def phrase_fields(self) -> dict[str, list[str]]:
        """Every phrase the rule matches, by the field it is written in (what a load error names)."""
        return {}


class _PhraseRule(_Rule):
    role: Role | None = "agent"
    window: Window | None = None
    phrases: list[str] = Field(min_length=1)
    exceptions: list[str] = Field(default_factory=list, description="longer phrases that make a hit innocent")
    match: Match = Match()

    def phrase_fields(self) -> dict[str, list[str]]:
        return {"phrases": self.phrases, "exceptions": self.exceptions}


class PhrasePresent(_PhraseRule):
    kind: Literal[RuleKind.PHRASE_PRESENT]
    mode: Literal["any", "all"] = "any"


class PhraseAbsent(_PhraseRule):
    kind: Literal[RuleKind.PHRASE_ABSENT]
    unless: list[str] = Field(default_factory=list, description="phrases that, heard in scope, excuse the rule")

    def phrase_fields(self) -> dict[str, list[str]]:
        return {**super().phrase_fields(), "unless": self.unless}


class RegexAbsent(_Rule):
    kind: Literal[RuleKind.REGEX_ABSENT]
    role: Role | None = "agent"
    window: Window | None = None
    patterns: list[str] = Field(min_length=1, description="regular expressions over the normal text")
    exclude: list[str] = Field(default_factory=list, description="regexes whose match overlapping a hit excuses it")
    exceptions: list[str] = Field(default_factory=list)
    match: Match = Match(fuzzy=False)

    @field_validator("patterns", "exclude")
    @classmethod
    def _compiles(cls, values: list[str]) -> list[str]:
        for value in values:
            compile_regex(value)  # a ValueError names the pattern; pydantic adds the field
        return values

    def phrase_fields(self) -> dict[str, list[str]]:
        return {"exceptions": self.exceptions}


class PhraseAfterAnchor(_Rule):
    kind: Literal[RuleKind.PHRASE_AFTER_ANCHOR]
    role: Role | None = "agent"
    anchor: Anchor
    phrases: list[str] = Field(min_length=1)
    accept: ConceptSpec | None = Field(None, description="also accepted: the idea in the speaker's own words")
    revoked_by: list[str] = Field(
        default_factory=list, description="said after the follow-up, these take it back (“听听就行,别当回事”)"
    )
    contradicted_by: ConceptSpec | None = Field(
        None, description="heard from `role` anywhere in the call, no follow-up stands (a promise of returns)"
    )
    match: Match = Match()

    def phrase_fields(self) -> dict[str, list[str]]:
        fields = {
            "phrases": self.phrases,
            "anchor.phrases": self.anchor.phrases,
            "anchor.exceptions": self.anchor.exceptions,
            "revoked_by": self.revoked_by,
        }
        if self.anchor.concept is not None:
            fields |= self.anchor.concept.phrase_fields("anchor.concept.")
        if self.accept is not None:
            fields |= self.accept.phrase_fields("accept.")
        if self.contradicted_by is not None:
            fields |= self.contradicted_by.phrase_fields("contradicted_by.")
        return fields


class ConceptAbsent(_Rule):
    """Fails when the concept spec is heard from `role` (a promise of returns: certainty × money, not negated)."""

    kind: Literal[RuleKind.CONCEPT]
    role: Role | None = "agent"
    window: Window | None = None
    spec: ConceptSpec

    def phrase_fields(self) -> dict[str, list[str]]:
        return self.spec.phrase_fields("spec.")


class DeadAir(_Rule):
    kind: Literal[RuleKind.DEAD_AIR]
    max_s: float = Field(gt=0, description="longest silence of both parties")
    hold_phrases: list[str] = Field(default_factory=list, description="after these the agent may hold longer")
    hold_max_s: float = Field(60.0, gt=0)
    lookback_s: float = Field(15.0, gt=0, description="a hold phrase counts if said this long before the silence")
    match: Match = Match()

    @field_validator("hold_max_s")
    @classmethod
    def _hold_not_shorter(cls, value: float, info: ValidationInfo) -> float:
        return _at_least(value, info, "max_s", " (after a hold phrase the agent may be silent longer, not shorter)")

    def phrase_fields(self) -> dict[str, list[str]]:
        return {"hold_phrases": self.hold_phrases}


class HoldExplained(_Rule):
    kind: Literal[RuleKind.HOLD_EXPLAINED]
    min_gap_s: float = Field(gt=0, description="a silence this long while the client waits is a hold")
    phrases: list[str] = Field(min_length=1, description="what explains a hold, said before it")
    lookback_s: float = Field(15.0, gt=0)
    match: Match = Match()

    def phrase_fields(self) -> dict[str, list[str]]:
        return {"phrases": self.phrases}


class ResponseLatency(_Rule):
    kind: Literal[RuleKind.RESPONSE_LATENCY]
    max_s: float = Field(gt=0)
    hold_phrases: list[str] = Field(default_factory=list)
    lookback_s: float = Field(15.0, gt=0, description="a hold phrase counts if said this long before the answer")
    match: Match = Match()

    def phrase_fields(self) -> dict[str, list[str]]:
        return {"hold_phrases": self.hold_phrases}


class Interruption(_Rule):
    kind: Literal[RuleKind.INTERRUPTION]
    min_overlap_ms: int = Field(gt=0)
    cut_off_within_ms: int | None = Field(
        None, ge=0, description="an agent turn starting this soon after a client turn left unfinished cuts it off"
    )
    cut_off_marks: list[str] = Field(default_factory=list, description="how an unfinished turn ends (“……”)")


class SpeechRate(_Rule):
    kind: Literal[RuleKind.SPEECH_RATE]
    role: Role = "agent"
    min_cpm: float = Field(gt=0, description="characters per minute of speech")
    max_cpm: float = Field(gt=0)
    min_speech_s: float = Field(10.0, ge=0, description="below this much speech the rate is not judged")

    @field_validator("max_cpm")
    @classmethod
    def _max_not_below_min(cls, value: float, info: ValidationInfo) -> float:
        return _at_least(value, info, "min_cpm")


class Volume(_Rule):
    kind: Literal[RuleKind.VOLUME]
    role: Role = "agent"
    min_dbfs: float = Field(le=0)
    max_dbfs: float = Field(le=0)

    @field_validator("max_dbfs")
    @classmethod
    def _max_not_below_min(cls, value: float, info: ValidationInfo) -> float:
        return _at_least(value, info, "min_dbfs")


class UnansweredQuestion(_Rule):
    kind: Literal[RuleKind.UNANSWERED_QUESTION]
    phrases: list[str] = Field(min_length=1, description="what makes a client turn a question or a call-out")
    count: int = Field(3, ge=2)
    match: Match = Match(fuzzy=False)

    def phrase_fields(self) -> dict[str, list[str]]:
        return {"phrases": self.phrases}


class AddressForm(_Rule):
    """Fails when `role` addresses the other party casually more often than politely (你 more than 您): one slip
    is not a habit, so it takes `min_casual` casual words and more of them than polite ones."""

    kind: Literal[RuleKind.ADDRESS_FORM]
    role: Role = "agent"
    polite: list[str] = Field(min_length=1, description="the polite forms (您)")
    casual: list[str] = Field(min_length=1, description="the casual forms (你)")
    exceptions: list[str] = Field(default_factory=list, description="phrases where it addresses no one (你好)")
    min_casual: int = Field(3, ge=1)
    match: Match = Match(pinyin=False, fuzzy=False)

    def phrase_fields(self) -> dict[str, list[str]]:
        return {"polite": self.polite, "casual": self.casual, "exceptions": self.exceptions}


class HangupOrder(_Rule):
    kind: Literal[RuleKind.HANGUP_ORDER]
    first: Role = Field("client", description="who must hang up first")
    min_confidence: float = Field(0.6, gt=0, le=1)


Rule = Annotated[
    PhrasePresent
    | PhraseAbsent
    | RegexAbsent
    | PhraseAfterAnchor
    | DeadAir
    | HoldExplained
    | ResponseLatency
    | Interruption
    | SpeechRate
    | Volume
    | UnansweredQuestion
    | HangupOrder
    | ConceptAbsent
    | AddressForm,
    Field(discriminator="kind"),
]


class PlaceholderSpec(_Strict):
    min_chars: int = Field(1, ge=0)
    max_chars: int = Field(12, ge=1)

    @field_validator("max_chars")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        return int(_at_least(value, info, "min_chars"))


class PhrasebookFile(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=1)
    placeholders: dict[str, PlaceholderSpec] = Field(default_factory=dict)
    not_applicable: dict[str, str] = Field(
        default_factory=dict, description="seed phrases deliberately not checked in calls, with the reason"
    )
    rules: list[Rule] = Field(min_length=1)


class HangupInference(_Strict):
    """How the hang-up order is read from the audio when there is no CTI metadata (see `scoring.hangup`)."""

    recording_stops_s: float = Field(
        0.6, gt=0, le=5, description="an agent hang-up ends the recording within this of the agent's last sound"
    )
    cut_off_s: float = Field(0.3, gt=0, le=5, description="client sound this close to the end: cut off mid-word")
    line_dead_s: float = Field(
        1.0, gt=0, le=30, description="the recording goes on at least this long after the client's last sound"
    )
    tone_slack_s: float = Field(0.3, ge=0, le=5, description="a busy tone may start this much before the last words")


class Timing(_Strict):
    """Tolerances of the timing checks for the imprecision of word and VAD times (see `scoring.checks.timing`)."""

    tone_margin_s: float = Field(0.1, ge=0, le=2, description="speech inside a busy tone ± this is the tone")
    hold_phrase_slack_s: float = Field(
        0.5, ge=0, le=5, description="a hold phrase in a turn starting this long after a silence began precedes it"
    )
    turn_slack_s: float = Field(0.05, ge=0, le=2, description="a turn this close to a silence borders it")


class Policy(_Strict):
    pass_mark: int = Field(90, ge=0, le=100)
    caps: dict[Category, int] = Field(default_factory=dict, description="most points one category can cost")
    min_word_probability: float = Field(
        0.4, ge=0, le=1, description="a failing verdict resting on words heard less surely than this is uncertain"
    )
    hangup: HangupInference = HangupInference.model_validate({})
    timing: Timing = Timing.model_validate({})


@dataclass(frozen=True)
class Phrasebook:
    """All phrasebooks of a directory, validated and compiled: what `score()` runs."""

    rules: tuple[Any, ...]
    policy: Policy
    files: dict[str, str] = field(default_factory=dict)  # rule id → file it came from
    phrases: dict[str, Phrase] = field(default_factory=dict)  # as written → compiled
    regexes: dict[str, Regex] = field(default_factory=dict)  # as written → compiled (RE2: linear time)
    prefilters: dict[str, RegexSet] = field(default_factory=dict)  # regex rule id → which of its patterns occur
    not_applicable: dict[str, str] = field(default_factory=dict)
    _lists: dict[tuple[str, ...], PhraseList] = field(default_factory=dict, repr=False, compare=False)
    _specs: list[ConceptSpec] = field(default_factory=list, repr=False, compare=False)
    _spec_keys: dict[int, tuple[ConceptSpec, int]] = field(default_factory=dict, repr=False, compare=False)
    _concept_keys: dict[tuple[int, str], int] = field(default_factory=dict, repr=False, compare=False)
    _concept_numbers: dict[tuple[object, ...], int] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def index(self) -> ExactIndex:
        return ExactIndex(self.phrases.values())

    def phrase_list(self, phrases: Sequence[str]) -> PhraseList:
        """A rule's phrase list, indexed on first use and kept: phrasebooks never change once loaded."""
        key = tuple(phrases)
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = PhraseList(key, self.phrases)
        return found

    def spec_key(self, spec: ConceptSpec) -> int:
        """One number per distinct concept spec: equal specs (one YAML anchor used by two rules) share it, so what
        depends only on the spec and the call can be worked out once per call."""
        known = self._spec_keys.get(id(spec))
        if known is not None and known[0] is spec:  # the spec is kept with its id, so the id is still its own
            return known[1]
        key = next((number for number, other in enumerate(self._specs) if other == spec), len(self._specs))
        if key == len(self._specs):
            self._specs.append(spec)
        self._spec_keys[id(spec)] = (spec, key)
        return key

    def concept_key(self, spec: ConceptSpec, name: str) -> int:
        """One number per distinct search of a concept: what its hits in a call depend on (its phrases and
        exceptions, the spec's negations if the concept is negatable, pinyin settings) is equal for equal numbers,
        whatever spec the concept is in. Worked out once per phrasebook: a call asks for every concept of every
        clause, and making and hashing what it depends on cost more than the lookup."""
        ident = (self.spec_key(spec), name)
        number = self._concept_keys.get(ident)
        if number is None:
            concept = spec.concepts[name]
            negation = (
                tuple((tuple(n.phrases), n.before_chars, n.after_chars, tuple(n.exceptions)) for n in spec.negation)
                if concept.negatable
                else ()
            )
            depends = (tuple(concept.phrases), tuple(concept.exceptions), negation, spec.match.pinyin, concept.pinyin)
            number = self._concept_keys[ident] = self._concept_numbers.setdefault(depends, len(self._concept_numbers))
        return number

    @property
    def active_rules(self) -> tuple[Any, ...]:
        return tuple(r for r in self.rules if r.active)

    def rule(self, rule_id: str) -> Any:
        found = next((r for r in self.rules if r.id == rule_id), None)
        if found is None:
            raise KeyError(rule_id)
        return found


def load_phrasebooks(directory: str | Path) -> Phrasebook:
    """Load and validate every phrasebook in `directory`. Raises `PhrasebookError` (one line) on any problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PhrasebookError(f"{directory}: phrasebook directory does not exist")
    paths = sorted(p for p in directory.glob("*.yaml") if not p.name.endswith(CASES_SUFFIX))
    policy = Policy()
    rules: list[Any] = []
    files: dict[str, str] = {}
    phrases: dict[str, Phrase] = {}
    regexes: dict[str, Regex] = {}
    prefilters: dict[str, RegexSet] = {}
    not_applicable: dict[str, str] = {}
    for path in paths:
        if path.name == SCORECARD_FILE:
            policy = validate_file(path, Policy, read_yaml(path))
            continue
        book = validate_file(path, PhrasebookFile, read_yaml(path))
        gaps = {name: Gap(spec.min_chars, spec.max_chars) for name, spec in book.placeholders.items()}
        for rule in book.rules:
            if rule.id in files:
                raise PhrasebookError(f"{path.name}: rule {rule.id}: field id: already defined in {files[rule.id]}")
            files[rule.id] = path.name
            phrases.update(_compile_rule_phrases(path, rule, gaps))
            if isinstance(rule, RegexAbsent):
                regexes.update({p: compile_regex(p) for p in (*rule.patterns, *rule.exclude)})
                prefilters[rule.id] = regex_prefilter(rule.patterns)
            rules.append(rule)
        not_applicable.update(book.not_applicable)
    if not rules:
        raise PhrasebookError(f"{directory}: no phrasebook (*.yaml with rules) found")
    return Phrasebook(tuple(rules), policy, files, phrases, regexes, prefilters, not_applicable)


def _compile_rule_phrases(path: Path, rule: Any, gaps: dict[str, Gap]) -> dict[str, Phrase]:
    compiled: dict[str, Phrase] = {}
    for field_name, texts in rule.phrase_fields().items():
        for text in texts:
            try:
                compiled[text] = compile_phrase(text, gaps)
            except KeyError as exc:
                raise PhrasebookError(
                    f"{path.name}: rule {rule.id}: field {field_name}: unknown placeholder {{{exc.args[0]}}} in "
                    f"{text!r} (declare it under placeholders:)"
                ) from None
            except ValueError as exc:
                raise PhrasebookError(f"{path.name}: rule {rule.id}: field {field_name}: {exc}") from None
    return compiled


class _UniqueKeyLoader(yaml.SafeLoader):
    """`yaml.safe_load`, except that a key given twice in one mapping is an error: PyYAML would silently keep the
    last one, so a rule with two `phrases:` lists would lose the first without a word."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` may be overridden on purpose; complex keys are refused by PyYAML itself
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PhrasebookError(f"{path.name}: {where}not valid YAML: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PhrasebookError(f"{path.name}: cannot read: {exc}") from None


def validate_file(
    path: Path, model: type[Any], data: Any, where: Callable[[tuple[Any, ...], Any], str] | None = None
) -> Any:
    """`data` read from `path` as `model`, or one `PhrasebookError` naming the file, the entry (`where` turns
    pydantic's location into 'rule X: field Y: ') and the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        located = (where or _where)(tuple(first["loc"]), data)
        raise PhrasebookError(f"{path.name}: {located}{first['msg']}{more}") from None


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """('rules', 3, 'phrase_absent', 'match', 'min_score') → 'rule forbidden.x: field match.min_score: '."""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        raw = data["rules"][loc[1]] if isinstance(data, dict) and isinstance(data.get("rules"), list) else {}
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        rest = list(loc[2:])
        if rest and isinstance(raw, dict) and rest[0] == raw.get("kind"):
            rest = rest[1:]  # the discriminator tag pydantic inserts
        field_name = ".".join(map(str, rest)) or "kind"
        return f"rule {rule_id or f'#{loc[1] + 1}'}: field {field_name}: "
    return f"field {'.'.join(map(str, loc)) or '(top level)'}: "
