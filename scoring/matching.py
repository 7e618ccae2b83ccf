"""Finding phrases in what was heard, tolerant of ASR errors.

Three stages, cheapest first:
1. exact: one Aho-Corasick pass over each turn's syllable codes finds every phrase said exactly and every homophone
   (故事有风险 = 股市有风险); comparing the characters tells which of the two a hit is;
2. fuzzy: rapidfuzz `partial_ratio_alignment` on pinyin and on text, only inside a rule's scope and only where
   stage 1 found nothing (near-homophones: 引好 ≈ 您好, 中国银合正线 ≈ 中国银河证券);
3. placeholders: "您好{org}营业部" is its literal parts in order, with 1–12 characters of anything between; each
   part matches as in stages 1 and 2 (exactly or as a homophone, and approximately only when the rule is fuzzy).
Every hit keeps where it is (turn, characters, seconds), what was heard and how well it matched: the evidence.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, TypeAlias

import ahocorasick
import numpy as np
import re2
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq, ScoreAlignment

from scoring.normalise import (
    SEPARATOR,
    char_at,
    char_end,
    normal_and_codes,
    normalise,
    normalise_keep_separators,
    pinyin,
    spell_codes,
    syllable_codes,
    syllables,
)
from transcribe.types import Segment, Transcript, Word

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")  # ours, fixed and linear: Python's `re` is safe for it

# Phrasebook patterns run on RE2, whose matching time is linear in the text whatever the pattern: `(a+)+b` on
# Python's backtracking `re` never returns on 40 characters. RE2 has no backreferences or lookarounds; such a
# pattern is refused at load. Its \w and \b know ASCII only, silently never matching Chinese: refused too.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the load error says it in one line; no absl log on stderr
_ASCII_ONLY_CLASS = re.compile(r"(?<!\\)(?:\\\\)*\\[wWbB]")
Regex: TypeAlias = re2._Regexp  # google-re2 ships no type hints
RegexSet: TypeAlias = re2.Set


def compile_regex(pattern: str) -> Regex:
    """A phrasebook pattern, compiled for linear-time matching; `ValueError` (one line) if RE2 cannot run it."""
    if _ASCII_ONLY_CLASS.search(pattern):
        raise ValueError(
            f"bad regular expression {pattern!r}: \\w and \\b match ASCII only here (RE2); "
            "write a class such as [\\p{Han}0-9] instead"
        )
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"bad regular expression {pattern!r}: {reason} (RE2 syntax: no backreferences or lookarounds)"
        ) from None


def regex_prefilter(patterns: Sequence[str]) -> RegexSet:
    """One RE2 pass telling which of `patterns` occur at all: most calls have no hit, and one set search costs
    about what one pattern's search does (8 µs against 6 µs each on a 5-minute call)."""
    found = re2.Set.SearchSet(_RE2_OPTIONS)
    for pattern in patterns:
        compile_regex(pattern)  # the one-line error, before RE2::Set reports it as -1
        found.Add(pattern)
    found.Compile()
    return found


@dataclass(frozen=True)
class Gap:
    min_chars: int
    max_chars: int


@dataclass(frozen=True)
class Phrase:
    """A phrase as written in a phrasebook, compiled: literal parts (normal form) and the gaps between them."""

    text: str
    parts: tuple[str, ...]
    gaps: tuple[Gap, ...] = ()

    # Worked out once per phrasebook, not once per search: every call asks for them many times.
    @cached_property
    def literal(self) -> str | None:
        return self.parts[0] if not self.gaps else None

    @cached_property
    def length(self) -> int:
        return sum(len(p) for p in self.parts) + sum(g.min_chars for g in self.gaps)

    @cached_property
    def codes(self) -> str:
        """Syllable codes of the first part (the whole phrase when it has no placeholder)."""
        return syllable_codes(self.parts[0])

    @cached_property
    def spelled(self) -> str:
        """Pinyin of the first part."""
        return pinyin(self.parts[0])

    @cached_property
    def pairs(self) -> list[int]:
        """`pair_keys` of the first part's codes, one per character but the last."""
        return pair_keys(self.codes)

    @cached_property
    def pair_codes(self) -> list[str]:
        """The same pairs as two-code strings."""
        return [self.codes[i : i + 2] for i in range(len(self.codes) - 1)]


