"""Phrasebook load errors name the field that is wrong, in one line: file, rule (or line) and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring import PhrasebookError, load_phrasebooks

BASE = {
    "category": "forbidden_phrase",
    "severity": "minor",
    "points": 5,
    "message": "test",
    "source": "003_eda5909ba40dd7a1.txt 第五十四条",
}
RULES = {
    "phrase_present": {"kind": "phrase_present", "phrases": ["您好"]},
    "phrase_absent": {"kind": "phrase_absent", "phrases": ["不知道"]},
    "regex_absent": {"kind": "regex_absent", "patterns": ["保本"]},
    "phrase_after_anchor": {"kind": "phrase_after_anchor", "anchor": {"phrases": ["基金"]}, "phrases": ["有风险"]},
    "dead_air": {"kind": "dead_air", "max_s": 10},
    "response_latency": {"kind": "response_latency", "max_s": 5},
    "hold_explained": {"kind": "hold_explained", "min_gap_s": 8, "phrases": ["请稍等"]},
}


def _write_rule(directory: Path, rule: dict, name: str = "extra") -> Path:
    path = directory / f"{name}.yaml"
    book = {"name": name, "description": "d", "rules": [{"id": "test.rule", **BASE, **rule}]}
    path.write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    return path


def _load_error(directory: Path) -> str:
    with pytest.raises(PhrasebookError) as caught:
        load_phrasebooks(directory)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("kind", "field", "change"),
    [
        ("phrase_present", "phrases", {"phrases": ["BAD"]}),
        ("phrase_present", "exceptions", {"exceptions": ["BAD"]}),
        ("phrase_absent", "exceptions", {"exceptions": ["BAD"]}),
        ("phrase_absent", "unless", {"unless": ["BAD"]}),
        ("regex_absent", "exceptions", {"exceptions": ["BAD"]}),
        ("phrase_after_anchor", "phrases", {"phrases": ["BAD"]}),
        ("phrase_after_anchor", "anchor.phrases", {"anchor": {"phrases": ["BAD"]}}),
        ("dead_air", "hold_phrases", {"hold_phrases": ["BAD"]}),
        ("response_latency", "hold_phrases", {"hold_phrases": ["BAD"]}),
        ("hold_explained", "phrases", {"phrases": ["BAD"]}),
    ],
)
@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("!!", "phrase has no letters or digits: '!!'"),
        ("您好{branch}", "unknown placeholder {branch} in '您好{branch}'"),
    ],
    ids=["no-letters", "unknown-placeholder"],
)
def test_bad_phrase_error_names_the_field_it_is_in(
    tmp_path: Path, kind: str, field: str, change: dict, bad: str, problem: str
) -> None:
    rule = {**RULES[kind], **_replace(change, "BAD", bad)}
    _write_rule(tmp_path, rule)
    assert _load_error(tmp_path).startswith(f"extra.yaml: rule test.rule: field {field}: {problem}")


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    return new if value == old else value


def test_duplicate_key_in_a_rule_is_refused_naming_file_line_and_key(tmp_path: Path) -> None:
    text = _write_rule(tmp_path, RULES["phrase_absent"]).read_text(encoding="utf-8")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines, 1) if line.strip() == "phrases:")
    (tmp_path / "extra.yaml").write_text(text + "  phrases: [废话]\n", encoding="utf-8")
    message = _load_error(tmp_path)
    assert message == (
        f"extra.yaml: line {len(lines) + 1}: not valid YAML: duplicate key 'phrases' (first on line {first})"
    )


def test_duplicate_top_level_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "scorecard.yaml").write_text("pass_mark: 90\ncaps: {}\npass_mark: 80\n", encoding="utf-8")
    _write_rule(tmp_path, RULES["phrase_present"])
    assert (
        _load_error(tmp_path) == "scorecard.yaml: line 3: not valid YAML: duplicate key 'pass_mark' (first on line 1)"
    )


def test_duplicate_key_in_a_cases_file_is_refused(tmp_path: Path) -> None:
    from scoring.cases import load_cases

    (tmp_path / "extra.cases.yaml").write_text(
        "cases:\n  - rule: test.rule\n    name: a\n    name: b\n    expect: pass\n    turns: []\n", encoding="utf-8"
    )
    with pytest.raises(
        PhrasebookError, match=r"^extra.cases.yaml: line 4: .*duplicate key 'name' \(first on line 3\)$"
    ):
        load_cases(tmp_path)


def test_merge_keys_may_still_override_what_they_merge(tmp_path: Path) -> None:
    from scoring.phrasebook import read_yaml

    merged = tmp_path / "merged.yaml"
    merged.write_text("base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\n", encoding="utf-8")
    assert read_yaml(merged)["derived"] == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"kind": "volume", "category": "volume", "min_dbfs": -6, "max_dbfs": -38},
            "field max_dbfs: Value error, -38 is below min_dbfs -6",
        ),
        (
            {"kind": "speech_rate", "category": "speech_rate", "min_cpm": 330, "max_cpm": 100},
            "field max_cpm: Value error, 100 is below min_cpm 330",
        ),
        (
            {"kind": "dead_air", "category": "dead_air", "max_s": 30, "hold_max_s": 20},
            "field hold_max_s: Value error, 20 is below max_s 30 (after a hold phrase",
        ),
    ],
    ids=["volume", "speech-rate", "dead-air-hold"],
)
def test_upper_limit_below_lower_limit_is_refused(tmp_path: Path, rule: dict, expected: str) -> None:
    _write_rule(tmp_path, rule)
    assert _load_error(tmp_path).startswith(f"extra.yaml: rule test.rule: {expected}")


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "volume", "category": "volume", "min_dbfs": -20, "max_dbfs": -20},
        {"kind": "speech_rate", "category": "speech_rate", "min_cpm": 200, "max_cpm": 200},
        {"kind": "dead_air", "category": "dead_air", "max_s": 30, "hold_max_s": 30},
    ],
    ids=["volume", "speech-rate", "dead-air-hold"],
)
def test_equal_limits_are_allowed(tmp_path: Path, rule: dict) -> None:
    _write_rule(tmp_path, rule)
    assert load_phrasebooks(tmp_path).rule("test.rule").kind == rule["kind"]


def test_placeholder_with_max_chars_below_min_chars_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    book = {
        "name": "extra",
        "description": "d",
        "placeholders": {"org": {"min_chars": 5, "max_chars": 2}},
        "rules": [{"id": "test.rule", **BASE, "kind": "phrase_present", "phrases": ["您好{org}营业部"]}],
    }
    path.write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    assert _load_error(tmp_path) == "extra.yaml: field placeholders.org.max_chars: Value error, 2 is below min_chars 5"


def test_a_concept_clause_naming_an_undefined_concept_is_refused(tmp_path: Path) -> None:
    (tmp_path / "promises.yaml").write_text(
        """\
name: promises
description: x
rules:
  - id: return.x
    category: return_promise
    kind: concept
    severity: fatal
    points: 40
    message: m
    source: 000_95345663b34ec664.txt 沟通内容管理
    spec:
      concepts:
        certainty: {phrases: [保证]}
      any_of:
        - {all_of: [certainty, money]}
""",
        encoding="utf-8",
    )
    with pytest.raises(PhrasebookError) as caught:
        load_phrasebooks(tmp_path)
    message = str(caught.value)
    assert message.startswith("promises.yaml: rule return.x: field spec:") and "unknown concept 'money'" in message
