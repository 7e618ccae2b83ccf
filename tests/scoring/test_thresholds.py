"""Thresholds are data: changing one in a copy of the phrasebooks changes a verdict; a bad one is refused at load
with file and field; the shipped scorecard states every call-wide threshold instead of leaning on code defaults."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring import PhrasebookError, Verdict, load_phrasebooks, score
from scoring.cases import Case, ChannelFacts, Turn, case_transcript
from scoring.phrasebook import read_yaml
from tests.scoring.factory import PHRASEBOOKS, call


def _copy_with(tmp_path: Path, file: str, change: dict[str, Any], rule_id: str | None = None) -> Path:
    directory = tmp_path / "phrasebooks"
    shutil.copytree(PHRASEBOOKS, directory)
    data = read_yaml(directory / file)
    target = next(r for r in data["rules"] if r["id"] == rule_id) if rule_id else data
    for key, value in change.items():
        if isinstance(value, dict):
            target.setdefault(key, {}).update(value)
        else:
            target[key] = value
    (directory / file).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return directory


def _verdict(directory: Path, transcript: Any, rule_id: str) -> Verdict:
    return next(f.verdict for f in score(transcript, load_phrasebooks(directory)).findings if f.rule_id == rule_id)


def test_longer_line_dead_threshold_makes_a_toneless_client_hangup_uncertain(tmp_path: Path) -> None:
    # The client hangs up, no busy tone is heard: their channel is silent for 3.3 s while the recording goes on.
    turns = [Turn(role="agent", text="还有什么可以帮您?"), Turn(role="client", text="没有了,谢谢")]
    no_tone = Case(rule="x.y", name="t", expect="pass", turns=turns, channels={"client": ChannelFacts(tone_spans=[])})
    transcript = case_transcript(no_tone)
    assert _verdict(PHRASEBOOKS, transcript, "hangup.client_first") == Verdict.PASS
    longer = _copy_with(tmp_path, "scorecard.yaml", {"hangup": {"line_dead_s": 5.0}})
    assert _verdict(longer, transcript, "hangup.client_first") == Verdict.UNCERTAIN


def test_shorter_hold_lookback_makes_an_announced_hold_dead_air(tmp_path: Path) -> None:
    # "请稍等" 12.5 s before a 20 s silence: within the 15 s lookback, not within 5 s.
    transcript = call(
        ("client", "我想查一下我的账户余额"),
        Turn(role="agent", text="好的请稍等", seconds=2.0),
        Turn(role="agent", text="我这边正在为您打开账户的页面", seconds=10.0),
        Turn(role="agent", text="让您久等了,您的余额是五万元", gap=20.0),
        ("client", "好的谢谢"),
    )
    assert _verdict(PHRASEBOOKS, transcript, "conduct.dead_air") == Verdict.PASS
    shorter = _copy_with(tmp_path, "conduct.yaml", {"lookback_s": 5}, rule_id="conduct.dead_air")
    assert _verdict(shorter, transcript, "conduct.dead_air") == Verdict.FAIL


@pytest.mark.parametrize(
    ("file", "change", "rule_id", "expected"),
    [
        ("scorecard.yaml", {"hangup": {"line_dead_s": -1}}, None, "field hangup.line_dead_s: Input should be greater"),
        (
            "scorecard.yaml",
            {"hangup": {"line_dead": 1}},
            None,
            "field hangup.line_dead: Extra inputs are not permitted",
        ),
        ("scorecard.yaml", {"timing": {"tone_margin_s": 9}}, None, "field timing.tone_margin_s: Input should be less"),
        (
            "conduct.yaml",
            {"lookback_s": 0},
            "conduct.dead_air",
            "rule conduct.dead_air: field lookback_s: Input should",
        ),
        (
            "conduct.yaml",
            {"lookback_s": "long"},
            "conduct.response_latency",
            "rule conduct.response_latency: field lookback_s: Input should be a valid number",
        ),
    ],
)
def test_bad_threshold_is_refused_naming_file_and_field(
    tmp_path: Path, file: str, change: dict[str, Any], rule_id: str | None, expected: str
) -> None:
    directory = _copy_with(tmp_path, file, change, rule_id)
    with pytest.raises(PhrasebookError) as caught:
        load_phrasebooks(directory)
    assert str(caught.value).startswith(f"{file}: {expected}")


def test_shipped_scorecard_states_every_call_wide_threshold() -> None:
    policy = load_phrasebooks(PHRASEBOOKS).policy
    for section in ("hangup", "timing"):
        stated = getattr(policy, section)
        assert section in policy.model_fields_set
        assert stated.model_fields_set == set(type(stated).model_fields), section
