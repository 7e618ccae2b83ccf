"""A rule whose window no turn of its role falls in still gives a verdict: checks never raise."""

from __future__ import annotations

from scoring import Verdict, score
from scoring.cases import Turn
from tests.scoring.factory import book, call


def test_agent_silent_through_the_opening_window_fails_the_greeting_instead_of_raising() -> None:
    # The client talks for the whole first 20 s (the opening window is 15 s): the agent's scope there is empty.
    transcript = call(
        Turn(role="client", text="喂喂你好我想问一下我的账户", seconds=20.0),
        ("agent", "您好,中国银河证券北京营业部,请问有什么可以帮您?"),
    )
    findings = {f.rule_id: f for f in score(transcript, book()).findings}
    assert findings["greeting.opening"].verdict == Verdict.FAIL
    assert findings["greeting.opening"].start is None
