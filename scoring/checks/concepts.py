"""Concept rules: ideas said in many words. A concept is a list of phrases (matched as everywhere: text, same pinyin,
fuzzy for long ones); a spec holds when any clause holds, a clause being concepts heard together in one turn within
some characters of each other (AND), with none of its excluded concepts near them (NOT). A negation just before a
hit ("不能保证", "没有保本", "谁也不敢说") cancels it: "不能保证收益" is no guarantee; so does a refutation just after
it ("保本这个说法是不准确的")."""

from __future__ import annotations

from collections import defaultdict

from scoring.checks.context import Context, options_of
from scoring.findings import Finding, Severity, Verdict
from scoring.matching import Hit, fuzzy_find
from scoring.phrasebook import Clause, ConceptAbsent, ConceptSpec

_ALONE_FUZZY_MIN_CHARS = 5


def concept_absent(rule: ConceptAbsent, ctx: Context) -> Finding:
    if not ctx.turns(rule.role):
        return ctx.finding(rule, Verdict.NA, f"no {rule.role or 'speech'} heard")
    indices = ctx.scope(rule.role, rule.window)
    found = heard(rule.spec, indices, ctx)
    if found is not None:
        hit, clause = found
        said = ctx.describe(hit)
        return ctx.fail_or_doubt(rule, f"{said} ({' × '.join(clause.all_of)})", indices, hit=hit)
    span = ctx.span_of(indices) or (None, None)
    weak = ctx.weak(indices)
    if weak is not None and rule.severity == Severity.FATAL:  # a fatal rule never passes on words barely heard
        return ctx.finding(rule, Verdict.UNCERTAIN, f"none heard, but {weak}", *span)
    return ctx.finding(rule, Verdict.PASS, "none heard", *span)


def heard(spec: ConceptSpec, indices: list[int], ctx: Context) -> tuple[Hit, Clause] | None:
    """The earliest place where some clause of `spec` holds in the given turns, with that clause. Kept per call:
    one spec is often asked twice over the same turns (the promise of returns, by its own rule and as what
    contradicts a risk warning), and equal specs over equal turns are heard alike."""
    key = (ctx.book.spec_key(spec), tuple(indices))
    if key not in ctx.concepts_heard:
        ctx.concepts_heard[key] = _heard(spec, indices, ctx)
    return ctx.concepts_heard[key]


def _heard(spec: ConceptSpec, indices: list[int], ctx: Context) -> tuple[Hit, Clause] | None:
    best: tuple[Hit, Clause] | None = None
    for clause in spec.any_of:
        hit = _clause(spec, clause, indices, ctx)
        if hit is not None and (best is None or (hit.segment, hit.start) < (best[0].segment, best[0].start)):
            best = (hit, clause)
    return best


def drop_near(hits: list[Hit], spec: ConceptSpec, name: str, within: int, ctx: Context) -> list[Hit]:
    """`hits` minus those with a hit of concept `name` within `within` characters in the same turn (a product
    named while asking about a refund is service talk, not selling)."""
    near = _by_turn(_hits(spec, name, sorted({h.segment for h in hits}), ctx))
    return [h for h in hits if not any(_near(h, other, within) for other in near.get(h.segment, ()))]


def _clause(spec: ConceptSpec, clause: Clause, indices: list[int], ctx: Context) -> Hit | None:
    by_concept: dict[str, dict[int, list[Hit]]] = {}
    unheard = 0
    for name in clause.all_of:
        by_concept[name] = _by_turn(_hits(spec, name, indices, ctx))
        unheard += not by_concept[name]
        if unheard > (1 if spec.match.fuzzy else 0):  # not even fuzzy search could complete the clause now
            return None
    turns = set(indices)
    for hits in by_concept.values():
        turns &= hits.keys()
    if not turns and spec.match.fuzzy:
        turns = _fuzzy_fill(spec, clause, indices, by_concept, ctx)
    for segment in sorted(turns):
        hit = _together(spec, clause, segment, by_concept, ctx)
        if hit is not None:
            return hit
    return None


