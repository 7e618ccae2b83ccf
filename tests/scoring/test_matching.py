"""Normalisation and phrase matching: properties (hypothesis) and the ASR variants the issue names."""

from __future__ import annotations

import json
import os
import sys

import opencc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import score
from scoring.cases import load_cases
from scoring.matching import CallText, ExactIndex, MatchOptions, compile_phrase, fuzzy_find
from scoring.normalise import _pypinyin, char_at, char_end, normalise, pinyin
from tests.scoring.factory import PHRASEBOOKS, book, call

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_S2T = opencc.OpenCC("s2t")


@settings(deadline=None)
@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@settings(deadline=None)
@given(st.text(alphabet=HAN, max_size=30))
def test_pinyin_has_one_syllable_per_character_and_maps_back(text: str) -> None:
    normal = normalise(text)
    spelled = pinyin(normal)
    assert len(spelled.split()) == len(normal)
    for index in range(len(normal)):
        begin = spelled.index(" ", 0) if index == 0 else _nth_space(spelled, index)
        assert char_at(spelled, begin + 1) == index
        assert char_end(spelled, begin + 2) == index + 1


def _nth_space(text: str, n: int) -> int:
    position = -1
    for _ in range(n + 1):
        position = text.index(" ", position + 1)
    return position


LITERALS = sorted(t for t, p in book().phrases.items() if p.literal and len(p.literal) >= 2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LITERALS), st.text(alphabet=HAN, max_size=20), st.text(alphabet=HAN, max_size=20))
def test_a_phrase_embedded_in_random_text_is_found_where_it_is(phrase: str, before: str, after: str) -> None:
    compiled = compile_phrase(phrase, {})
    text = CallText(call(("agent", before + phrase + after)))
    hits = ExactIndex([compiled]).search(text)[phrase]
    expected_start = len(normalise(before))
    assert any(h.start == expected_start and h.end == expected_start + len(compiled.literal or "") for h in hits)


CASES = [c for _, c in load_cases(PHRASEBOOKS)]


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CASES), st.sampled_from(["traditional", "full-width", "both"]))
def test_traditional_and_full_width_forms_score_the_same(case, form: str) -> None:  # type: ignore[no-untyped-def]
    from scoring.cases import case_transcript

    def convert(text: str) -> str:
        if form in ("traditional", "both"):
            text = _S2T.convert(text)
        if form in ("full-width", "both"):
            text = _full_width(text)
        return text

    changed = case.model_copy(update={"turns": [t.model_copy(update={"text": convert(t.text)}) for t in case.turns]})
    original = score(case_transcript(case), book()).to_dict()
    variant = score(case_transcript(changed), book()).to_dict()
    assert [(f["rule_id"], f["verdict"]) for f in variant["findings"]] == [
        (f["rule_id"], f["verdict"]) for f in original["findings"]
    ]


@pytest.mark.parametrize(
    ("phrase", "heard"),
    [
        ("股市有风险", "故事有风险"),
        ("中国银河证券", "中国银河正确"),
        ("中国银河证券", "中国银合正线"),
        ("您好,中国银河证券", "引好,中国银河证券"),
        ("您好,中国银河证券", "以好,中国银河证券"),
        ("感谢您的来电", "感谢您的来点"),
        ("感谢您的来电", "感谢您的来遍"),
        ("保本", "报本"),
    ],
)
def test_asr_variants_from_the_issue_match(phrase: str, heard: str) -> None:
    text = CallText(call(("agent", f"嗯,{heard},好的")))
    compiled = compile_phrase(phrase, {})
    exact = ExactIndex([compiled]).search(text).get(phrase, [])
    fuzzy = fuzzy_find(text.whole, compiled, MatchOptions(min_score=80))
    found = exact[0] if exact else fuzzy
    assert found is not None
    span = text.heard(found.segment, found.start, found.end)
    assert normalise(heard) in span and len(span) <= len(normalise(heard)) + 1  # a neighbour may sound alike


@pytest.mark.parametrize(
    ("phrase", "heard"),
    [
        ("股市有风险", "今天天气很好"),
        ("中国银河证券", "我想问一下转账"),
        ("保本", "报名"),
        ("感谢您的来电", "请您稍等"),
    ],
)
def test_unrelated_speech_does_not_match(phrase: str, heard: str) -> None:
    text = CallText(call(("agent", heard)))
    compiled = compile_phrase(phrase, {})
    assert ExactIndex([compiled]).search(text).get(phrase) is None
    assert fuzzy_find(text.whole, compiled, MatchOptions(min_score=80)) is None


def test_placeholder_matches_any_branch_name_but_not_too_long_a_gap() -> None:
    compiled = compile_phrase("您好,{org}营业部", {"org": _gap(1, 12)})
    options = MatchOptions()
    near = CallText(call(("agent", "您好,中国银河证券成都锦江营业部")))
    far = CallText(call(("agent", "您好,我想问一下明天上午九点半之前能不能去你们营业部")))
    assert fuzzy_find(near.whole, compiled, options) is not None
    assert fuzzy_find(far.whole, compiled, options) is None


def test_evidence_times_come_from_word_timings() -> None:
    transcript = call(
        ("agent", "您好,中国银河证券。"), ("client", "我想买基金。"), ("agent", "股市有风险,投资需谨慎。")
    )
    finding = next(f for f in score(transcript, book()).findings if f.rule_id == "risk.disclosure_after_product")
    words = transcript.segments[2].words
    assert finding.verdict == "pass"
    assert finding.start == round(words[0].start, 2)
    assert finding.end in (round(words[4].end, 2), round(words[9].end, 2))  # 股市有风险[,投资需谨慎]
    json.dumps(finding.to_dict(), ensure_ascii=False)


def _gap(low: int, high: int):  # type: ignore[no-untyped-def]
    from scoring.matching import Gap

    return Gap(low, high)


def test_pinyin_is_read_without_the_phrase_dictionary_and_the_environment_is_left_alone() -> None:
    _pypinyin()
    assert "pypinyin.phrases_dict" not in sys.modules  # ~190,000 lists a full garbage collection would walk
    assert "PYPINYIN_NO_PHRASES" not in os.environ
    # readings of one character are the dictionary's first, which phrases never changed (polyphones included)
    assert pinyin("行长了和重") == " xing zang le he zong "
