"""What every check sees of one call, and the helpers they share: scopes, phrase search, evidence, doubt."""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from scoring.findings import Finding, Verdict
from scoring.hangup import Hangup
from scoring.matching import CallText, Hit, MatchOptions, PhraseList, fuzzy_find, overlaps
from scoring.phrasebook import Clause, Match, Phrasebook, Timing, Window
from transcribe.types import Role, Span, Transcript


@dataclass
class Context:
    transcript: Transcript
    text: CallText
    book: Phrasebook
    exact: dict[str, list[Hit]]
    hangup: Hangup
    _turns: dict[Role | None, list[int]] = field(default_factory=dict)
    _spans: dict[tuple[int, ...], tuple[float, float] | None] = field(default_factory=dict)
    _in_turn: dict[PhraseList, dict[int, list[Hit]]] = field(default_factory=dict)
    _exact_hits: dict[PhraseList, list[Hit]] = field(default_factory=dict)
    _lists: dict[int, tuple[list[str], PhraseList]] = field(default_factory=dict)
    _mean_probability: dict[tuple[int, ...], float] = field(default_factory=dict)
    concept_hits: dict[int, list[Hit]] = field(default_factory=dict)  # see checks.concepts._hits
    # see checks.concepts.heard
    concepts_heard: dict[tuple[int, tuple[int, ...]], tuple[Hit, Clause] | None] = field(default_factory=dict)

    # --- scopes -------------------------------------------------------------------------------------------------
    def turns(self, role: Role | None) -> list[int]:
        if role not in self._turns:
            segments = self.transcript.segments
            self._turns[role] = [i for i, s in enumerate(segments) if role is None or s.role == role]
        return self._turns[role]

    def scope(self, role: Role | None, window: Window | None) -> list[int]:
        """Indices of the turns a rule looks at: one role's (or both), optionally only a window of the call."""
        indices = self.turns(role)
        if window is None or not indices:
            return indices
        segments = self.transcript.segments
        if window.first_turns is not None:
            return indices[: window.first_turns]
        if window.last_turns is not None:
            return indices[-window.last_turns :]
        begin, finish = self._bounds
        if window.first_s is not None:
            return [i for i in indices if segments[i].start < begin + window.first_s]
        assert window.last_s is not None
        return [i for i in indices if segments[i].end > finish - window.last_s]

    @cached_property
    def _bounds(self) -> tuple[float, float]:
        """When the first turn starts and the last one ends (the call has turns)."""
        segments = self.transcript.segments
        return min(s.start for s in segments), max(s.end for s in segments)

    # --- phrase search ------------------------------------------------------------------------------------------
    def find(
        self,
        phrases: list[str],
        indices: list[int],
        match: Match,
        *,
        windowed: bool = False,
        exceptions: list[str] = (),  # type: ignore[assignment]
        first_only: bool = False,
    ) -> list[Hit]:
        """Hits of any of `phrases` in the given turns, earliest first; fuzzy search only when nothing exact.
        Placeholder phrases are never in the exact index: their gap search runs in the second stage whatever
        `match.fuzzy` says (a non-fuzzy rule matches their parts exactly or as homophones only)."""
        allowed = set(indices)
        any_how = match.pinyin  # homophones count too
        char_first = first_only and not exceptions and not match.word_boundary
        listed = self.phrase_list(phrases)
        hits = [
            hit
            for hit in listed.exact(self.exact, self.text, indices, char_first)
            if hit.segment in allowed and (any_how or hit.how == "text")
        ]
        if exceptions or match.word_boundary:
            hits = [h for h in hits if self._counts(h, match, exceptions)]
        if hits or not indices:
            return sorted(hits, key=_BY_PLACE)
        view = self.text.view(indices)
        min_chars = (0 if windowed else match.fuzzy_min_chars) if match.fuzzy else None
        searched = listed.fuzzy_tries(view, min_chars=min_chars, gaps=True, pairs=match.pinyin)
        if not searched:
            return []
        options = options_of(match)
        fuzzy: list[Hit] = []
        for phrase in searched:
            compiled = self.book.phrases[phrase]
            found = fuzzy_find(view, compiled, options)
            if found is not None and not self._excused(found, exceptions):
                fuzzy.append(found)
                if first_only:
                    break
        return sorted(fuzzy, key=lambda h: (-h.score, h.segment, h.start))

    def _counts(self, hit: Hit, match: Match, exceptions: list[str]) -> bool:
        if self._excused(hit, exceptions):
            return False
        return not match.word_boundary or self.text.on_word_boundaries(hit.segment, hit.start, hit.end)

    def _excused(self, hit: Hit, exceptions: list[str]) -> Hit | None:
        if not exceptions:
            return None
        return overlaps(hit, self.exact_in_turn(exceptions, hit.segment))

    def exact_in_turn(self, phrases: list[str], index: int) -> list[Hit]:
        """One turn's exact hits of any of `phrases`, phrase by phrase in list order. Worked out for every turn at
        once, the first time a list is asked about: every hit of a concept asks about its turn's negations and
        exceptions, and hits share lists (looking through every hit of a long call for each hit was quadratic)."""
        listed = self.phrase_list(phrases)
        by_turn = self._in_turn.get(listed)
        if by_turn is None:
            by_turn = self._in_turn[listed] = defaultdict(list)
            for hit in self.exact_hits(listed):
                by_turn[hit.segment].append(hit)
        return by_turn.get(index, _NONE)

    def phrase_list(self, phrases: list[str]) -> PhraseList:
        """`book.phrase_list`, known by the list object during the call: rules ask with the same lists many times,
        and each ask made and hashed a tuple of the list. The list is kept with its id, so the id stays its own."""
        known = self._lists.get(id(phrases))
        if known is None or known[0] is not phrases:
            known = self._lists[id(phrases)] = (phrases, self.book.phrase_list(phrases))
        return known[1]

    def exact_hits(self, listed: PhraseList) -> list[Hit]:
        """Every exact and homophone hit of a phrase list in the whole call, phrase by phrase in list order. Kept per
        list: concepts, negations and exceptions share lists."""
        hits = self._exact_hits.get(listed)
        if hits is None:
            hits = self._exact_hits[listed] = listed.exact(self.exact, self.text, self.turns(None))
        return hits

    # --- evidence -----------------------------------------------------------------------------------------------
    def times(self, hit: Hit) -> tuple[float, float]:
        return self.text.times(hit.segment, hit.start, hit.end)

    def describe(self, hit: Hit) -> str:
        heard = self.text.heard(hit.segment, hit.start, hit.end)
        role = self.transcript.segments[hit.segment].role
        if hit.how == "text":
            return f'{role} said "{heard}"'
        how = "same pinyin" if hit.how == "pinyin" else f"similarity {hit.score:.0f}"
        return f'{role} said "{heard}" ≈ "{hit.phrase}" ({how})'

    def finding(
        self, rule: Any, verdict: Verdict, evidence: str, start: float | None = None, end: float | None = None
    ) -> Finding:
        return Finding(
            rule_id=rule.id,
            category=rule.category,
            verdict=verdict,
            severity=rule.severity,
            start=None if start is None else round(start, 2),
            end=None if end is None else round(end, 2),
            evidence=evidence,
            source=rule.source,
            points=rule.points,
            message=rule.message,
        )

    def hit_finding(self, rule: Any, verdict: Verdict, hit: Hit, evidence: str) -> Finding:
        start, end = self.times(hit)
        return self.finding(rule, verdict, evidence, start, end)

    # --- doubt --------------------------------------------------------------------------------------------------
    def doubt(self, rule: Any, indices: list[int], hit: Hit | None = None, *, needs_roles: bool = False) -> str | None:
        """Why a failing verdict should be `uncertain` instead: guessed roles, or words heard too unsurely.
        A rule scoped to one role depends on who spoke; so does any check that says `needs_roles` (who answered
        whom, who explained a wait)."""
        depends_on_roles = needs_roles or getattr(rule, "role", None) is not None
        if depends_on_roles and not self.transcript.roles_confident:
            return "roles are guessed (mono recording)"
        floor = self.book.policy.min_word_probability
        if hit is not None:
            probability = self.text.probability(hit.segment, hit.start, hit.end)
        elif indices:
            probability = sum(self.text.probability(i) for i in indices) / len(indices)
        else:
            return None
        if probability < floor:
            return f"ASR confidence {probability:.2f} below {floor:.2f}"
        return None

    def weak(self, indices: list[int], hit: Hit | None = None) -> str | None:
        """Why these turns (or this hit) were heard too unsurely to vouch for what was or was not said, if they
        were. Not no_speech_prob: it is Whisper's guess for a whole 30 s window, and alone it doubted clearly spoken
        sample turns."""
        floor = self.book.policy.min_word_probability
        if hit is not None:
            probability = self.text.probability(hit.segment, hit.start, hit.end)
        elif indices:
            key = tuple(indices)
            if key not in self._mean_probability:  # several fatal rules ask about the same turns
                self._mean_probability[key] = sum(self.text.probability(i) for i in indices) / len(indices)
            probability = self._mean_probability[key]
        else:
            return None
        return f"ASR confidence {probability:.2f} below {floor:.2f}" if probability < floor else None

    def fail_or_doubt(
        self,
        rule: Any,
        evidence: str,
        indices: list[int],
        hit: Hit | None = None,
        span: tuple[float, float] | None = None,
        *,
        needs_roles: bool = False,
    ) -> Finding:
        reason = self.doubt(rule, indices, hit, needs_roles=needs_roles)
        verdict = Verdict.FAIL if reason is None else Verdict.UNCERTAIN
        text = evidence if reason is None else f"{evidence}; {reason}"
        if hit is not None:
            return self.hit_finding(rule, verdict, hit, text)
        start, end = span if span is not None else (None, None)
        return self.finding(rule, verdict, text, start, end)

    def span_of(self, indices: list[int]) -> tuple[float, float] | None:
        """Seconds from the first to the last of some turns; rules sharing a scope ask for the same one."""
        key = tuple(indices)
        if key not in self._spans:
            segments = self.transcript.segments
            # an empty scope (a window no turn of the role falls in) has no span: never raise
            self._spans[key] = (min(segments[i].start for i in key), max(segments[i].end for i in key)) if key else None
        return self._spans[key]

    # --- timing -------------------------------------------------------------------------------------------------
    @property
    def timing(self) -> Timing:
        """The call-wide timing tolerances of `scorecard.yaml` (`timing:`)."""
        return self.book.policy.timing

    @cached_property
    def silences(self) -> list[Span]:
        """Gaps where neither party is heard, between the first and the last speech of the call."""
        spans: list[Span] = [(s.start, s.end) for s in self.transcript.segments]
        margin = self.timing.tone_margin_s
        for channel in self.transcript.channels:
            spans += [s for s in channel.speech_spans if not inside_any(s, channel.tone_spans, margin)]
        spans.sort()
        gaps: list[Span] = []
        reach = spans[0][1] if spans else 0.0
        for start, end in spans[1:]:
            if start > reach:
                gaps.append((reach, start))
            if end > reach:
                reach = end
        return gaps


def inside_any(span: Span, others: tuple[Span, ...], margin: float) -> bool:
    return any(o[0] - margin <= span[0] and span[1] <= o[1] + margin for o in others)


_BY_PLACE = operator.itemgetter(1, 2)  # Hit (segment, start): earliest first
_NONE: list[Hit] = []  # no hit in a turn: shared, never changed


@cache
def options_of(match: Match) -> MatchOptions:
    """A rule's match settings as the matcher takes them; made once per distinct setting, not per search."""
    return match.options()
