"""From findings to the call's verdict: 100 minus capped points, fatal failures, and whether a person must look."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from scoring.findings import Category, Finding, Severity, Verdict, worst
from scoring.hangup import Hangup
from scoring.phrasebook import Policy


@dataclass(frozen=True)
class Scorecard:
    file: str
    duration: float
    score: int
    passed: bool
    needs_review: bool
    hangup: Hangup
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        """The output contract of `callqa score --json` (one line per call); other tools depend on these keys."""
        return {
            "file": self.file,
            "duration": self.duration,
            "score": self.score,
            "passed": self.passed,
            "needs_review": self.needs_review,
            "hangup": self.hangup.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
        }

    def categories(self) -> dict[Category, Verdict]:
        """Each category's worst verdict over its rules (fail > uncertain > pass > na)."""
        grouped: dict[Category, list[Verdict]] = defaultdict(list)
        for finding in self.findings:
            grouped[finding.category].append(finding.verdict)
        return {category: worst(verdicts) for category, verdicts in grouped.items()}


def build_scorecard(
    *, file: str, duration: float, findings: tuple[Finding, ...], hangup: Hangup, policy: Policy
) -> Scorecard:
    lost: dict[Category, int] = defaultdict(int)
    for finding in findings:
        if finding.verdict == Verdict.FAIL:
            lost[finding.category] += finding.points
    deducted = sum(min(points, policy.caps.get(category, points)) for category, points in lost.items())
    score = max(0, 100 - deducted)
    fatal = any(f.verdict == Verdict.FAIL and f.severity == Severity.FATAL for f in findings)
    passed = score >= policy.pass_mark and not fatal
    uncertain = any(f.verdict == Verdict.UNCERTAIN for f in findings)
    return Scorecard(
        file=file,
        duration=duration,
        score=score,
        passed=passed,
        needs_review=not passed or fatal or uncertain,
        hangup=hangup,
        findings=findings,
    )
