"""Placeholder phrases ("您好,{org}营业部") match whatever the rule's `match` settings: a rule with `fuzzy: false`
still finds them, exactly or as homophones, and only a fuzzy rule accepts near-homophones of their parts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scoring import Verdict, load_phrasebooks, score
from tests.scoring.factory import call


def _book(tmp_path: Path, match: dict[str, bool]):  # type: ignore[no-untyped-def]
    rule = {
        "id": "greeting.branch",
        "category": "greeting_open",
        "kind": "phrase_present",
        "severity": "minor",
        "points": 5,
        "message": "name the branch",
        "source": "003_eda5909ba40dd7a1.txt 第五十四条",
        "phrases": ["您好,{org}营业部"],
        "match": match,
    }
    book = {
        "name": "extra",
        "description": "d",
        "placeholders": {"org": {"min_chars": 1, "max_chars": 12}},
        "rules": [rule],
    }
    (tmp_path / "extra.yaml").write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    return load_phrasebooks(tmp_path)


def _verdict(tmp_path: Path, match: dict[str, bool], said: str) -> Verdict:
    card = score(call(("agent", said), ("client", "好的。")), _book(tmp_path, match))
    return next(f.verdict for f in card.findings if f.rule_id == "greeting.branch")


EXACT = "您好,中国银河证券北京营业部。"
HOMOPHONE = "您好,中国银河证券北京赢业部。"  # 赢 = 营 in pinyin
NEAR = "引好,中国银河证券北京营业部。"  # 引 ≈ 您: a near-homophone only fuzzy matching accepts
NONE = "您好,请问有什么可以帮您?"


@pytest.mark.parametrize(
    ("match", "said", "expected"),
    [
        ({"fuzzy": False}, EXACT, Verdict.PASS),
        ({"fuzzy": False}, HOMOPHONE, Verdict.PASS),
        ({"fuzzy": False}, NEAR, Verdict.FAIL),
        ({"fuzzy": False}, NONE, Verdict.FAIL),
        ({"fuzzy": False, "pinyin": False}, EXACT, Verdict.PASS),
        ({"fuzzy": False, "pinyin": False}, HOMOPHONE, Verdict.FAIL),
        ({"fuzzy": True}, EXACT, Verdict.PASS),
        ({"fuzzy": True}, HOMOPHONE, Verdict.PASS),
        ({"fuzzy": True}, NEAR, Verdict.PASS),
        ({"fuzzy": True}, NONE, Verdict.FAIL),
    ],
    ids=[
        "strict-exact",
        "strict-homophone",
        "strict-near",
        "strict-none",
        "text-only-exact",
        "text-only-homophone",
        "fuzzy-exact",
        "fuzzy-homophone",
        "fuzzy-near",
        "fuzzy-none",
    ],
)
def test_placeholder_phrase_matches_with_and_without_fuzzy(
    tmp_path: Path, match: dict[str, bool], said: str, expected: Verdict
) -> None:
    assert _verdict(tmp_path, match, said) == expected


def test_homophone_in_a_placeholder_phrase_is_reported_as_same_pinyin(tmp_path: Path) -> None:
    card = score(call(("agent", HOMOPHONE)), _book(tmp_path, {"fuzzy": False}))
    finding = next(f for f in card.findings if f.rule_id == "greeting.branch")
    assert "(same pinyin)" in finding.evidence
