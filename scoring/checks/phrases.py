"""Checks on what was said: phrases present or absent, forbidden patterns, and phrases owed after a trigger."""

from __future__ import annotations

from scoring.checks import concepts
from scoring.checks.context import Context
from scoring.findings import Finding, Severity, Verdict
from scoring.matching import Hit
from scoring.phrasebook import AddressForm, Match, PhraseAbsent, PhraseAfterAnchor, PhrasePresent, RegexAbsent, Window

_MAX_LISTED = 3
_EXACT = Match(fuzzy=False)


def phrase_present(rule: PhrasePresent, ctx: Context) -> Finding:
    if not ctx.turns(rule.role):
        return ctx.finding(rule, Verdict.NA, f"no {rule.role or 'speech'} heard")
    indices = ctx.scope(rule.role, rule.window)
    windowed = rule.window is not None
    wanted = [[p] for p in rule.phrases] if rule.mode == "all" else [rule.phrases]
    found: list[Hit] = []
    for group in wanted:
        hits = ctx.find(group, indices, rule.match, windowed=windowed, exceptions=rule.exceptions, first_only=True)
        if not hits:
            missing = " / ".join(f'"{p}"' for p in group[:_MAX_LISTED]) + (" …" if len(group) > _MAX_LISTED else "")
            where = _where(rule.role, rule.window)
            return ctx.fail_or_doubt(rule, f"not heard {where}: {missing}", indices, span=ctx.span_of(indices))
        found.append(hits[0])
    return ctx.hit_finding(rule, Verdict.PASS, found[0], "; ".join(ctx.describe(h) for h in found))


def phrase_absent(rule: PhraseAbsent, ctx: Context) -> Finding:
    if not ctx.turns(rule.role):
        return ctx.finding(rule, Verdict.NA, f"no {rule.role or 'speech'} heard")
    indices = ctx.scope(rule.role, rule.window)
    excuse = _excuse(rule.unless, indices, ctx, rule)
    if excuse is not None:
        return excuse
    hits = ctx.find(rule.phrases, indices, rule.match, windowed=rule.window is not None, exceptions=rule.exceptions)
    if not hits:
        return ctx.finding(rule, Verdict.PASS, "none heard", *(ctx.span_of(indices) or (None, None)))
    return ctx.fail_or_doubt(rule, _listing(hits, ctx), indices, hit=hits[0])


def regex_absent(rule: RegexAbsent, ctx: Context) -> Finding:
    if not ctx.turns(rule.role):
        return ctx.finding(rule, Verdict.NA, f"no {rule.role or 'speech'} heard")
    indices = ctx.scope(rule.role, rule.window)
    view = ctx.text.view(indices)
    occurring = ctx.book.prefilters[rule.id].Match(view.normal)  # None when no pattern occurs: the usual case
    if not occurring:
        return ctx.finding(rule, Verdict.PASS, "none heard", *(ctx.span_of(indices) or (None, None)))
    regexes = ctx.book.regexes
    excluded = [m.span() for pattern in rule.exclude for m in regexes[pattern].finditer(view.normal)]
    hits: list[Hit] = []
    for pattern in (rule.patterns[i] for i in sorted(occurring)):
        for m in regexes[pattern].finditer(view.normal):
            if m.end() == m.start() or any(s < m.end() and m.start() < e for s, e in excluded):
                continue
            segment, start, end = view.locate(m.start(), m.end())
            hit = Hit(pattern, segment, start, end, 100.0, "text")
            if ctx._excused(hit, rule.exceptions) is None:
                hits.append(hit)
    if not hits:
        return ctx.finding(rule, Verdict.PASS, "none heard", *(ctx.span_of(indices) or (None, None)))
    hits.sort(key=lambda h: (h.segment, h.start))
    return ctx.fail_or_doubt(rule, _listing(hits, ctx), indices, hit=hits[0])


