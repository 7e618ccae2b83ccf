"""`score()`: one transcript and the phrasebooks in, one scorecard out."""

from __future__ import annotations

from scoring.checks import CHECKS, Context
from scoring.hangup import infer_hangup
from scoring.matching import CallText
from scoring.phrasebook import HangupOrder, Phrasebook
from scoring.scorecard import Scorecard, build_scorecard
from transcribe.types import Role, Transcript


def score(transcript: Transcript, phrasebook: Phrasebook, *, hangup_by: Role | None = None) -> Scorecard:
    """Run every active rule on the call. `hangup_by` is CTI metadata (authoritative) when the caller has it."""
    rules = phrasebook.active_rules
    threshold = min((r.min_confidence for r in rules if isinstance(r, HangupOrder)), default=0.6)
    hangup = infer_hangup(transcript, phrasebook.policy.hangup, cti=hangup_by, min_confidence=threshold)
    text = CallText(transcript)
    ctx = Context(transcript, text, phrasebook, phrasebook.index.search(text), hangup)
    findings = tuple(CHECKS[rule.kind](rule, ctx) for rule in rules)
    return build_scorecard(
        file=transcript.source, duration=transcript.duration, findings=findings, hangup=hangup, policy=phrasebook.policy
    )
