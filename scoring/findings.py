"""What a rule says about one call: the closed vocabularies and the `Finding` record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    GREETING_OPEN = "greeting_open"
    GREETING_CLOSE = "greeting_close"
    CIVILITY = "civility"
    FORBIDDEN_PHRASE = "forbidden_phrase"
    RISK_DISCLOSURE = "risk_disclosure"
    RETURN_PROMISE = "return_promise"
    HANGUP_ORDER = "hangup_order"
    DEAD_AIR = "dead_air"
    HOLD_UNEXPLAINED = "hold_unexplained"
    INTERRUPTION = "interruption"
    SPEECH_RATE = "speech_rate"
    VOLUME = "volume"
    UNANSWERED_QUESTION = "unanswered_question"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "na"  # the rule's trigger never happened
    UNCERTAIN = "uncertain"  # the evidence is too weak to decide (low ASR confidence, faint hang-up signs)


# For a category made of several rules: the worst verdict wins.
VERDICT_RANK = {Verdict.NA: 0, Verdict.PASS: 1, Verdict.UNCERTAIN: 2, Verdict.FAIL: 3}


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    FATAL = "fatal"  # a failure fails the call whatever the score


@dataclass(frozen=True)
class Finding:
    rule_id: str
    category: Category
    verdict: Verdict
    severity: Severity
    start: float | None  # seconds into the recording; None when the finding has no place (e.g. "never said")
    end: float | None
    evidence: str  # what was heard or measured, for the supervisor
    source: str  # the clause of the standard, e.g. "003_eda5909ba40dd7a1.txt 第五十四条"
    points: int = 0  # deducted when the verdict is `fail`
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "category": self.category.value,
            "verdict": self.verdict.value,
            "severity": self.severity.value,
            "start": self.start,
            "end": self.end,
            "evidence": self.evidence,
            "source": self.source,
        }


def worst(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=VERDICT_RANK.__getitem__, default=Verdict.NA)
