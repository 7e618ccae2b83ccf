"""Checks on when people spoke: dead air, unexplained holds, slow answers, talking over the client, unanswered
questions. Times come from VAD speech spans and word timestamps, never from Whisper's coarse segment bounds."""

from __future__ import annotations

import bisect
import itertools

from scoring.checks.context import Context, inside_any
from scoring.findings import Finding, Verdict
from scoring.phrasebook import DeadAir, HoldExplained, Interruption, ResponseLatency, UnansweredQuestion
from transcribe.types import Role, Span

_QUESTION_MARKS = ("?", "？")


def dead_air(rule: DeadAir, ctx: Context) -> Finding:
    gaps = ctx.silences
    if not gaps:
        return ctx.finding(rule, Verdict.PASS, "no silence between turns")
    worst = _longest_unexcused(ctx, rule, gaps, excused_by="agent")
    if worst is None:
        longest = max(g[1] - g[0] for g in gaps)
        return ctx.finding(rule, Verdict.PASS, f"longest silence {longest:.1f} s (limit {rule.max_s:g} s)")
    if not ctx.transcript.roles_confident:
        # Silence is silence whoever speaks, but a hold phrase heard as the client's may be the agent's: only a
        # silence that no one's hold phrase excuses is a certain failure.
        certain = _longest_unexcused(ctx, rule, gaps, excused_by=None)
        if certain is None:
            length, (start, end) = worst
            evidence = f"{length:.1f} s of silence (limit {rule.max_s:g} s) after a hold phrase; roles are guessed"
            return ctx.finding(rule, Verdict.UNCERTAIN, evidence + " (mono recording)", start, end)
        worst = certain
    length, (start, end) = worst
    return ctx.finding(rule, Verdict.FAIL, f"{length:.1f} s of silence (limit {rule.max_s:g} s)", start, end)


def _longest_unexcused(
    ctx: Context, rule: DeadAir, gaps: list[Span], excused_by: Role | None
) -> tuple[float, Span] | None:
    """The longest silence over the limit that no hold phrase of `excused_by` (None: anyone) allows."""
    worst: tuple[float, Span] | None = None
    for gap in gaps:
        length = gap[1] - gap[0]
        if length <= rule.max_s:
            continue
        if length <= rule.hold_max_s and _held(ctx, gap[0], rule.hold_phrases, rule, rule.lookback_s, excused_by):
            continue
        if worst is None or length > worst[0]:
            worst = (length, gap)
    return worst


def hold_explained(rule: HoldExplained, ctx: Context) -> Finding:
    holds = [g for g in ctx.silences if g[1] - g[0] >= rule.min_gap_s and not _clients_turn(ctx, g)]
    if not holds:
        return ctx.finding(rule, Verdict.NA, f"no silence of {rule.min_gap_s:g} s or more")
    for start, end in holds:
        if not _held(ctx, start, rule.phrases, rule, rule.lookback_s):
            evidence = f"{end - start:.1f} s wait with no reason given by the agent before it"
            return ctx.fail_or_doubt(rule, evidence, [], span=(start, end), needs_roles=True)
    start, end = holds[0]
    return ctx.finding(rule, Verdict.PASS, f"{len(holds)} wait(s), each explained beforehand", start, end)


def response_latency(rule: ResponseLatency, ctx: Context) -> Finding:
    segments = sorted(ctx.transcript.segments, key=lambda s: s.start)
    slowest: tuple[float, float, float] | None = None
    answered = 0
    for before, after in itertools.pairwise(segments):
        if before.role != "client" or after.role != "agent":
            continue
        answered += 1
        wait = after.start - before.end
        late = wait > rule.max_s and not _held(ctx, before.end, rule.hold_phrases, rule, rule.lookback_s)
        if late and (slowest is None or wait > slowest[0]):
            slowest = (wait, before.end, after.start)
    if not answered:
        return ctx.finding(rule, Verdict.NA, "the agent never answered a client turn")
    if slowest is None:
        return ctx.finding(rule, Verdict.PASS, f"{answered} answers, none slower than {rule.max_s:g} s")
    wait, start, end = slowest
    evidence = f"agent answered after {wait:.1f} s (limit {rule.max_s:g} s)"
    return ctx.fail_or_doubt(rule, evidence, [], span=(start, end), needs_roles=True)


