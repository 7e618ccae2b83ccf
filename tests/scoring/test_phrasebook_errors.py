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
