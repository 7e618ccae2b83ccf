"""The closed registry of check kinds: one function per `RuleKind`. A new behaviour is one function and one entry.

Checks never raise; each returns one `Finding` with its verdict and evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scoring.checks import concepts, levels, phrases, timing
from scoring.checks.context import Context
from scoring.findings import Finding, Verdict
from scoring.phrasebook import HangupOrder, RuleKind

Check = Callable[[Any, Context], Finding]


def hangup_order(rule: HangupOrder, ctx: Context) -> Finding:
    hangup = ctx.hangup
    if hangup.by == "uncertain":
        verdict = Verdict.UNCERTAIN
    else:
        verdict = Verdict.PASS if hangup.by == rule.first else Verdict.FAIL
    who = "unknown party" if hangup.by == "uncertain" else f"{hangup.by}"
    evidence = f"{who} hung up first ({hangup.source}, confidence {hangup.confidence:.2f}): {hangup.evidence}"
    return ctx.finding(rule, verdict, evidence, hangup.start, hangup.end)


CHECKS: dict[RuleKind, Check] = {
    RuleKind.PHRASE_PRESENT: phrases.phrase_present,
    RuleKind.PHRASE_ABSENT: phrases.phrase_absent,
    RuleKind.REGEX_ABSENT: phrases.regex_absent,
    RuleKind.PHRASE_AFTER_ANCHOR: phrases.phrase_after_anchor,
    RuleKind.DEAD_AIR: timing.dead_air,
    RuleKind.HOLD_EXPLAINED: timing.hold_explained,
    RuleKind.RESPONSE_LATENCY: timing.response_latency,
    RuleKind.INTERRUPTION: timing.interruption,
    RuleKind.UNANSWERED_QUESTION: timing.unanswered_question,
    RuleKind.SPEECH_RATE: levels.speech_rate,
    RuleKind.VOLUME: levels.volume,
    RuleKind.HANGUP_ORDER: hangup_order,
    RuleKind.CONCEPT: concepts.concept_absent,
    RuleKind.ADDRESS_FORM: phrases.address_form,
}

__all__ = ["CHECKS", "Check", "Context"]
