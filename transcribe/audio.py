"""Read audio files with PyAV: metadata first (cheap, before any decoding), then per-channel 16 kHz float PCM."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from transcribe.errors import AudioError

SAMPLE_RATE = 16_000  # what Whisper and Silero expect
_TRUNCATION_TOLERANCE_S = 1.0
_MAX_REFUSED_SHARE = 0.5
# Headerless stream formats: their duration is a bit-rate estimate (DTX pauses in AMR make it far off).
_LENGTH_GUESSED_FORMATS = frozenset({"amr", "amrnb", "amrwb", "aac"})


@dataclass(frozen=True)
class AudioInfo:
    path: str
    duration: float | None  # from container/stream metadata; None when the container does not say
    sample_rate: int
    channel_count: int
    codec: str
    # False for headerless streams (raw AMR, ADTS AAC), whose length FFmpeg guesses from the bit rate
    duration_exact: bool = True


def probe(path: Path) -> AudioInfo:
    """Read duration and layout from metadata without decoding the audio."""
    name = str(path)
    if not path.exists():
        raise AudioError(name, "file not found")
    if path.is_dir():
        raise AudioError(name, "is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(name, "empty file")
    try:
        with av.open(name, metadata_errors="ignore") as container:
            streams = container.streams.audio
            if not streams:
                raise AudioError(name, "no audio stream in file")
            stream = streams[0]
            if stream.codec_context is None:  # FFmpeg found a stream but has no decoder for it
                raise AudioError(name, "unknown or unsupported audio codec")
            duration = _metadata_duration(container, stream)
            if container.format.name == "wav":
                duration = _wav_declared_duration(path) or duration
            return AudioInfo(
                path=name,
                duration=duration,
                duration_exact=container.format.name not in _LENGTH_GUESSED_FORMATS,
                sample_rate=int(stream.codec_context.sample_rate or 0),
                channel_count=int(stream.codec_context.channels or 0),
                codec=stream.codec_context.name,
            )
    except AudioError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(name, f"not a readable audio file ({_short(exc)})") from None


def decode(info: AudioInfo, max_duration: float) -> np.ndarray:
    """Decode to float32 array of shape (channels, samples) at 16 kHz; stop early past `max_duration`.

    A packet the decoder refuses becomes silence of the packet's length, so the timeline stays true: mobile
    AMR recordings carry comfort-noise (SID) frames during pauses that FFmpeg's decoder does not implement.
    Those frames are a few bytes each, so a file is corrupt when most of its *bytes* cannot be decoded.
    """
    name = info.path
    layout = "stereo" if info.channel_count == 2 else "mono"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    decoded = 0
    refused_bytes = total_bytes = 0
    limit = int(max_duration * SAMPLE_RATE) + SAMPLE_RATE
    try:
        with av.open(name, metadata_errors="ignore") as container:
            for packet in container.demux(audio=0):
                total_bytes += packet.size
                try:
                    frames = packet.decode()
                except (av.error.FFmpegError, ValueError):
                    gap = _packet_samples(packet)
                    chunks.append(np.zeros((info.channel_count, gap), dtype=np.float32))
                    decoded += gap
                    refused_bytes += packet.size
                    continue
                for frame in frames:
                    frame.pts = None  # resample by sample count; broken timestamps must not drop audio
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray())
                        decoded += out.samples
                if decoded > limit:
                    raise AudioError(name, f"longer than the {hms(max_duration)} limit")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(name, f"corrupt or truncated audio ({_short(exc)})") from None
    if not chunks or refused_bytes > _MAX_REFUSED_SHARE * total_bytes:
        raise AudioError(name, "corrupt or truncated audio (most of it cannot be decoded)")
    audio = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    _check_not_truncated(info, audio.shape[1] / SAMPLE_RATE)
    return audio


def _packet_samples(packet: av.Packet) -> int:
    if packet.duration and packet.time_base:
        return round(float(packet.duration * packet.time_base) * SAMPLE_RATE)
    return 0


def _check_not_truncated(info: AudioInfo, decoded_seconds: float) -> None:
    declared = info.duration
    if (
        declared
        and info.duration_exact
        and decoded_seconds < declared * 0.9
        and declared - decoded_seconds > _TRUNCATION_TOLERANCE_S
    ):
        raise AudioError(
            info.path,
            f"truncated or corrupt: header says {declared:.1f} s, only {decoded_seconds:.1f} s decodable",
        )


def _metadata_duration(container: av.container.InputContainer, stream: av.audio.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _wav_declared_duration(path: Path) -> float | None:
    """The length a WAV header declares for its data. FFmpeg sizes a WAV by the bytes present, so a copy cut short
    would pass as a shorter call; a recorder still writing (size 0 or 0xFFFFFFFF) declares nothing."""
    with path.open("rb") as file:
        head = file.read(4096)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None  # not a plain WAV; RF64 keeps its sizes elsewhere, and FFmpeg reads those
    byte_rate, at = 0, 12
    while at + 8 <= len(head):
        chunk, size = head[at : at + 4], int.from_bytes(head[at + 4 : at + 8], "little")
        if chunk == b"fmt " and at + 20 <= len(head):
            byte_rate = int.from_bytes(head[at + 16 : at + 20], "little")
        if chunk == b"data":
            return size / byte_rate if byte_rate and size not in (0, 0xFFFFFFFF) else None
        at += 8 + size + (size & 1)
    return None


def hms(seconds: float) -> str:
    """3:00:00 for 10800 s: how limits and lengths are shown to users."""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _short(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