def interruption(rule: Interruption, ctx: Context) -> Finding:
    transcript = ctx.transcript
    agent, client = transcript.channel_for("agent"), transcript.channel_for("client")
    if agent is None or client is None or agent is client or not transcript.roles_confident:
        return ctx.finding(rule, Verdict.NA, "one channel: overlapping speech cannot be seen")
    client_spans = [s for s in client.speech_spans if not inside_any(s, client.tone_spans, ctx.timing.tone_margin_s)]
    minimum = rule.min_overlap_ms / 1000
    # Most agent turns start while the client is silent. Client spans by start, with the furthest end reached so
    # far, tell that with one bisection; only the rare agent start that someone's speech spans is checked in full.
    by_start = sorted(client_spans)
    starts = [start for start, _ in by_start]
    reach = list(itertools.accumulate((end for _, end in by_start), max))
    for a_start, a_end in agent.speech_spans:
        before = bisect.bisect_left(starts, a_start)  # by_start[:before] start before the agent does
        if not before or reach[before - 1] <= a_start:
            continue
        for c_start, c_end in client_spans:
            if c_start < a_start < c_end:
                overlap = min(a_end, c_end) - a_start
                if overlap >= minimum:
                    return ctx.finding(
                        rule,
                        Verdict.FAIL,
                        f"agent started at {a_start:.1f} s while the client was speaking ({c_start:.1f}–{c_end:.1f} s):"
                        f" {overlap * 1000:.0f} ms of overlap",
                        a_start,
                        a_start + overlap,
                    )
    cut_off = _cut_off(rule, ctx)
    if cut_off is not None:
        return cut_off
    return ctx.finding(rule, Verdict.PASS, f"the agent never talked over the client for {rule.min_overlap_ms} ms")


def _cut_off(rule: Interruption, ctx: Context) -> Finding | None:
    """An agent turn that starts the instant a client turn breaks off unfinished (“然后他们说……”): the client was
    stopped mid-sentence, though the two never spoke at once."""
    if rule.cut_off_within_ms is None or not rule.cut_off_marks:
        return None
    latch = rule.cut_off_within_ms / 1000
    marks = tuple(rule.cut_off_marks)
    segments = sorted(ctx.transcript.segments, key=lambda s: s.start)
    for previous, current in itertools.pairwise(segments):
        latched = previous.role == "client" and current.role == "agent" and current.start - previous.end <= latch
        if latched and previous.text.rstrip().endswith(marks):
            return ctx.finding(
                rule,
                Verdict.FAIL,
                f"agent started at {current.start:.1f} s as the client broke off unfinished "
                f"(“…{previous.text.rstrip()[-12:]}”)",
                current.start,
                current.end,
            )
    return None


def unanswered_question(rule: UnansweredQuestion, ctx: Context) -> Finding:
    segments = ctx.transcript.segments
    client = ctx.turns("client")
    questions = {h.segment for h in ctx.find(rule.phrases, client, rule.match)}
    questions |= {i for i, s in enumerate(segments) if s.role == "client" and s.text.rstrip().endswith(_QUESTION_MARKS)}
    if not questions:
        return ctx.finding(rule, Verdict.NA, "the client asked nothing")
    run: list[int] = []
    for index in sorted(range(len(segments)), key=lambda i: segments[i].start):
        if segments[index].role == "agent":
            run = []
        elif index in questions:
            run.append(index)
            if len(run) >= rule.count:
                first, last = segments[run[0]], segments[run[-1]]
                return ctx.fail_or_doubt(
                    rule,
                    f"client asked {len(run)} times with no answer: " + " / ".join(segments[i].text for i in run),
                    run,
                    span=(first.start, last.end),
                    needs_roles=True,
                )
    return ctx.finding(rule, Verdict.PASS, f"{len(questions)} client question(s), none left hanging")


def _held(
    ctx: Context, at: float, phrases: list[str], rule: object, lookback_s: float, by: Role | None = "agent"
) -> bool:
    """Whether the agent (`by`; None: anyone) said one of `phrases` in the `lookback_s` before `at`."""
    if not phrases:
        return False
    segments = ctx.transcript.segments
    slack = ctx.timing.hold_phrase_slack_s
    indices = [
        i
        for i, s in enumerate(segments)
        if (by is None or s.role == by) and s.start <= at + slack and s.end >= at - lookback_s
    ]
    return bool(indices) and bool(ctx.find(phrases, indices, rule.match, windowed=True, first_only=True))  # type: ignore[attr-defined]


def _clients_turn(ctx: Context, gap: Span) -> bool:
    """The agent spoke last and the client speaks next: the client was thinking, not kept waiting."""
    segments, slack = ctx.transcript.segments, ctx.timing.turn_slack_s
    before = max((s for s in segments if s.end <= gap[0] + slack), key=lambda s: s.end, default=None)
    after = min((s for s in segments if s.start >= gap[1] - slack), key=lambda s: s.start, default=None)
    return before is not None and after is not None and before.role == "agent" and after.role == "client"
