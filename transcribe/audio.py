"""Read audio files with PyAV: metadata first (cheap, before any decoding), then per-channel 16 kHz float PCM."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from transcribe.errors import AudioError

SAMPLE_RATE = 16_000  # what Whisper and Silero expect
_TRUNCATION_TOLERANCE_S = 1.0


@dataclass(frozen=True)
class AudioInfo:
    path: str
    duration: float | None  # from container/stream metadata; None when the container does not say
    sample_rate: int
    channel_count: int
    codec: str


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
            return AudioInfo(
                path=name,
                duration=_metadata_duration(container, stream),
                sample_rate=int(stream.codec_context.sample_rate or 0),
                channel_count=int(stream.codec_context.channels or 0),
                codec=stream.codec_context.name,
            )
    except AudioError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(name, f"not a readable audio file ({_short(exc)})") from None


def decode(info: AudioInfo, max_duration: float) -> np.ndarray:
    """Decode to float32 array of shape (channels, samples) at 16 kHz; stop early past `max_duration`."""
    name = info.path
    layout = "stereo" if info.channel_count == 2 else "mono"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    decoded = 0
    limit = int(max_duration * SAMPLE_RATE) + SAMPLE_RATE
    try:
        with av.open(name, metadata_errors="ignore") as container:
            for frame in container.decode(audio=0):
                frame.pts = None  # resample by sample count; broken timestamps must not drop audio
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    decoded += out.samples
                if decoded > limit:
                    raise AudioError(name, f"longer than the {_hms(max_duration)} limit")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(name, f"corrupt or truncated audio ({_short(exc)})") from None
    if not chunks:
        raise AudioError(name, "no decodable audio (corrupt or truncated file)")
    audio = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    _check_not_truncated(info, audio.shape[1] / SAMPLE_RATE)
    return audio


def _check_not_truncated(info: AudioInfo, decoded_seconds: float) -> None:
    declared = info.duration
    if declared and decoded_seconds < declared * 0.9 and declared - decoded_seconds > _TRUNCATION_TOLERANCE_S:
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


def _hms(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _short(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