def pair_keys(codes: str) -> list[int]:
    """Each adjacent pair of syllable codes as one integer (the two code points side by side), in order: sets of
    them are cheap to make for a whole call (a few array operations) and to test, where sets of two-character
    strings cost a string per position."""
    units = np.frombuffer(codes.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    keys: list[int] = ((units[:-1] << np.uint64(32)) | units[1:]).tolist()
    return keys


def compile_phrase(text: str, placeholders: dict[str, Gap]) -> Phrase:
    """'您好,{org}营业部' → parts ('您好', '营业部') with the `org` gap. Raises KeyError for an unknown placeholder."""
    pieces = _PLACEHOLDER.split(text)
    literals, names = pieces[0::2], pieces[1::2]
    gaps = tuple(placeholders[name] for name in names)
    parts = tuple(normalise(p) for p in literals)
    if gaps and not all(parts):
        raise ValueError(f"placeholder must sit between two literal parts: {text!r}")
    if not "".join(parts):
        raise ValueError(f"phrase has no letters or digits: {text!r}")
    return Phrase(text=text, parts=parts, gaps=gaps)


@dataclass(frozen=True)
class MatchOptions:
    min_score: float = 80.0
    pinyin: bool = True
    fuzzy: bool = True
    fuzzy_min_chars: int = 4  # shorter phrases match exactly (text or pinyin) unless the scope is a small window
    word_boundary: bool = False


class Hit(NamedTuple):  # a tuple, not a dataclass: calls make hundreds, and tuples are the cheapest to make
    phrase: str  # as written in the phrasebook
    segment: int  # index into transcript.segments
    start: int  # character offsets into that segment's normal text
    end: int
    score: float
    how: str  # "text" | "pinyin" | "fuzzy"


# `Hit(...)` runs NamedTuple's `__new__`, a Python function; the exact search makes hundreds of hits per call, and the
# tuple constructor it calls makes the same hit without it.
_new_hit = tuple.__new__


class CallText:
    """The normal, syllable-code and pinyin forms of every turn of one call, plus what maps characters back to words
    and seconds. The first two are made once per call (every turn is searched); pinyin only for turns fuzzy search
    looks at."""

    def __init__(self, transcript: Transcript) -> None:
        self.segments: tuple[Segment, ...] = transcript.segments
        forms = [normal_and_codes(s.text) for s in self.segments]
        self.normal = [normal for normal, _ in forms]
        self.codes = [codes for _, codes in forms]
        self._pinyin: dict[int, str] = {}
        self._chars: dict[str, list[tuple[int, int]]] = {}
        self._probabilities: dict[int, float] = {}
        self._word_ends: dict[int, list[int]] = {}
        self._tokens: dict[int, tuple[set[int], set[int]]] = {}
        self._views: dict[tuple[int, ...], View] = {}

    def char_places(self, char: str) -> list[tuple[int, int]]:
        """(turn, offset) of every occurrence of one character in the call, in order: one search of the whole call
        per character, however many phrase lists hold it."""
        places = self._chars.get(char)
        if places is None:
            places, starts, whole = [], self._starts, self._whole
            at = whole.find(char)
            while at >= 0:
                index = bisect.bisect_right(starts, at) - 1
                places.append((index, at - starts[index]))
                at = whole.find(char, at + 1)
            self._chars[char] = places
        return places

    @cached_property
    def _whole(self) -> str:
        return SEPARATOR.join(self.normal)

    @cached_property
    def _starts(self) -> list[int]:
        """Where each turn starts in `_whole`."""
        return list(itertools.accumulate((len(n) + 1 for n in self.normal[:-1]), initial=0))

    def pinyin(self, index: int) -> str:
        if index not in self._pinyin:
            self._pinyin[index] = pinyin(self.normal[index])
        return self._pinyin[index]

    @cached_property
    def pairs(self) -> set[int]:
        """Every adjacent pair of syllable codes in the call (`pair_keys`): fuzzy search skips a phrase, or one of its
        pairs, that the call does not hold, before any `str.find` pass over a scope."""
        return set(pair_keys(SEPARATOR.join(self.codes)))

    @cached_property
    def whole(self) -> View:
        return self.view(range(len(self.segments)))

    def view(self, indices: Iterable[int]) -> View:
        key = tuple(indices)
        if key not in self._views:
            self._views[key] = View(self, key)
        return self._views[key]

    def times(self, index: int, start: int, end: int) -> tuple[float, float]:
        """Seconds of the words that hold characters [start, end) of segment `index`."""
        words = self._words(index)
        seg = self.segments[index]
        if not words:
            return seg.start, seg.end
        first, last = self._word_range(index, start, end)
        return words[first].start, words[last].end

    def probability(self, index: int, start: int = 0, end: int | None = None) -> float:
        """Mean word probability over characters [start, end) of a segment (whole segment by default)."""
        if start == 0 and end is None:
            return self._turn_probability(index)
        words = self._words(index)
        if not words:
            return _logprob_to_probability(self.segments[index].avg_logprob)
        first, last = self._word_range(index, start, len(self.normal[index]) if end is None else end)
        chosen = words[first : last + 1]
        return sum(w.probability for w in chosen) / len(chosen)

    def _turn_probability(self, index: int) -> float:
        """Mean word probability of a whole turn. Kept: rules over different scopes ask about the same turns."""
        known = self._probabilities.get(index)
        if known is None:
            words = self._words(index)
            if words:
                known = sum(w.probability for w in words) / len(words)
            else:
                known = _logprob_to_probability(self.segments[index].avg_logprob)
            self._probabilities[index] = known
        return known

    def heard(self, index: int, start: int, end: int) -> str:
        return self.normal[index][start:end]

    def on_word_boundaries(self, index: int, start: int, end: int) -> bool:
        """Whether [start, end) starts and ends where jieba cuts the turn into words."""
        if index not in self._tokens:
            from scoring.tokens import boundaries  # jieba loads only when a rule asks for word boundaries

            self._tokens[index] = boundaries(self.normal[index])
        starts, ends = self._tokens[index]
        return start in starts and end in ends

    def _words(self, index: int) -> tuple[Word, ...]:
        return self.segments[index].words

    def _word_range(self, index: int, start: int, end: int) -> tuple[int, int]:
        ends = self._word_ends.get(index)
        if ends is None:
            joined = normalise_keep_separators(SEPARATOR.join(w.text for w in self._words(index)))
            ends = list(itertools.accumulate(map(len, joined.split(SEPARATOR))))
            self._word_ends[index] = ends
        # `ends` ascends: the first word ending after `start`, the first ending at or after `end` (else the last)
        first = min(bisect.bisect_right(ends, start), len(ends) - 1)
        last = min(bisect.bisect_left(ends, end), len(ends) - 1)
        return first, max(first, last)


class View:
    """Some turns of a call joined into one searchable string (turns separated by '|'): normal, syllable codes and
    pinyin, all with the same characters at the same places (one syllable per character in pinyin)."""

    def __init__(self, text: CallText, indices: tuple[int, ...]) -> None:
        self.text = text
        self.indices = indices
        self.starts: list[int] = []
        offset = 0
        for i in indices:
            self.starts.append(offset)
            offset += len(text.normal[i]) + 1
        self.normal = SEPARATOR.join(text.normal[i] for i in indices)
        self._positions: dict[str, list[int]] = {}

    @cached_property
    def codes(self) -> str:
        return SEPARATOR.join(self.text.codes[i] for i in self.indices)

    @cached_property
    def pinyin(self) -> str:
        return " " + "| ".join(self.text.pinyin(i)[1:] for i in self.indices) if self.indices else " "

    def positions(self, pair: str) -> list[int]:
        """Where the two syllable codes `pair` occur in `codes`, in order. Kept per view: phrases share pairs, and
        each lookup is a pass over the scope."""
        found = self._positions.get(pair)
        if found is None:
            found, at = [], self.codes.find(pair)
            while at >= 0:
                found.append(at)
                at = self.codes.find(pair, at + 1)
            self._positions[pair] = found
        return found

    @cached_property
    def tokens(self) -> list[str]:
        """One syllable (or '|') per character of `normal`: `pinyin.split()`, made from the codes."""
        return syllables(self.codes)

    def locate(self, start: int, end: int) -> tuple[int, int, int]:
        """View characters [start, end) → (segment index, start, end) within that segment's normal text."""
        position = bisect.bisect_right(self.starts, start) - 1
        position = max(position, 0)
        local = start - self.starts[position]
        if local >= len(self.text.normal[self.indices[position]]) and position + 1 < len(self.starts):
            position += 1  # the window began on a separator: it belongs to the next turn
            local = 0
        length = len(self.text.normal[self.indices[position]])
        return self.indices[position], local, max(local + 1, min(end - self.starts[position], length))


class ExactIndex:
    """One Aho-Corasick automaton over the syllable codes of every literal phrase of two characters or more.

    Equal codes mean equal pinyin, so one pass per turn finds both what was said exactly and its homophones; a hit
    whose characters are the phrase's own is "text", any other "pinyin". Single characters are everywhere: they
    are looked up on demand (`find_char`)."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        keys: dict[str, dict[str, str]] = defaultdict(dict)  # codes → {phrase as written: its literal}
        for phrase in phrases:
            literal = phrase.literal
            if literal is not None and len(literal) >= 2:
                keys[syllable_codes(literal)][phrase.text] = literal
        self._automaton = ahocorasick.Automaton()
        for key, names in keys.items():
            self._automaton.add_word(key, (len(key), tuple(names.items())))
        if keys:
            self._automaton.make_automaton()

    def search(self, text: CallText) -> dict[str, list[Hit]]:
        """Every exact and homophone occurrence of every phrase in the call, by phrase."""
        found: dict[str, list[Hit]] = defaultdict(list)
        if self._automaton.kind != ahocorasick.AHOCORASICK:
            return found
        for segment, (normal, codes) in enumerate(zip(text.normal, text.codes, strict=True)):
            for last, (length, names) in self._automaton.iter(codes):
                start, end = last - length + 1, last + 1
                heard = normal[start:end]
                for name, literal in names:
                    how = "text" if heard == literal else "pinyin"
                    found[name].append(_new_hit(Hit, (name, segment, start, end, 100.0, how)))
        return found


class PhraseList:
    """A phrase list of a rule (as written), indexed once per phrasebook. Exact hits come from the call's hit table
    for the phrases that were heard, and fuzzy search tries a long phrase only where the scope shares one of its
    syllable pairs: the cost follows what was said, not the length of the list. Results keep the list's order."""

    def __init__(self, names: Sequence[str], compiled: Mapping[str, Phrase]) -> None:
        self.names = tuple(names)
        self._compiled = compiled
        self._places: dict[str, list[int]] = defaultdict(list)  # phrases of the exact index → places in the list
        self._chars: list[tuple[int, Phrase]] = []  # one-character phrases: searched on demand (`find_char`)
        self._by_pair: dict[int, list[int]] = defaultdict(list)  # `pair_keys` → places of phrases of 4+ characters
        for place, name in enumerate(self.names):
            literal = compiled[name].literal
            if literal is None:  # placeholder phrases have no exact hits
                continue
            if len(literal) == 1:
                self._chars.append((place, compiled[name]))
            else:
                self._places[name].append(place)
            if len(literal) >= 4:
                for pair in compiled[name].pairs:
                    self._by_pair[pair].append(place)
        self._pair_set = set(self._by_pair)
        self._tries: dict[tuple[int | None, bool, bool], tuple[tuple[int, ...], frozenset[int]]] = {}

    def exact(
        self, found: Mapping[str, Sequence[Hit]], text: CallText, indices: Sequence[int], first_char_only: bool = False
    ) -> list[Hit]:
        """Every exact and homophone hit of the list's phrases in the call (`found`: the call's hit table) and of
        its one-character phrases in the given turns, phrase by phrase in list order."""
        parts = [(place, found[name]) for name in self._places.keys() & found.keys() for place in self._places[name]]
        parts += [(place, find_char(text, indices, phrase, first_char_only)) for place, phrase in self._chars]
        return _in_list_order(parts)

    def fuzzy_tries(self, view: View, *, min_chars: int | None, gaps: bool, pairs: bool) -> list[str]:
        """The phrases worth an approximate search in `view`, in list order: placeholder phrases if `gaps`, literal
        ones of `min_chars` characters or more (none if None). With `pairs` (pinyin search), those of 4+ characters
        only where `fuzzy_find` can find them: sharing a syllable pair with the view."""
        always, by_pairs = self._fixed_tries(min_chars, gaps, pairs)
        if not by_pairs:
            return [self.names[p] for p in always]
        shared = view.text.pairs & self._pair_set  # C-level, over the smaller of the two
        found = {place for pair in shared for place in self._by_pair[pair] if place in by_pairs}
        return [self.names[p] for p in sorted(found.union(always))]

    def _fixed_tries(self, min_chars: int | None, gaps: bool, pairs: bool) -> tuple[tuple[int, ...], frozenset[int]]:
        """(places always tried, places tried only on a shared pair) for these settings, worked out once."""
        key = (min_chars, gaps, pairs)
        if key not in self._tries:
            always: list[int] = []
            by_pairs: set[int] = set()
            for place, name in enumerate(self.names):
                phrase = self._compiled[name]
                if phrase.gaps:
                    if gaps:
                        always.append(place)
                elif min_chars is not None and phrase.length >= min_chars:
                    if pairs and phrase.length >= 4:
                        by_pairs.add(place)
                    else:
                        always.append(place)
            self._tries[key] = (tuple(always), frozenset(by_pairs))
        return self._tries[key]


def _in_list_order(parts: list[tuple[int, Sequence[Hit]]]) -> list[Hit]:
    parts.sort(key=_FIRST)  # places are distinct: the hits themselves are never compared
    return [hit for _, hits in parts for hit in hits]


_FIRST = operator.itemgetter(0)


def find_char(text: CallText, indices: Sequence[int], phrase: Phrase, first_only: bool = False) -> list[Hit]:
    """Occurrences of a one-character phrase in some turns (in ascending order, as every scope is), by plain search
    (too common for the automaton). In every turn of the call: from the call's own table of that character."""
    char, hits = phrase.parts[0], []
    if len(indices) == len(text.normal):
        places = text.char_places(char)
        name = phrase.text
        chosen = places[: 1 if first_only else None]
        return [_new_hit(Hit, (name, index, at, at + 1, 100.0, "text")) for index, at in chosen]
    for index in indices:
        normal, at = text.normal[index], -1
        while (at := normal.find(char, at + 1)) >= 0:
            hits.append(Hit(phrase.text, index, at, at + 1, 100.0, "text"))
            if first_only:
                return hits
    return hits


def fuzzy_find(view: View, phrase: Phrase, options: MatchOptions) -> Hit | None:
    """The best approximate occurrence of `phrase` in `view` scoring at least `options.min_score`, if any."""
    if not view.indices:
        return None
    if phrase.gaps:
        return _find_with_gaps(view, phrase, options)
    literal = phrase.parts[0]
    if options.pinyin and len(literal) >= 4:
        # only around intact syllable pairs (none at all: the prefilter `_plausible` would have said no)
        found = _around_pairs(view, phrase, options.min_score)
        return None if found is None else Hit(phrase.text, *found, "fuzzy")
    spelled = options.pinyin and len(literal) >= 2
    if not (_plausible(phrase.codes, view.codes) if spelled else _plausible(literal, view.normal)):
        return None
    needle, haystack = (phrase.spelled, view.pinyin) if spelled else (literal, view.normal)
    if len(needle) > len(haystack):
        return None
    aligned = fuzz.partial_ratio_alignment(needle, haystack, score_cutoff=options.min_score)
    if aligned is None:
        return None
    start, end = aligned.dest_start, aligned.dest_end
    if spelled:
        start, end = _refine(needle, view.tokens, char_at(haystack, start), char_end(haystack, end))
    segment, local_start, local_end = view.locate(start, end)
    return Hit(phrase.text, segment, local_start, local_end, round(aligned.score, 1), "fuzzy")


_MIN_SHARED = 0.5  # a fuzzy hit needs at least half the phrase's syllables (characters) somewhere in scope


def _plausible(units: str, scope: str) -> bool:
    """Cheap prefilter before any fuzzy work, on one character per unit (syllable codes, or characters) and the
    scope in the same form. Four or more units: some adjacent pair must occur as it is (one misheard syllable
    leaves one intact); shorter: at least half the units must occur somewhere. Plain substring tests: C speed."""
    if len(units) >= 4:
        return any(units[i : i + 2] in scope for i in range(len(units) - 1))
    distinct = set(units)
    return sum(u in scope for u in distinct) >= _MIN_SHARED * len(distinct)


_MAX_WINDOWS = 24


def _around_pairs(view: View, phrase: Phrase, cutoff: float) -> tuple[int, int, int, float] | None:
    """Fuzzy search only in small windows around where an intact syllable pair of the phrase occurs:
    (segment, start, end, score) of the best, or None. Long scopes never go through a long partial_ratio.
    Pairs are looked up in the scope (`View.positions`), only those the call holds at all."""
    needle, codes = phrase.spelled, phrase.codes
    starts: set[int] = set()
    scope, present = view.codes, view.text.pairs
    for offset, (key, pair) in enumerate(zip(phrase.pairs, phrase.pair_codes, strict=True)):
        if key in present:
            starts.update(map(offset.__rsub__, view.positions(pair)))
            if len(starts) > _MAX_WINDOWS:
                break
    if not starts:
        return None
    best: tuple[int, int, int, float] | None = None
    # Each window spelled from its own codes: spelling whole scopes cost more than all their windows. A stretch said
    # twice in scope (the same codes) is spelled and aligned once.
    aligned: dict[str, tuple[str, ScoreAlignment] | None] = {}
    for start in sorted(starts)[:_MAX_WINDOWS]:
        low, high = max(0, start - 2), min(len(scope), start + len(codes) + 2)
        heard = scope[low:high]
        if heard not in aligned:
            window = spell_codes(heard)
            found = partial_alignment(needle, window, cutoff)
            aligned[heard] = None if found is None else (window, found)
        seen = aligned[heard]
        if seen is None or (best is not None and seen[1].score <= best[3]):
            continue
        window, found = seen
        first, last = _refine(
            needle, syllables(heard), char_at(window, found.dest_start), char_end(window, found.dest_end)
        )
        segment, local_start, local_end = view.locate(low + first, low + last)
        best = (segment, local_start, local_end, round(found.score, 1))
    return best


def partial_alignment(needle: str, window: str, cutoff: float) -> ScoreAlignment | None:
    """`fuzz.partial_ratio_alignment(needle, window, score_cutoff=cutoff)`, skipped when it cannot reach `cutoff`.

    partial_ratio aligns the shorter string (length s) with a piece of the longer one (length k) and scores
    200·LCS/(s+k). That LCS is at most k and at most L, the LCS of the two whole strings, so no piece scores
    above 200·L/(s+L). One LCS costs a few percent of an alignment, and around a shared syllable pair most windows
    of a fuzzy search fall short of this bound (nine in ten on the bench calls)."""
    common = LCSseq.similarity(needle, window)
    shorter = min(len(needle), len(window))
    if 200.0 * common < (cutoff - _BOUND_SLACK) * (shorter + common):
        return None
    return fuzz.partial_ratio_alignment(needle, window, score_cutoff=cutoff)


_BOUND_SLACK = 1e-6  # skip only what is short of the cutoff beyond any rounding of the bound


def _refine(needle: str, syllables: list[str], start: int, end: int) -> tuple[int, int]:
    """Letter-level alignments can take in a neighbour's syllable: keep the character span that sounds closest."""
    best = (-1.0, start, end)
    for low in (start - 1, start, start + 1):
        for high in (end - 1, end, end + 1):
            if 0 <= low < high <= len(syllables):
                similarity = fuzz.ratio(needle, " " + " ".join(syllables[low:high]) + " ")
                if similarity > best[0] or (similarity == best[0] and high - low < best[2] - best[1]):
                    best = (similarity, low, high)
    return best[1], best[2]


def _find_with_gaps(view: View, phrase: Phrase, options: MatchOptions) -> Hit | None:
    """Each literal part in order inside one turn, the gaps between them within their bounds."""
    for index in view.indices:
        normal, codes = view.text.normal[index], view.text.codes[index]
        position, first, found_how = 0, -1, []
        for number, part in enumerate(phrase.parts):
            gap = phrase.gaps[number - 1] if number else None
            low = position + (gap.min_chars if gap else 0)
            high = position + gap.max_chars + len(part) + 1 if gap else len(normal)
            found = _find_part(normal[low:high], codes[low:high], part, options)
            if found is None:
                break
            start, end, score, how = found
            first = low + start if number == 0 else first
            position = low + end
            found_how.append((score, how))
        else:
            score = min(s for s, _ in found_how)
            hows = {how for _, how in found_how}
            how = "fuzzy" if "fuzzy" in hows else "pinyin" if "pinyin" in hows else "text"
            return Hit(phrase.text, index, first, position, score, how)
    return None


def _find_part(haystack: str, codes: str, part: str, options: MatchOptions) -> tuple[int, int, float, str] | None:
    """Where one literal part of a placeholder phrase is in `haystack` (a stretch of one turn, `codes` its syllable
    codes): (start, end, score, how) as for whole phrases, fuzzy only when the rule allows it."""
    at = haystack.find(part)
    if at >= 0:
        return at, at + len(part), 100.0, "text"
    if not options.pinyin:
        return None
    at = codes.find(syllable_codes(part))
    if at >= 0:
        return at, at + len(part), 100.0, "pinyin"
    if not options.fuzzy or len(part) < 2 or len(part) > len(haystack):
        return None
    spelled, needle = pinyin(haystack), pinyin(part)
    found = fuzz.partial_ratio_alignment(needle, spelled, score_cutoff=options.min_score)
    if found is None:
        return None
    return char_at(spelled, found.dest_start), char_end(spelled, found.dest_end), round(found.score, 1), "fuzzy"


def overlaps(hit: Hit, others: Sequence[Hit]) -> Hit | None:
    return next((o for o in others if o.segment == hit.segment and o.start < hit.end and hit.start < o.end), None)


def _logprob_to_probability(avg_logprob: float) -> float:
    import math

    return math.exp(min(avg_logprob, 0.0))