def phrase_after_anchor(rule: PhraseAfterAnchor, ctx: Context) -> Finding:
    if rule.contradicted_by is not None:
        # a warning cannot stand beside a promise of returns: the promise is what the client takes away
        found = concepts.heard(rule.contradicted_by, ctx.turns(rule.role), ctx)
        if found is not None:
            hit, clause = found
            evidence = f"{ctx.describe(hit)} ({' × '.join(clause.all_of)}): a promise no warning can stand beside"
            return ctx.fail_or_doubt(rule, evidence, ctx.turns(rule.role), hit=hit)
    anchor = rule.anchor
    turns = ctx.turns(anchor.role)
    triggers = ctx.find(anchor.phrases, turns, anchor.match, exceptions=anchor.exceptions) if anchor.phrases else []
    if anchor.text_only:
        triggers = [t for t in triggers if t.how == "text" or t.phrase not in anchor.text_only]
    if anchor.service is not None and anchor.concept is not None:
        triggers = concepts.drop_near(triggers, anchor.concept, anchor.service, anchor.service_within, ctx)
    if anchor.concept is not None:
        context = concepts.heard(anchor.concept, ctx.turns(anchor.role), ctx)
        triggers += [context[0]] if context is not None else []
    if not triggers:
        listed = " / ".join(anchor.phrases[:_MAX_LISTED]) or "its concepts"
        weak = ctx.weak(turns) if rule.severity == Severity.FATAL else None
        if weak is not None:  # a fatal rule never passes (nor is waved through as n/a) on words barely heard
            return ctx.finding(rule, Verdict.UNCERTAIN, f"trigger not heard: {listed} …, but {weak}")
        return ctx.finding(rule, Verdict.NA, f"trigger never heard: {listed} …")
    trigger = min(triggers, key=lambda h: (h.segment, h.start))
    began, _ = ctx.times(trigger)
    deadline = began + anchor.within_s if anchor.within_s is not None else float("inf")
    segments = ctx.transcript.segments
    indices = [i for i in ctx.turns(rule.role) if i >= trigger.segment and segments[i].start <= deadline]
    hits = ctx.find(rule.phrases, indices, rule.match, first_only=True)
    if not hits and rule.accept is not None:
        # in the agent's own words the warning often comes before the client's "会亏吗": any time in the call counts
        accepted = concepts.heard(rule.accept, [i for i in ctx.turns(rule.role) if segments[i].start <= deadline], ctx)
        hits = [accepted[0]] if accepted is not None else []
    said = f"{ctx.describe(trigger)} at {began:.1f} s"
    revoked = _revoked(rule, hits[0], ctx) if hits and rule.revoked_by else None
    if revoked is not None:
        evidence = f"{said}; {ctx.describe(hits[0])}, then taken back: {ctx.describe(revoked)}"
        return ctx.fail_or_doubt(rule, evidence, indices, hit=revoked)
    if hits:
        weak = ctx.weak(indices, hits[0]) if rule.severity == Severity.FATAL else None
        verdict = Verdict.PASS if weak is None else Verdict.UNCERTAIN
        evidence = f"{said}; then {ctx.describe(hits[0])}" + ("" if weak is None else f", but {weak}")
        return ctx.hit_finding(rule, verdict, hits[0], evidence)
    limit = f"within {anchor.within_s:.0f} s" if anchor.within_s is not None else "before the call ended"
    evidence = f"{said}; no {rule.role or ''} follow-up {limit}".replace("  ", " ")
    end = min(deadline, ctx.transcript.duration)
    return ctx.fail_or_doubt(rule, evidence, indices, span=(began, end), needs_roles=anchor.role is not None)


def address_form(rule: AddressForm, ctx: Context) -> Finding:
    indices = ctx.turns(rule.role)
    if not indices:
        return ctx.finding(rule, Verdict.NA, f"no {rule.role} heard")
    casual = ctx.find(rule.casual, indices, rule.match, exceptions=rule.exceptions)
    polite = ctx.find(rule.polite, indices, rule.match)
    counts = f"{len(casual)} × {' / '.join(rule.casual)}, {len(polite)} × {' / '.join(rule.polite)}"
    if len(casual) < rule.min_casual or len(casual) <= len(polite):
        return ctx.finding(rule, Verdict.PASS, counts, *(ctx.span_of(indices) or (None, None)))
    return ctx.fail_or_doubt(rule, f"{counts}: {_listing(casual, ctx)}", indices, hit=casual[0])


def _revoked(rule: PhraseAfterAnchor, said: Hit, ctx: Context) -> Hit | None:
    """A phrase of `revoked_by` from the rule's role after the follow-up: a warning read out, then dismissed."""
    later = [i for i in ctx.turns(rule.role) if i >= said.segment]
    exact = _EXACT  # a dismissal is a set phrase: exact or same pinyin, no fuzzy search over the rest of the call
    hits = [h for h in ctx.find(rule.revoked_by, later, exact) if (h.segment, h.start) >= (said.segment, said.end)]
    return hits[0] if hits else None


def _excuse(unless: list[str], indices: list[int], ctx: Context, rule: PhraseAbsent) -> Finding | None:
    if not unless:
        return None
    hits = ctx.find(unless, indices, Match(), windowed=rule.window is not None, first_only=True)
    if not hits:
        return None
    return ctx.hit_finding(rule, Verdict.PASS, hits[0], f"excused: {ctx.describe(hits[0])}")


def _listing(hits: list[Hit], ctx: Context) -> str:
    shown = "; ".join(f"{ctx.describe(h)} at {ctx.times(h)[0]:.1f} s" for h in hits[:_MAX_LISTED])
    return shown + (f" (and {len(hits) - _MAX_LISTED} more)" if len(hits) > _MAX_LISTED else "")


def _where(role: str | None, window: Window | None) -> str:
    who = f"from the {role}" if role else "in the call"
    return f"{who} ({window.describe()})" if window is not None else who
