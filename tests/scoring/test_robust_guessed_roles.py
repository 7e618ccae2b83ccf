"""On a mono recording the roles are guessed: a verdict that depends on who spoke (who answered whom, who
explained a wait, whose channel is loud) is `uncertain` rather than `fail`; silence that nobody breaks stays `fail`."""

from __future__ import annotations

import pytest

from scoring import Verdict, score
from scoring.cases import Case, ChannelFacts, Turn, case_transcript
from tests.scoring.factory import book, call

OPEN = Turn(role="agent", text="您好,中国银河证券,请问有什么可以帮您?")
CLOSE = Turn(role="agent", text="感谢您的来电,再见!")


def _verdict(rule_id: str, *turns: Turn, mono: bool) -> tuple[Verdict, str]:
    card = score(call(*turns, mono=mono), book())
    finding = next(f for f in card.findings if f.rule_id == rule_id)
    return finding.verdict, finding.evidence


SLOW_ANSWER = (
    OPEN,
    Turn(role="client", text="我想查一下我的账户余额。"),
    Turn(role="agent", gap=12.0, text="好的,您的余额是五千元。"),
    CLOSE,
)


def test_slow_answer_fails_on_stereo_and_is_uncertain_on_mono() -> None:
    assert _verdict("conduct.response_latency", *SLOW_ANSWER, mono=False)[0] == Verdict.FAIL
    verdict, evidence = _verdict("conduct.response_latency", *SLOW_ANSWER, mono=True)
    assert verdict == Verdict.UNCERTAIN
    assert "agent answered after 12.0 s" in evidence and "roles are guessed" in evidence


def test_silence_nobody_breaks_fails_even_on_mono() -> None:
    for mono in (False, True):
        verdict, evidence = _verdict("conduct.dead_air", *SLOW_ANSWER, mono=mono)
        assert verdict == Verdict.FAIL, (mono, evidence)
        assert "12.0 s of silence" in evidence


HOLD_HEARD_AS_CLIENT = (
    OPEN,
    Turn(role="client", text="我想查一下我的账户余额。"),
    Turn(role="client", text="好的请您稍等。"),  # the agent's words, but given to the client
    Turn(role="agent", gap=20.0, text="您的余额是五千元。"),
    CLOSE,
)


def test_silence_after_a_hold_phrase_of_the_guessed_client_is_uncertain_on_mono() -> None:
    assert _verdict("conduct.dead_air", *HOLD_HEARD_AS_CLIENT, mono=False)[0] == Verdict.FAIL
    verdict, evidence = _verdict("conduct.dead_air", *HOLD_HEARD_AS_CLIENT, mono=True)
    assert verdict == Verdict.UNCERTAIN
    assert "roles are guessed" in evidence


def test_a_second_silence_no_one_excused_still_fails_on_mono() -> None:
    turns = (*HOLD_HEARD_AS_CLIENT[:-1], Turn(role="agent", gap=15.0, text="还有别的问题吗?"), CLOSE)
    verdict, evidence = _verdict("conduct.dead_air", *turns, mono=True)
    assert verdict == Verdict.FAIL
    assert "15.0 s of silence" in evidence


UNEXPLAINED_WAIT = (
    OPEN,
    Turn(role="client", text="我的基金赎回到账了吗?"),
    Turn(role="agent", text="好的。"),
    Turn(role="agent", gap=8.0, text="已经到账了。"),
    CLOSE,
)


def test_unexplained_wait_fails_on_stereo_and_is_uncertain_on_mono() -> None:
    assert _verdict("conduct.hold_explained", *UNEXPLAINED_WAIT, mono=False)[0] == Verdict.FAIL
    assert _verdict("conduct.hold_explained", *UNEXPLAINED_WAIT, mono=True)[0] == Verdict.UNCERTAIN


THREE_QUESTIONS = (
    OPEN,
    Turn(role="client", text="请问我的钱到账了吗?"),
    Turn(role="client", text="喂,在吗?"),
    Turn(role="client", text="有人吗?"),
    CLOSE,
)


def test_unanswered_questions_fail_on_stereo_and_are_uncertain_on_mono() -> None:
    assert _verdict("conduct.unanswered_question", *THREE_QUESTIONS, mono=False)[0] == Verdict.FAIL
    assert _verdict("conduct.unanswered_question", *THREE_QUESTIONS, mono=True)[0] == Verdict.UNCERTAIN


@pytest.mark.parametrize(("mono", "expected"), [(False, Verdict.FAIL), (True, Verdict.UNCERTAIN)])
def test_loud_agent_channel_is_uncertain_when_the_channel_carries_both_parties(mono: bool, expected: Verdict) -> None:
    case = Case(
        rule="conduct.volume",
        name="loud",
        expect=expected,
        turns=[OPEN, Turn(role="client", text="我想查余额。"), CLOSE],
        mono=mono,
        channels={"agent": ChannelFacts(rms_dbfs=-3.0)},
    )
    card = score(case_transcript(case), book())
    assert next(f.verdict for f in card.findings if f.rule_id == "conduct.volume") == expected


def test_mono_call_with_no_problems_still_passes() -> None:
    turns = (OPEN, Turn(role="client", text="我想查一下余额。"), Turn(role="agent", text="好的,五千元。"), CLOSE)
    card = score(call(*turns, mono=True), book())
    verdicts = {f.rule_id: f.verdict for f in card.findings}
    assert verdicts["conduct.response_latency"] == Verdict.PASS
    assert verdicts["conduct.dead_air"] == Verdict.PASS
