"""Checks on how the agent sounds: speaking rate and loudness."""

from __future__ import annotations

from scoring.checks.context import Context
from scoring.findings import Finding, Verdict
from scoring.phrasebook import SpeechRate, Volume


def speech_rate(rule: SpeechRate, ctx: Context) -> Finding:
    indices = [i for i in ctx.turns(rule.role) if ctx.transcript.segments[i].words]
    seconds = sum(ctx.transcript.segments[i].end - ctx.transcript.segments[i].start for i in indices)
    if seconds < rule.min_speech_s:
        return ctx.finding(rule, Verdict.NA, f"only {seconds:.1f} s of {rule.role} speech")
    chars = sum(len(ctx.text.normal[i]) for i in indices)
    rate = chars / seconds * 60
    evidence = f"{rate:.0f} characters/min over {seconds:.0f} s of {rule.role} speech"
    if rule.min_cpm <= rate <= rule.max_cpm:
        return ctx.finding(rule, Verdict.PASS, evidence)
    limit = f"above {rule.max_cpm:g}" if rate > rule.max_cpm else f"below {rule.min_cpm:g}"
    return ctx.fail_or_doubt(rule, f"{evidence}: {limit}", indices, span=ctx.span_of(indices))


def volume(rule: Volume, ctx: Context) -> Finding:
    channel = ctx.transcript.channel_for(rule.role)
    if channel is None or not channel.speech_spans:
        return ctx.finding(rule, Verdict.NA, f"no {rule.role} channel with speech")
    level = channel.rms_dbfs
    evidence = f"{rule.role} speech at {level:.1f} dBFS RMS (allowed {rule.min_dbfs:g} to {rule.max_dbfs:g})"
    if rule.min_dbfs <= level <= rule.max_dbfs:
        return ctx.finding(rule, Verdict.PASS, evidence)
    # No word-level doubt for a level, but on a mono recording the "agent channel" carries both parties.
    return ctx.fail_or_doubt(rule, evidence + (": too quiet" if level < rule.min_dbfs else ": too loud"), [])
