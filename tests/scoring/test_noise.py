"""The ASR-noise augmenter: measured kinds of error, applied at the measured rates, the same for the same seed."""

from __future__ import annotations

import random

from scoring import load_noise, measure_noise
from scoring.noise import classify, syllable

TEXT = "您好,中国银河证券北京中关村营业部,请问有什么可以帮您?股市有风险,投资需谨慎,感谢您的来电,再见。" * 40


def test_error_kinds_are_told_apart() -> None:
    assert classify("股市", "故事") == "homophone"
    assert classify("你", "您") == "near_pinyin"
    assert classify("年", "连") == "near_pinyin"  # n/l
    assert classify("好", "的") == "other"
    assert classify("好", "好啊") == "split"


def test_measure_counts_per_true_character() -> None:
    found = measure_noise([("股市有风险", "故事风险"), ("谢谢", "谢谢您")], "test")
    assert found.chars == 7 and found.turns == 2
    assert found.counts["homophone"] == 2 and found.counts["dropped"] == 1 and found.counts["inserted"] == 1


def test_noise_is_seeded_and_at_the_measured_rate() -> None:
    model = load_noise()
    one, two = (model.apply(TEXT, random.Random(7)) for _ in range(2))
    assert one == two != TEXT
    assert model.apply(TEXT, random.Random(8)) != one
    expected = sum(model.rates.values())
    changed = sum(a != b for a, b in zip(TEXT, model.apply(TEXT, random.Random(9)), strict=False))
    assert changed > 0 and 0.08 < expected < 0.25  # the table's own rate: ~14 % of characters on the samples


def test_homophones_keep_the_sound() -> None:
    model = load_noise()
    rng = random.Random(1)
    for char in "证券风险收益":
        swapped = model._error(char, "homophone", rng)
        assert syllable(swapped) == syllable(char)
