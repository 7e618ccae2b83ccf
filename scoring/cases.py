"""Example dialogues beside each phrasebook (`<name>.cases.yaml`), turned into transcripts and scored.

A case is a short call in the same shape as the sample scripts: turns with `role`, `text` and `gap` (seconds of
pause before the turn; negative talks over the previous one), optionally how the call ends and facts about the
channels. Words get evenly spread timings, so timing rules can be exercised without audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scoring.engine import score
from scoring.findings import Verdict
from scoring.normalise import normalise
from scoring.phrasebook import CASES_SUFFIX, Phrasebook, read_yaml, validate_file
from transcribe.types import ChannelInfo, Role, Segment, Span, Transcript, Word

SECONDS_PER_CHAR = 0.22  # about 270 characters a minute, a calm telephone pace
# How samples/generate.py renders a call's end (its HANGUP_AFTER_S, BUSY_AFTER_S, busy length, AGENT_HANGUP_AFTER_S):
# facts of the simulated exchange, not thresholds. The client's line dies 0.7 s after their last words; the
# hang-up inference's `line_dead_s` (scorecard.yaml) is a different quantity, a minimum it waits for.
_RENDER_LINE_DIES_S, _BUSY_AFTER_S, _BUSY_S, _AGENT_HANGUP_S = 0.7, 0.5, 1.75, 0.15


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Turn(_Strict):
    role: Role
    text: str = Field(min_length=1)
    gap: float = 0.5
    seconds: float | None = Field(None, gt=0, description="how long the turn lasts (default: by its length)")
    probability: float = Field(0.9, ge=0, le=1, description="ASR word probability")


class ChannelFacts(_Strict):
    rms_dbfs: float | None = None
    peak_dbfs: float | None = None
    tone_spans: list[tuple[float, float]] | None = None
    audio_end: float | None = None


class Case(_Strict):
    rule: str
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    expect: Verdict
    why: str | None = None
    turns: list[Turn] = Field(min_length=1)
    ending: Literal["client", "agent", "none"] = Field("client", description="who hangs up, as the audio shows it")
    cti: Role | None = Field(None, description="hang-up party from CTI metadata")
    mono: bool = False
    channels: dict[Role, ChannelFacts] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.rule}::{self.name}"


class CasesFile(_Strict):
    cases: list[Case] = Field(min_length=1)


@dataclass(frozen=True)
class CaseResult:
    case: Case
    file: str
    got: Verdict | None  # None: the rule does not exist or is not active
    evidence: str

    @property
    def ok(self) -> bool:
        return self.got == self.case.expect


def load_cases(directory: str | Path) -> list[tuple[str, Case]]:
    """Every case of every `*.cases.yaml` in `directory`, with its file name."""
    found: list[tuple[str, Case]] = []
    for path in sorted(Path(directory).glob(f"*{CASES_SUFFIX}")):
        parsed = validate_file(path, CasesFile, read_yaml(path), where=_where_in_cases)
        found += [(path.name, case) for case in parsed.cases]
    return found


def _where_in_cases(loc: tuple[Any, ...], data: Any) -> str:
    """('cases', 3, 'turns', 0, 'text') → 'case greeting.opening::polite: field turns.0.text: '."""
    where = ""
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        raw = data["cases"][loc[1]] if isinstance(data["cases"][loc[1]], dict) else {}
        where = f"case {raw.get('rule', '?')}::{raw.get('name', f'#{loc[1] + 1}')}: "
        loc = loc[2:]
    return f"{where}field {'.'.join(map(str, loc))}: "


def run_cases(book: Phrasebook, cases: list[tuple[str, Case]]) -> list[CaseResult]:
    return [run_case(book, case, file) for file, case in cases]


def run_case(book: Phrasebook, case: Case, file: str = "") -> CaseResult:
    try:
        rule = book.rule(case.rule)
    except KeyError:
        return CaseResult(case, file, None, f"no rule {case.rule}")
    if not rule.active:
        return CaseResult(case, file, None, f"rule {case.rule} is {rule.status}")
    card = score(case_transcript(case), book, hangup_by=case.cti)
    finding = next(f for f in card.findings if f.rule_id == case.rule)
    return CaseResult(case, file, finding.verdict, finding.evidence)


def coverage_problems(book: Phrasebook, cases: list[tuple[str, Case]]) -> list[str]:
    """Active rules without both a passing and a failing case, and cases naming no rule."""
    expected: dict[str, set[Verdict]] = {}
    for _, case in cases:
        expected.setdefault(case.rule, set()).add(case.expect)
    problems = [
        f"{book.files[r.id]}: rule {r.id}: needs a case expecting {v.value}"
        for r in book.active_rules
        for v in (Verdict.PASS, Verdict.FAIL)
        if v not in expected.get(r.id, set())
    ]
    known = {r.id for r in book.rules}
    problems += [f"{file}: case {c.id}: no rule {c.rule}" for file, c in cases if c.rule not in known]
    return problems


def case_transcript(case: Case) -> Transcript:
    """A transcript as `transcribe` would produce it for this dialogue, rendered like the sample calls."""
    return render(case.turns, ending=case.ending, mono=case.mono, channels=case.channels, source=f"{case.id}.wav")


Ending = Literal["client", "agent", "none"]


def render(
    turns: list[Turn], *, ending: Ending, mono: bool, channels: dict[Role, ChannelFacts], source: str
) -> Transcript:
    """Turns laid out in time (each `gap` after the previous one, words evenly spread), ended as `ending` says."""
    segments: list[Segment] = []
    cursor = 0.0
    for turn in turns:
        start = max(0.0, cursor + turn.gap)
        length = turn.seconds or max(0.4, len(normalise(turn.text)) * SECONDS_PER_CHAR)
        segments.append(_segment(turn, start, start + length, channel=0 if mono or turn.role == "agent" else 1))
        cursor = max(cursor, start + length)
    duration = _ending(ending, segments)
    segments = [_cut(s, duration) for s in segments if s.start < duration]
    return Transcript(
        source=source,
        duration=round(duration, 3),
        sample_rate=8000,
        channel_count=1 if mono else 2,
        segments=tuple(sorted(segments, key=lambda s: (s.start, s.channel))),
        channels=_channels(ending, mono, channels, segments, duration),
        roles_confident=not mono,
    )


def _segment(turn: Turn, start: float, end: float, channel: int) -> Segment:
    chars = [c for c in turn.text if normalise(c)]
    step = (end - start) / max(len(chars), 1)
    words = tuple(
        Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), c, turn.probability)
        for i, c in enumerate(chars)
    )
    return Segment(turn.role, channel, round(start, 3), round(end, 3), turn.text, -0.3, 0.01, words)


def _cut(segment: Segment, duration: float) -> Segment:
    """An agent hang-up cuts the client off mid-word: keep only the words before the recording stops."""
    if segment.end <= duration:
        return segment
    words = tuple(w for w in segment.words if w.end <= duration)
    text = "".join(w.text for w in words)
    end = words[-1].end if words else duration
    return Segment(segment.role, segment.channel, segment.start, end, text, -0.5, 0.05, words)


def _ending(ending: Ending, segments: list[Segment]) -> float:
    last = max(s.end for s in segments)
    if ending == "agent":
        return max((s.end for s in segments if s.role == "agent"), default=last) + _AGENT_HANGUP_S
    if ending == "client":
        return last + _RENDER_LINE_DIES_S + _BUSY_AFTER_S + _BUSY_S + 0.35
    return last + 0.5


def _channels(
    ending: Ending, mono: bool, facts_of: dict[Role, ChannelFacts], segments: list[Segment], duration: float
) -> tuple[ChannelInfo, ...]:
    roles: list[Role] = ["agent"] if mono else ["agent", "client"]
    infos = []
    for channel, role in enumerate(roles):
        spans: list[Span] = [(s.start, s.end) for s in segments if s.channel == channel]
        tones: list[Span] = []
        if ending == "client" and role == roles[-1]:
            busy = max(s.end for s in segments) + _RENDER_LINE_DIES_S + _BUSY_AFTER_S
            tones = [(round(busy, 3), round(busy + _BUSY_S, 3))]
        facts = facts_of.get(role, ChannelFacts())
        end = max((e for _, e in spans), default=0.0)
        if role == "agent" and ending == "agent":
            end = duration - _AGENT_HANGUP_S
        infos.append(
            ChannelInfo(
                channel=channel,
                role=role,
                speech_spans=tuple(spans),
                audio_end=facts.audio_end if facts.audio_end is not None else round(min(end, duration), 3),
                rms_dbfs=facts.rms_dbfs if facts.rms_dbfs is not None else (-18.0 if role == "agent" else -21.0),
                peak_dbfs=facts.peak_dbfs if facts.peak_dbfs is not None else -3.0,
                tone_spans=tuple(tuple(t) for t in facts.tone_spans) if facts.tone_spans is not None else tuple(tones),  # type: ignore[misc]
            )
        )
    return tuple(infos)
