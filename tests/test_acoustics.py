"""Word-independent channel facts: busy tone, where a party's sound ends, loudness."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_factory import busy_tone, noise, tone
from transcribe import acoustics
from transcribe.audio import SAMPLE_RATE


def _at16k(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32)


def test_busy_tone_span_is_found_after_speech() -> None:
    speech = tone(2.0, 220, -18, rate=SAMPLE_RATE) + tone(2.0, 1200, -24, rate=SAMPLE_RATE)
    pcm = _at16k(speech, noise(0.8, rate=SAMPLE_RATE), busy_tone(3, rate=SAMPLE_RATE), noise(0.5, rate=SAMPLE_RATE))
    spans = acoustics.tone_spans(pcm)
    assert len(spans) == 1
    start, end = spans[0]
    assert start == pytest.approx(2.8, abs=0.06)
    assert end == pytest.approx(2.8 + 0.7 * 2 + 0.35, abs=0.06)
    assert acoustics.audio_end(pcm, spans) == pytest.approx(2.0, abs=0.06)


def test_a_steady_tone_or_a_single_burst_is_not_a_busy_tone() -> None:
    assert acoustics.tone_spans(_at16k(tone(3.0, 450, -12, rate=SAMPLE_RATE))) == ()
    one_burst = _at16k(noise(1, rate=SAMPLE_RATE), tone(0.35, 450, -12, rate=SAMPLE_RATE), noise(1, rate=SAMPLE_RATE))
    assert acoustics.tone_spans(one_burst) == ()


def test_speech_band_sound_with_cadence_at_other_pitch_is_not_a_tone() -> None:
    on, off = tone(0.35, 1000, -12, rate=SAMPLE_RATE), np.zeros(int(0.35 * SAMPLE_RATE))
    assert acoustics.tone_spans(_at16k(on, off, on, off, on)) == ()


def test_audio_end_ignores_line_noise() -> None:
    pcm = _at16k(tone(1.5, 300, -20, rate=SAMPLE_RATE), noise(3.0, -60, rate=SAMPLE_RATE))
    assert acoustics.audio_end(pcm, ()) == pytest.approx(1.5, abs=0.06)
    assert acoustics.audio_end(_at16k(noise(2.0, -62, rate=SAMPLE_RATE)), ()) == 0.0


def test_loudness_is_measured_over_speech_only() -> None:
    pcm = _at16k(noise(2.0, -60, rate=SAMPLE_RATE), tone(1.0, 300, -20, rate=SAMPLE_RATE))
    rms, peak = acoustics.loudness(pcm, ((2.0, 3.0),))
    assert rms == pytest.approx(-20, abs=0.5)
    assert peak == pytest.approx(-17, abs=0.5)  # a sine's peak is 3 dB over its RMS
