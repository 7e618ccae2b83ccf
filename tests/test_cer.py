from __future__ import annotations

import pytest

from transcribe.cer import character_error_rate, normalise


def test_normalise_folds_script_width_and_punctuation() -> None:
    assert normalise("您好,中國銀河證券!  ＡＢＣ") == "您好中国银河证券abc"


@pytest.mark.parametrize(
    ("ref", "hyp", "expected"),
    [("股市有风险", "股市有风险。", 0.0), ("股市有风险", "故事有风险", 0.4), ("您好", "", 1.0), ("", "", 0.0)],
)
def test_character_error_rate(ref: str, hyp: str, expected: float) -> None:
    assert character_error_rate(ref, hyp) == pytest.approx(expected)
