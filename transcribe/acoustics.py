"""Word-independent facts about one channel: speech spans (Silero VAD), loudness, call-progress tones, end.

Every function takes a channel as int16 or float PCM and works through it in bounded windows converted to
float one at a time: over a whole 3-hour channel, VAD alone held 3.5 GB and one FFT 6.1 GB.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from transcribe.audio import SAMPLE_RATE, as_float

Span = tuple[float, float]

_FRAME_S = 0.05
_TONE_HZ = (420.0, 480.0)  # China's busy/disconnect tone is 450 Hz; allow for codec drift
_TONE_BAND_SHARE = 0.6  # share of a frame's energy inside the band for it to count as tone
_TONE_MIN_DBFS = -40.0
_BURST_S = (0.2, 0.6)  # 0.35 s on / 0.35 s off cadence, with slack for framing
_SILENCE_DBFS = -50.0
_TONE_RING_S = 0.15  # lossy codecs smear a tone's edges (measured: -47 dBFS 0.1 s after a busy tone in MP3)
# Windows of 5 minutes: decode + acoustics of a 3-hour call peak at 1020 MB, 691 MB of it the int16 PCM
# (`python -m bench.memory --stages`). A window edge may split a speech chunk, as the 28 s
# max-speech split does: both halves are still transcribed, and usually merged again into one piece.
_VAD_WINDOW_S = 300.0
_BLOCK_FRAMES = 1200  # one minute of 50 ms frames per FFT block


def speech_chunks(audio: np.ndarray, vad: VadOptions) -> list[dict[str, int]]:
    """Silero speech chunks in samples, as faster-whisper's own VAD code consumes them, found window by window
    (windows of equal length, so that none is a sliver)."""
    window = int(_VAD_WINDOW_S * SAMPLE_RATE)
    count = max(1, -(-len(audio) // window))
    size = -(-len(audio) // count)
    chunks: list[dict[str, int]] = []
    for start in range(0, len(audio), size):
        found = get_speech_timestamps(as_float(audio[start : start + size]), vad, sampling_rate=SAMPLE_RATE)
        chunks += [{"start": c["start"] + start, "end": c["end"] + start} for c in found]
    return chunks


def chunks_to_spans(chunks: list[dict[str, int]]) -> tuple[Span, ...]:
    return tuple((round(c["start"] / SAMPLE_RATE, 3), round(c["end"] / SAMPLE_RATE, 3)) for c in chunks)


def frame_dbfs(audio: np.ndarray) -> np.ndarray:
    parts = [_dbfs(frames) for frames in _frame_blocks(audio)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _dbfs(frames: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def _frame_blocks(audio: np.ndarray) -> Iterator[np.ndarray]:
    """Whole 50 ms frames as float, (frames, samples) blocks of at most _BLOCK_FRAMES."""
    frame = int(_FRAME_S * SAMPLE_RATE)
    usable = len(audio) // frame * frame
    for start in range(0, usable, frame * _BLOCK_FRAMES):
        yield as_float(audio[start : min(usable, start + frame * _BLOCK_FRAMES)]).reshape(-1, frame)


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
    parts = [(int(s * SAMPLE_RATE), int(e * SAMPLE_RATE)) for s, e in spans] or [(0, len(audio))]
    energy, count = 0.0, 0
    for start, end in parts:
        for piece in _windows(audio[start:end]):
            energy += float(np.sum(np.square(piece, dtype=np.float64)))
            count += piece.size
    rms = float(np.sqrt(energy / count)) if count else 0.0
    peak = max((float(np.max(np.abs(piece))) for piece in _windows(audio)), default=0.0)
    return round(_db(rms), 1), round(_db(peak), 1)


def _windows(audio: np.ndarray, size: int = 60 * SAMPLE_RATE) -> Iterator[np.ndarray]:
    for start in range(0, len(audio), size):
        yield as_float(audio[start : start + size])


def _tone_frames(audio: np.ndarray) -> np.ndarray:
    parts = [_tone_block(frames) for frames in _frame_blocks(audio)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _tone_block(frames: np.ndarray) -> np.ndarray:
    frame = frames.shape[1]
    power = np.square(np.abs(np.fft.rfft(frames * np.hanning(frame), axis=1)))
    freqs = np.fft.rfftfreq(frame, 1 / SAMPLE_RATE)
    band = (freqs >= _TONE_HZ[0]) & (freqs <= _TONE_HZ[1])
    share = power[:, band].sum(axis=1) / np.maximum(power.sum(axis=1), 1e-20)
    return (share >= _TONE_BAND_SHARE) & (_dbfs(frames) >= _TONE_MIN_DBFS)


def _runs(flags: np.ndarray) -> list[Span]:
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(round(float(s) * _FRAME_S, 3), round(float(e) * _FRAME_S, 3)) for s, e in zip(starts, ends, strict=True)]


def _close_group(group: list[Span]) -> list[Span]:
    return [(group[0][0], group[-1][1])] if len(group) >= 2 else []


def _db(value: float) -> float:
    return 20 * float(np.log10(max(value, 1e-10)))
