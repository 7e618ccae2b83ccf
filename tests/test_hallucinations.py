from __future__ import annotations

import pytest

from transcribe.hallucinations import HallucinationGuard, count, repeated_runs

guard = HallucinationGuard()


@pytest.mark.parametrize(
    "text",
    ["字幕by索兰娅", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", "中文字幕由YoYo提供", "谢谢观看!"],
)
def test_known_silence_hallucinations_are_dropped(text: str) -> None:
    assert guard.reason_to_drop(text, no_speech_prob=0.0) == "known_hallucination"


@pytest.mark.parametrize("text", ["好的好的好的好的好的好的", "我我我我我我我我我我", "嗯,嗯,嗯,嗯,嗯,嗯,嗯,嗯"])
def test_repetition_loops_are_dropped(text: str) -> None:
    assert guard.reason_to_drop(text, no_speech_prob=0.0) == "repetition"


@pytest.mark.parametrize(
    "text",
    [
        "您好,中国银河证券北京中关村营业部,请问有什么可以帮您?",
        "好的好的,谢谢",
        "对对对",
        "股市有风险,投资需谨慎。感谢您的来电,再见!",
        "这个基金我订阅了它的公告",
    ],
)
def test_ordinary_call_speech_is_kept(text: str) -> None:
    assert guard.reason_to_drop(text, no_speech_prob=0.1) is None


def test_high_no_speech_probability_is_dropped_and_counted() -> None:
    reasons = [
        guard.reason_to_drop("嗯", 0.9, avg_logprob=-0.8),
        guard.reason_to_drop("字幕by", 0.0),
        guard.reason_to_drop("好", 0.2),
    ]
    assert count([r for r in reasons if r]) == {"no_speech": 1, "known_hallucination": 1}


def test_confident_speech_in_a_window_whisper_thinks_silent_is_kept() -> None:
    # measured on a sample call: a 30 s window with a long pause got no_speech_prob 0.74 for clear speech
    assert guard.reason_to_drop("我昨天从银行转了五万块钱到证券账户", 0.74, avg_logprob=-0.16) is None
    assert guard.reason_to_drop("我昨天从银行转了五万块钱到证券账户", 0.6, avg_logprob=-1.3) == "no_speech"


def test_an_echo_of_the_initial_prompt_and_punctuation_alone_are_dropped() -> None:
    prompted = HallucinationGuard(prompt="以下是普通话的句子。")
    assert prompted.reason_to_drop("以下是普通话的句子", 0.1, avg_logprob=-0.3) == "known_hallucination"
    assert prompted.reason_to_drop("以下是普通话的句子:您好", 0.1, avg_logprob=-0.3) is None
    assert prompted.reason_to_drop("。。。。。。。", 0.1, avg_logprob=-0.3) == "no_words"


def test_the_same_text_three_times_in_a_row_across_segments_is_a_loop() -> None:
    texts = ["您好", "再来一会儿", "再来一会儿。", "再来一会儿", "请问有什么可以帮您"]
    assert repeated_runs(texts) == {1, 2, 3}
    assert repeated_runs(["好的", "好的", "好的"]) == set()  # short replies do repeat in real calls
    assert repeated_runs(["再来一会儿", "再来一会儿", "您好"]) == set()
