"""A long call must not need memory in proportion to float copies of itself (issue: 6+ GB for 3 hours)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.memory import make_call, measure

# Decode, VAD, busy tones and loudness of a 1-hour stereo call, in a fresh process. Measured: 553 MB (the
# int16 PCM is 230 MB of it, the interpreter with PyAV and Silero ~300 MB); the old code (float32 chunks joined,
# VAD and one FFT over whole channels) exceeded 2 GB.
_BOUND_MB = 800


@pytest.mark.slow  # no model, but 20-30 s of VAD
def test_one_hour_call_decodes_and_measures_in_bounded_memory(tmp_path: Path) -> None:
    peak_mb, _, summary = measure(make_call(tmp_path, 3600), stages=True)
    assert summary["duration"] == pytest.approx(3600, abs=1)
    assert summary["longest_speech_s"] < 28  # window edges only ever shorten a piece
    assert peak_mb < _BOUND_MB
