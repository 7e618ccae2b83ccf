"""The speed-ups of phrase search give what the plain searches give: the LCS bound before an alignment, the phrase
lists' indexes (exact hits, fuzzy candidates) and the call's syllable-pair table."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from scoring.matching import (
    CallText,
    Hit,
    MatchOptions,
    Phrase,
    View,
    _refine,
    find_char,
    fuzzy_find,
    pair_keys,
    partial_alignment,
)
from scoring.normalise import char_at, char_end, normalise, pinyin, spell_codes, syllable_codes, syllables
from tests.scoring.factory import book, call

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
# Few characters, so that random texts share syllables with each other and with phrases: near misses, not noise.
FEW_HAN = st.sampled_from(list("风险股市有投资需谨慎收益保本您好请问稍等亏损不会一定肯定基金产品推荐"))
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    st.text(alphabet=FEW_HAN, min_size=2, max_size=12),
    st.text(alphabet=FEW_HAN, min_size=1, max_size=18),
    st.sampled_from([50.0, 70.0, 80.0, 85.0, 90.0, 100.0]),
)
def test_partial_alignment_is_rapidfuzz_whenever_it_skips_or_not(needle: str, window: str, cutoff: float) -> None:
    spelled, haystack = pinyin(needle), pinyin(window)
    expected = fuzz.partial_ratio_alignment(spelled, haystack, score_cutoff=cutoff)
    assert partial_alignment(spelled, haystack, cutoff) == expected


def test_partial_alignment_skips_a_window_that_falls_short() -> None:
    # the bound must actually prune (else it is only a cost): an unrelated window is skipped without an alignment
    needle, window = pinyin("过往业绩不代表未来表现"), pinyin("请您稍等一下我帮您查询")
    assert fuzz.partial_ratio(needle, window) < 80
    assert partial_alignment(needle, window, 80.0) is None


@SETTINGS
@given(st.text(alphabet=HAN, max_size=30))
def test_pair_keys_are_the_adjacent_pairs(text: str) -> None:
    codes = syllable_codes(normalise(text))
    keys = set(pair_keys(codes))
    assert len(pair_keys(codes)) == max(len(codes) - 1, 0)
    pairs = {codes[i : i + 2] for i in range(len(codes) - 1)}
    for other in pairs | {"ab"} | ({codes[0] * 2} if codes else set()):
        assert (pair_keys(other)[0] in keys) == (other in pairs)


def _plain_exact(names: list[str], exact: dict[str, list[Hit]], text: CallText, indices: list[int]) -> list[Hit]:
    """What the checks did before phrase lists: every phrase of the list in turn."""
    compiled = book().phrases
    found: list[Hit] = []
    for name in names:
        phrase = compiled[name]
        if phrase.literal is not None and len(phrase.literal) == 1:
            found += find_char(text, indices, phrase)
        else:
            found += exact.get(name, [])
    return found


NAMES = sorted(book().phrases)


@SETTINGS
@given(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=40),
    st.lists(st.text(alphabet=FEW_HAN, min_size=1, max_size=20), min_size=1, max_size=6),
)
def test_phrase_list_exact_hits_are_the_per_phrase_hits_in_list_order(names: list[str], turns: list[str]) -> None:
    names += names[:2]  # a phrase listed twice is searched twice, as before
    text = CallText(call(*[("agent", t) for t in turns]))
    exact = book().index.search(text)
    indices = list(range(len(turns)))
    listed = book().phrase_list(names)
    assert listed.exact(exact, text, indices) == _plain_exact(names, exact, text, indices)
    everywhere = listed.exact(exact, text, indices)
    for index in indices:
        in_turn = [h for h in _plain_exact(names, exact, text, [index]) if h.segment == index]
        assert [h for h in everywhere if h.segment == index] == in_turn


@SETTINGS
@given(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=40),
    st.lists(st.text(alphabet=FEW_HAN, min_size=1, max_size=20), min_size=1, max_size=6),
    st.sampled_from([0, 2, 4, 6]),
    st.booleans(),
)
def test_phrases_fuzzy_search_leaves_out_are_never_found(
    names: list[str], turns: list[str], min_chars: int, spelled: bool
) -> None:
    text = CallText(call(*[("agent", t) for t in turns]))
    view = text.view(range(len(turns)))
    options = MatchOptions(min_score=70.0, pinyin=spelled)
    tried = book().phrase_list(names).fuzzy_tries(view, min_chars=min_chars, gaps=True, pairs=spelled)
    wanted = [n for n in names if book().phrases[n].gaps or book().phrases[n].length >= min_chars]
    assert [n for n in wanted if n in tried] == tried  # list order, nothing outside the settings
    for name in wanted:
        if name not in tried:
            assert fuzzy_find(view, book().phrases[name], options) is None


@SETTINGS
@given(st.text(alphabet=st.one_of(HAN, st.sampled_from(list("ab12|"))), max_size=30))
def test_spelled_codes_are_the_pinyin_of_the_text(text: str) -> None:
    normal = normalise(text) + "|" + normalise(text[::-1])  # a separator stays a separator
    assert spell_codes(syllable_codes(normal)) == pinyin(normal)


def _plain_fuzzy(view: View, phrase: Phrase, cutoff: float) -> tuple[int, int, int, float] | None:
    """What fuzzy search around syllable pairs did one phrase and one window at a time: each window spelled from its
    codes, `partial_alignment` of each."""
    codes, scope, starts = phrase.codes, view.codes, set()
    for offset in range(len(codes) - 1):
        at = scope.find(codes[offset : offset + 2])
        while at >= 0:
            starts.add(at - offset)
            at = scope.find(codes[offset : offset + 2], at + 1)
        if len(starts) > 24:
            break
    best = None
    for start in sorted(starts)[:24]:
        low, high = max(0, start - 2), min(len(scope), start + len(codes) + 2)
        window = spell_codes(scope[low:high])
        found = partial_alignment(phrase.spelled, window, cutoff)
        if found is None or (best is not None and found.score <= best[3]):
            continue
        first, last = _refine(
            phrase.spelled,
            syllables(scope[low:high]),
            char_at(window, found.dest_start),
            char_end(window, found.dest_end),
        )
        best = (*view.locate(low + first, low + last), round(found.score, 1))
    return best


@SETTINGS
@given(
    st.lists(st.sampled_from([n for n in NAMES if book().phrases[n].literal and len(book().phrases[n].literal) >= 4])),
    st.lists(st.text(alphabet=FEW_HAN, min_size=1, max_size=30), min_size=1, max_size=6),
    st.sampled_from([60.0, 70.0, 80.0, 90.0]),
)
def test_fuzzy_search_around_pairs_is_the_plain_window_by_window_search(
    names: list[str], turns: list[str], cutoff: float
) -> None:
    text = CallText(call(*[("agent", t) for t in turns]))
    view = text.view(range(len(turns)))
    for name in names:
        hit = fuzzy_find(view, book().phrases[name], MatchOptions(min_score=cutoff))
        assert (hit[1:5] if hit else None) == _plain_fuzzy(view, book().phrases[name], cutoff)


@SETTINGS
@given(
    st.sampled_from(list("风险股您请不")),
    st.lists(
        st.text(alphabet=st.sampled_from(list("风险股您请不,|a1")), min_size=1, max_size=12), min_size=1, max_size=6
    ),
    st.booleans(),
)
def test_one_character_over_the_whole_call_is_found_turn_by_turn(char: str, turns: list[str], first: bool) -> None:
    text = CallText(call(*[("agent", t) for t in turns]))
    phrase = Phrase(text=char, parts=(char,))
    plain = [
        Hit(char, index, at, at + 1, 100.0, "text")
        for index, normal in enumerate(text.normal)
        for at in range(len(normal))
        if normal[at] == char
    ]
    assert find_char(text, list(range(len(turns))), phrase, first) == (plain[:1] if first else plain)
    assert find_char(text, list(range(len(turns))), phrase) == find_char(text, range(len(turns)), phrase)
