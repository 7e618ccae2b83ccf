"""Scorecard arithmetic, the JSON output contract, and the labelled sample scripts as ideal transcripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from scoring import Finding, score
from scoring.cases import Case, case_transcript
from scoring.evaluate import Labels, agrees, evaluate, read_labels
from scoring.findings import Category, Severity, Verdict
from scoring.hangup import Hangup
from scoring.phrasebook import Policy
from scoring.scorecard import build_scorecard
from tests.scoring.factory import ROOT, book, call

CONTRACT = {"file", "duration", "score", "passed", "needs_review", "hangup", "findings"}
FINDING_KEYS = {"rule_id", "category", "verdict", "severity", "start", "end", "evidence", "source"}
HANGUP = Hangup("client", 0.95, "audio")


def _finding(category: str, verdict: str, points: int, severity: str = "major") -> Finding:
    return Finding(
        rule_id=f"{category}.x",
        category=Category(category),
        verdict=Verdict(verdict),
        severity=Severity(severity),
        start=None,
        end=None,
        evidence="",
        source="",
        points=points,
    )


def _card(*findings: Finding, caps: dict | None = None):  # type: ignore[no-untyped-def]
    policy = Policy(pass_mark=90, caps=caps or {})
    return build_scorecard(file="f", duration=1.0, findings=findings, hangup=HANGUP, policy=policy)


def test_points_are_deducted_per_failed_rule_and_capped_per_category() -> None:
    card = _card(
        _finding("forbidden_phrase", "fail", 10),
        _finding("forbidden_phrase", "fail", 10),
        _finding("forbidden_phrase", "fail", 10),
        _finding("volume", "fail", 5),
        _finding("dead_air", "pass", 15),
        caps={"forbidden_phrase": 20},
    )
    assert card.score == 100 - 20 - 5
    assert not card.passed and card.needs_review


def test_a_fatal_failure_fails_the_call_whatever_the_score() -> None:
    card = _card(_finding("return_promise", "fail", 0, "fatal"))
    assert card.score == 100
    assert not card.passed and card.needs_review


def test_uncertain_sends_a_passing_call_to_review_without_costing_points() -> None:
    card = _card(_finding("hangup_order", "uncertain", 15), _finding("volume", "fail", 5))
    assert card.score == 95 and card.passed and card.needs_review


def test_a_clean_call_passes_without_review() -> None:
    card = _card(_finding("greeting_open", "pass", 15), _finding("risk_disclosure", "na", 40))
    assert (card.score, card.passed, card.needs_review) == (100, True, False)


def test_category_verdict_is_the_worst_of_its_rules() -> None:
    card = _card(
        _finding("civility", "pass", 5),
        _finding("civility", "uncertain", 5),
        _finding("dead_air", "na", 5),
        _finding("dead_air", "pass", 5),
        _finding("volume", "fail", 5),
        _finding("volume", "uncertain", 5),
    )
    assert card.categories() == {"civility": "uncertain", "dead_air": "pass", "volume": "fail"}


def test_to_dict_is_exactly_the_output_contract() -> None:
    transcript = call(("agent", "您好,中国银河证券北京营业部,请问有什么可以帮您?"), ("client", "再见。"))
    data = json.loads(json.dumps(score(transcript, book()).to_dict(), ensure_ascii=False))
    assert set(data) == CONTRACT
    assert set(data["hangup"]) == {"by", "confidence", "source"} and data["hangup"]["source"] == "audio"
    assert data["findings"] and all(set(f) == FINDING_KEYS for f in data["findings"])
    categories = {c.value for c in Category}
    assert {f["category"] for f in data["findings"]} <= categories
    assert {f["verdict"] for f in data["findings"]} <= {"pass", "fail", "na", "uncertain"}
    assert all(f["start"] is None or isinstance(f["start"], float) for f in data["findings"])


def test_cti_metadata_overrides_the_audio() -> None:
    transcript = call(("agent", "感谢您的来电,再见!"), ("client", "再见。"), ending="client")
    card = score(transcript, book(), hangup_by="agent")
    assert card.to_dict()["hangup"] == {"by": "agent", "confidence": 1.0, "source": "cti"}
    assert card.categories()[Category.HANGUP_ORDER] == Verdict.FAIL


def test_mono_calls_do_not_fail_role_dependent_rules_they_are_uncertain() -> None:
    card = score(call(("agent", "你等着,我看看。"), mono=True), book())
    civility = next(f for f in card.findings if f.rule_id == "civility.nin_and_qing")
    assert civility.verdict == Verdict.UNCERTAIN and "mono" in civility.evidence


def test_evaluate_counts_precision_recall_and_treats_pass_and_na_alike(tmp_path: Path) -> None:
    good = score(
        call(
            ("agent", "您好,中国银河证券北京营业部,请问有什么可以帮您?"),
            ("client", "好的,没事了。"),
            ("agent", "感谢您的来电,再见!"),
            ("client", "再见。"),
        ),
        book(),
    )
    bad = score(call(("agent", "你好,什么事?"), ("client", "再见。")), book())
    labels = Labels(True, "client", {Category.GREETING_OPEN: Verdict.PASS, Category.RISK_DISCLOSURE: Verdict.PASS})
    wrong = Labels(False, "agent", {Category.GREETING_OPEN: Verdict.PASS})
    result = evaluate([("good", good, labels), ("bad", bad, wrong)])
    assert result.calls == 2
    assert result.precision_recall(Category.GREETING_OPEN) == (0.0, None)  # one false alarm, nothing to find
    assert [(m.file, m.what) for m in result.mismatches] == [("bad", "greeting_open"), ("bad", "hangup")]
    assert result.hangup_agree == 1 and result.passed_agree == 2
    assert agrees(Verdict.NA, Verdict.PASS) and not agrees(Verdict.FAIL, Verdict.UNCERTAIN)
    path = tmp_path / "x.labels.json"
    path.write_text(json.dumps({"passed": True, "hangup_by": "client", "categories": {"dead_air": "fail"}}))
    assert read_labels(path).categories == {Category.DEAD_AIR: Verdict.FAIL}
    path.write_text(json.dumps({"categories": {"dead_air": "awful"}}))
    with pytest.raises(ValueError, match="not a labels file"):
        read_labels(path)


SCRIPTS = sorted((ROOT / "samples").glob("*.script.yaml"))


@pytest.mark.skipif(not SCRIPTS, reason="no sample scripts in samples/")
@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name.removesuffix(".script.yaml") for p in SCRIPTS])
def test_sample_scripts_score_as_labelled_when_heard_perfectly(script: Path) -> None:
    """The samples' dialogues, rendered as error-free transcripts: verdicts match the labels exactly."""
    data = yaml.safe_load(script.read_text(encoding="utf-8"))
    case = Case(
        rule="sample.call", name="script", expect="pass", turns=data["turns"], ending=data["ending"]["hangup_by"]
    )
    card = score(case_transcript(case), book())
    labels = data["labels"]
    got = card.categories()
    assert {c: v for c, v in labels["categories"].items() if not agrees(Verdict(v), got.get(Category(c), "na"))} == {}
    assert card.passed == labels["passed"]
    assert card.hangup.by == data["ending"]["hangup_by"]
