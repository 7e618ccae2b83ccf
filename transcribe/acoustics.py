"""Word-independent facts about one channel: speech spans (Silero VAD), loudness, call-progress tones, end."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from transcribe.audio import SAMPLE_RATE

Span = tuple[float, float]

_FRAME_S = 0.05
_TONE_HZ = (420.0, 480.0)  # China's busy/disconnect tone is 450 Hz; allow for codec drift
_TONE_BAND_SHARE = 0.6  # share of a frame's energy inside the band for it to count as tone
_TONE_MIN_DBFS = -40.0
_BURST_S = (0.2, 0.6)  # 0.35 s on / 0.35 s off cadence, with slack for framing
_SILENCE_DBFS = -50.0
_TONE_RING_S = 0.15  # lossy codecs smear a tone's edges (measured: -47 dBFS 0.1 s after a busy tone in MP3)


def speech_chunks(audio: np.ndarray, vad: VadOptions) -> list[dict[str, int]]:
    """Silero speech chunks in samples, as faster-whisper's own VAD code consumes them."""
    return get_speech_timestamps(audio, vad, sampling_rate=SAMPLE_RATE)


def chunks_to_spans(chunks: list[dict[str, int]]) -> tuple[Span, ...]:
    return tuple((round(c["start"] / SAMPLE_RATE, 3), round(c["end"] / SAMPLE_RATE, 3)) for c in chunks)


def frame_dbfs(audio: np.ndarray) -> np.ndarray:
    frame = int(_FRAME_S * SAMPLE_RATE)
    usable = len(audio) // frame * frame
    frames = audio[:usable].reshape(-1, frame)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def tone_spans(audio: np.ndarray) -> tuple[Span, ...]:
    """Spans of cadenced single-tone bursts (busy tone): at least two bursts with burst-length gaps."""
    flags = _tone_frames(audio)
    bursts = [b for b in _runs(flags) if _BURST_S[0] <= b[1] - b[0] <= _BURST_S[1]]
    spans: list[Span] = []
    group: list[Span] = []
    for burst in bursts:
        if group and not _BURST_S[0] <= burst[0] - group[-1][1] <= _BURST_S[1]:
            spans.extend(_close_group(group))
            group = []
        group.append(burst)
    spans.extend(_close_group(group))
    return tuple(spans)


def audio_end(audio: np.ndarray, tones: tuple[Span, ...]) -> float:
    """End of the last non-silent, non-tone frame: where the party's own sound stops."""
    levels = frame_dbfs(audio)
    loud = levels > _SILENCE_DBFS
    for start, end in tones:
        first, last = start - _TONE_RING_S, end + _TONE_RING_S
        loud[max(0, int(first / _FRAME_S)) : int(np.ceil(last / _FRAME_S))] = False
    indices = np.flatnonzero(loud)
    return round(float((indices[-1] + 1) * _FRAME_S), 3) if indices.size else 0.0


def loudness(audio: np.ndarray, spans: tuple[Span, ...]) -> tuple[float, float]:
    """(RMS dBFS over speech spans, peak dBFS over the channel)."""
    parts = [audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for s, e in spans]
    speech = np.concatenate(parts) if parts else audio
    rms = float(np.sqrt(np.mean(np.square(speech, dtype=np.float64)))) if speech.size else 0.0
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return round(_db(rms), 1), round(_db(peak), 1)


def _tone_frames(audio: np.ndarray) -> np.ndarray:
    frame = int(_FRAME_S * SAMPLE_RATE)
    usable = len(audio) // frame * frame
    if usable == 0:
        return np.zeros(0, dtype=bool)
    frames = audio[:usable].reshape(-1, frame) * np.hanning(frame)
    power = np.square(np.abs(np.fft.rfft(frames, axis=1)))
    freqs = np.fft.rfftfreq(frame, 1 / SAMPLE_RATE)
    band = (freqs >= _TONE_HZ[0]) & (freqs <= _TONE_HZ[1])
    share = power[:, band].sum(axis=1) / np.maximum(power.sum(axis=1), 1e-20)
    return (share >= _TONE_BAND_SHARE) & (frame_dbfs(audio) >= _TONE_MIN_DBFS)


def _runs(flags: np.ndarray) -> list[Span]:
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(round(float(s) * _FRAME_S, 3), round(float(e) * _FRAME_S, 3)) for s, e in zip(starts, ends, strict=True)]


def _close_group(group: list[Span]) -> list[Span]:
    return [(group[0][0], group[-1][1])] if len(group) >= 2 else []


def _db(value: float) -> float:
    return 20 * float(np.log10(max(value, 1e-10)))