def _fuzzy_fill(
    spec: ConceptSpec, clause: Clause, indices: list[int], by_concept: dict[str, dict[int, list[Hit]]], ctx: Context
) -> set[int]:
    """Turns where all concepts but one were heard exactly: look there for the missing one approximately (a long
    phrase misheard by more than a homophone). A clause of one concept searches every turn, but only for its long
    phrases: a fuzzy four-character idiom took “姓名就行” for “听听就行”."""
    found: set[int] = set()
    alone = len(clause.all_of) == 1
    shortest = max(spec.match.fuzzy_min_chars, _ALONE_FUZZY_MIN_CHARS if alone else 0)
    for missing in clause.all_of:
        heard_already = by_concept[missing]
        candidates = [i for i in indices if i not in heard_already]
        for other in (by_concept[n] for n in clause.all_of if n != missing):
            candidates = [i for i in candidates if i in other]
        if not candidates:
            continue
        options = options_of(spec.match)
        # one search over all candidate turns (each phrase's best hit), not one per turn: 8× faster on a long call
        view = ctx.text.view(candidates)
        listed = ctx.phrase_list(spec.concepts[missing].phrases)
        for phrase in listed.fuzzy_tries(view, min_chars=shortest, gaps=False, pairs=options.pinyin):
            hit = fuzzy_find(view, ctx.book.phrases[phrase], options)
            if hit is not None and _counts(spec, missing, hit, ctx):
                by_concept[missing].setdefault(hit.segment, []).append(hit)
                found.add(hit.segment)
    return {s for s in found if all(s in by_concept[n] for n in clause.all_of)}


def _together(
    spec: ConceptSpec, clause: Clause, segment: int, by_concept: dict[str, dict[int, list[Hit]]], ctx: Context
) -> Hit | None:
    """A hit of the clause's first concept with every other concept near it and no excluded concept near it."""
    first, *rest = clause.all_of
    reach = clause.within_chars
    excluded = [h for name in clause.none_of for h in _hits(spec, name, [segment], ctx)]
    for anchor in sorted(by_concept[first][segment], key=lambda h: h.start):
        together = all(any(_near(anchor, h, reach) for h in by_concept[name][segment]) for name in rest)
        if together and not any(_near(anchor, h, reach) for h in excluded):
            return anchor
    return None


def _near(a: Hit, b: Hit, reach: int | None) -> bool:
    if reach is None:
        return True
    return max(a.start, b.start) - min(a.end, b.end) <= reach


def _hits(spec: ConceptSpec, name: str, indices: list[int], ctx: Context) -> list[Hit]:
    """Every exact or same-pinyin hit of a concept's phrases in the turns, minus excused and negated ones. Rules
    sharing a concept (YAML anchors) share the work: equal concept, negation and turns give equal hits."""
    key = ctx.book.concept_key(spec, name)
    if key not in ctx.concept_hits:  # searched once over the whole call, whatever turns a rule looks at
        ctx.concept_hits[key] = _search(spec, name, ctx)
    found = ctx.concept_hits[key]
    if len(indices) == len(ctx.transcript.segments):
        return found
    allowed = set(indices)
    return [h for h in found if h.segment in allowed]


def _search(spec: ConceptSpec, name: str, ctx: Context) -> list[Hit]:
    any_how = spec.match.pinyin and spec.concepts[name].pinyin
    listed = ctx.phrase_list(spec.concepts[name].phrases)
    hits = [hit for hit in ctx.exact_hits(listed) if any_how or hit.how == "text"]
    return [h for h in hits if _counts(spec, name, h, ctx)]


def _counts(spec: ConceptSpec, name: str, hit: Hit, ctx: Context) -> bool:
    concept = spec.concepts[name]
    if concept.exceptions and ctx._excused(hit, concept.exceptions):
        return False
    return not (concept.negatable and _negated(spec, hit, ctx))


def _negated(spec: ConceptSpec, hit: Hit, ctx: Context) -> bool:
    for negation in spec.negation:
        for neg in ctx.exact_in_turn(negation.phrases, hit.segment):
            if negation.exceptions and ctx._excused(neg, negation.exceptions):
                continue  # a set reply (“不会的,”) scopes nothing
            if neg.start < hit.start and hit.start - negation.before_chars <= neg.end <= hit.end:
                return True
            if negation.after_chars and hit.end <= neg.start <= hit.end + negation.after_chars:
                return True
    return False


def _by_turn(hits: list[Hit]) -> dict[int, list[Hit]]:
    grouped: dict[int, list[Hit]] = defaultdict(list)
    for hit in hits:
        grouped[hit.segment].append(hit)
    return grouped
