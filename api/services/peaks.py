"""Waveform peaks for the call page: the player draws them at once and streams the audio by byte ranges as it
plays, instead of downloading and decoding a whole (possibly three-hour) recording before showing anything.

Computed when a call is processed, and on first view for calls processed before peaks existed (or whose
computation failed then). Per channel, the loudest sample of each 1/`rate` s, quantised to one byte.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.services.calls import check_audio
from api.store.models import WaveformPeaks

PEAKS_PER_SECOND = 100


class PeaksError(Exception):
    """The audio could not be read for its waveform (the call's processing reports the real problem)."""


@dataclass(frozen=True)
class Peaks:
    rate: int
    duration: float
    channels: tuple[bytes, ...]  # one byte per peak, 0-255

    def to_dict(self) -> dict[str, Any]:
        # base64 of the bytes: a three-hour stereo call is ~2.9 MB, a third of the same numbers as JSON text.
        return {
            "rate": self.rate,
            "duration": self.duration,
            "peaks": [base64.b64encode(channel).decode("ascii") for channel in self.channels],
        }


class _Buckets:
    """Max |sample| per bucket of `size` samples, fed chunk by chunk so a long call is never held in memory."""

    def __init__(self, channels: int, size: int) -> None:
        self.size = size
        self.rest = np.zeros((channels, 0), dtype=np.float32)
        self.out: list[np.ndarray] = []
        self.samples = 0

    def add(self, chunk: np.ndarray) -> None:
        self.samples += chunk.shape[1]
        data = np.concatenate((self.rest, np.abs(chunk)), axis=1)
        whole = data.shape[1] // self.size * self.size
        if whole:
            self.out.append(data[:, :whole].reshape(data.shape[0], -1, self.size).max(axis=2))
        self.rest = data[:, whole:]

    def finish(self) -> np.ndarray:
        if self.rest.shape[1]:
            self.out.append(self.rest.max(axis=1, keepdims=True))
        if not self.out:
            return np.zeros((self.rest.shape[0], 0), dtype=np.float32)
        return np.concatenate(self.out, axis=1)


def compute_peaks(path: str, *, rate: int = PEAKS_PER_SECOND) -> Peaks:
    """Decode `path` at its own sample rate (no resampling cost) and keep each bucket's peak per channel."""
    try:
        with av.open(path, metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            channels = 2 if stream.codec_context.channels == 2 else 1
            sample_rate = int(stream.codec_context.sample_rate)
            resampler = av.AudioResampler(format="fltp", layout="stereo" if channels == 2 else "mono", rate=sample_rate)
            buckets = _Buckets(channels, max(1, sample_rate // rate))
            for packet in container.demux(audio=0):
                try:
                    frames = packet.decode()
                except (av.error.FFmpegError, ValueError):
                    continue  # an undecodable packet (AMR comfort noise) draws as nothing, as it plays
                for frame in frames:
                    frame.pts = None
                    for out in resampler.resample(frame):
                        buckets.add(out.to_ndarray())
            for out in resampler.resample(None):
                buckets.add(out.to_ndarray())
    except (av.error.FFmpegError, IndexError, ValueError, OSError) as exc:
        raise PeaksError(f"{path}: cannot read its waveform ({exc})") from None
    peaks = np.clip(np.rint(buckets.finish() * 255), 0, 255).astype(np.uint8)
    return Peaks(rate, buckets.samples / sample_rate, tuple(row.tobytes() for row in peaks))


def store_peaks(session: Session, *, call_id: int, peaks: Peaks) -> None:
    session.execute(delete(WaveformPeaks).where(WaveformPeaks.call_id == call_id))
    session.add(
        WaveformPeaks(
            call_id=call_id,
            rate=peaks.rate,
            channels=len(peaks.channels),
            duration=peaks.duration,
            data=b"".join(peaks.channels),
        )
    )
    session.flush()


def stored_peaks(session: Session, *, call_id: int) -> Peaks | None:
    row = session.scalar(select(WaveformPeaks).where(WaveformPeaks.call_id == call_id))
    if row is None:
        return None
    each = len(row.data) // max(row.channels, 1)
    channels = tuple(row.data[n * each : (n + 1) * each] for n in range(row.channels))
    return Peaks(row.rate, row.duration, channels)


def call_peaks(session: Session, *, call_id: int) -> Peaks:
    """The stored peaks, else computed now from the call's audio and stored (calls processed before peaks)."""
    peaks = stored_peaks(session, call_id=call_id)
    if peaks is not None:
        return peaks
    path, state = check_audio(session, call_id=call_id)
    if path is None:
        raise NotFound(f"call {call_id}: its audio is {state} (no stored file holds it any more)")
    try:
        peaks = compute_peaks(path)
    except PeaksError as exc:
        raise NotFound(f"call {call_id}: {exc}") from None
    store_peaks(session, call_id=call_id, peaks=peaks)
    return peaks
