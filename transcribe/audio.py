"""Read audio files with PyAV: metadata first (cheap, before any decoding), then per-channel 16 kHz PCM.

Calls up to an hour are held as float32, as Whisper and Silero take them. Longer ones are held as int16 (a
3-hour stereo call is 691 MB, against 1.38 GB as float32); every stage converts bounded windows to float32
where it needs them (`as_float`). Quantising to int16 moves VAD edges by a few ms, which changed a sample's
transcript, so calls of normal length never take that path.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from transcribe.errors import AudioError

SAMPLE_RATE = 16_000  # what Whisper and Silero expect
# A file is truncated when more than max(1 s, 1 %) of its stated length does not decode. Encoder priming and
# padding differ by tens of ms (the 10 samples: at most 0.05 s); a cut copy misses seconds to minutes.
_TRUNCATION_TOLERANCE_S = 1.0
_TRUNCATION_TOLERANCE_SHARE = 0.01
_INT16_SCALE = 1 / 32768
_FLOAT_MAX_S = 3600.0  # longer calls are held as int16
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
    # False when FFmpeg guesses the length from the bit rate: raw AMR, ADTS AAC, MP3 without a Xing/VBRI tag
    duration_exact: bool = True
    # a WAV whose data runs past the size its header declares: decoded to the end of the file
    ignore_length: bool = False


def probe(path: Path) -> AudioInfo:
    """Read duration and layout from metadata without decoding the audio."""
    name = str(path)
    if not path.exists():
        raise AudioError(name, "file not found")
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        raise AudioError(name, "is a directory, not an audio file")
    if not stat.S_ISREG(mode):  # checked before opening: opening a FIFO would block, /dev/zero never ends
        raise AudioError(name, "not a regular file")
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
            if not stream.codec_context.channels or not stream.codec_context.sample_rate:
                # FFmpeg's MP3 probe accepts random bytes that happen to hold a frame sync word
                raise AudioError(name, "not a readable audio file (no decodable audio found)")
            duration = _metadata_duration(container, stream)
            wav = _wav_lengths(path) if container.format.name == "wav" else None
            if wav is not None:
                duration = max(wav)  # declared when cut short (the truncation check compares), else all present
            return AudioInfo(
                path=name,
                duration=duration,
                duration_exact=_length_stated(path, container.format.name),
                sample_rate=int(stream.codec_context.sample_rate),
                channel_count=int(stream.codec_context.channels),
                codec=stream.codec_context.name,
                ignore_length=wav is not None and wav[1] > wav[0],
            )
    except AudioError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(name, f"not a readable audio file ({_short(exc)})") from None


def decode(info: AudioInfo, max_duration: float) -> np.ndarray:
    """Decode to an int16 array of shape (channels, samples) at 16 kHz; refuse past `max_duration`.

    The buffer is sized from the probed length and grown only when the file holds more, so the call is never
    held twice. A packet the decoder refuses becomes silence of the packet's length, so the timeline stays
    true: mobile AMR recordings carry comfort-noise (SID) frames during pauses that FFmpeg's decoder does not
    implement. Those frames are a few bytes each, so a file is corrupt when most of its *bytes* cannot be decoded.
    """
    name = info.path
    layout = "stereo" if info.channel_count == 2 else "mono"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
    limit = int(max_duration * SAMPLE_RATE) + SAMPLE_RATE
    buffer = _Buffer(info.channel_count, limit, info.duration if info.duration_exact else None)
    refused_bytes = total_bytes = 0
    options = {"ignore_length": "1"} if info.ignore_length else {}
    try:
        with av.open(name, metadata_errors="ignore", options=options) as container:
            for packet in container.demux(audio=0):
                total_bytes += packet.size
                try:
                    frames = packet.decode()
                except (av.error.FFmpegError, ValueError):
                    buffer.skip(_packet_samples(packet))
                    refused_bytes += packet.size
                    continue
                for frame in frames:
                    frame.pts = None  # resample by sample count; broken timestamps must not drop audio
                    for out in resampler.resample(frame):
                        buffer.append(out.to_ndarray())
                if buffer.length > limit:
                    raise AudioError(name, f"longer than the {hms(max_duration)} limit")
            for out in resampler.resample(None):
                buffer.append(out.to_ndarray())
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(name, f"corrupt or truncated audio ({_short(exc)})") from None
    if buffer.length == 0 or refused_bytes > _MAX_REFUSED_SHARE * total_bytes:
        raise AudioError(name, "corrupt or truncated audio (most of it cannot be decoded)")
    _check_not_truncated(info, buffer.length / SAMPLE_RATE)
    return buffer.pcm()


def as_float(pcm: np.ndarray) -> np.ndarray:
    """float32 in -1..1 of a (bounded) window of int16 PCM; float input is returned as float32."""
    if pcm.dtype == np.int16:
        return pcm.astype(np.float32) * np.float32(_INT16_SCALE)
    return pcm.astype(np.float32, copy=False)


class _Buffer:
    """Decoded samples written in place into one preallocated array, so a call is never held twice.

    Sized from the stated length; without one, room up to an hour as float32, then (once) up to the limit as
    int16: np.zeros pages that are never written cost no RAM, while growing a buffer holds both for a moment.
    """

    def __init__(self, channels: int, limit: int, stated_s: float | None) -> None:
        self._limit = limit
        float_max = int(_FLOAT_MAX_S * SAMPLE_RATE)
        capacity = min(limit, float_max if stated_s is None else int((stated_s * 1.01 + 2) * SAMPLE_RATE))
        dtype = np.float32 if capacity <= float_max else np.int16
        self._data = np.zeros((channels, capacity), dtype=dtype)
        self.length = 0

    def append(self, samples: np.ndarray) -> None:
        self._reserve(samples.shape[1])
        self._data[:, self.length : self.length + samples.shape[1]] = _to_storage(samples, self._data.dtype)
        self.length += samples.shape[1]

    def skip(self, count: int) -> None:
        self._reserve(count)
        self.length += count  # the buffer is zeros already: silence

    def pcm(self) -> np.ndarray:
        return self._data[:, : self.length]

    def _reserve(self, count: int) -> None:
        needed = self.length + count
        if needed <= self._data.shape[1]:
            return
        to_int16 = self._data.dtype == np.float32 and needed > _FLOAT_MAX_S * SAMPLE_RATE
        dtype = np.int16 if to_int16 else self._data.dtype
        capacity = max(self._limit, needed) + SAMPLE_RATE if to_int16 else needed * 5 // 4
        grown = np.zeros((self._data.shape[0], capacity), dtype=dtype)
        grown[:, : self.length] = _to_storage(self._data[:, : self.length], dtype)
        self._data = grown


def _to_storage(samples: np.ndarray, dtype: npt.DTypeLike) -> np.ndarray:
    if dtype == np.int16 and samples.dtype != np.int16:
        return np.clip(np.rint(samples * 32768), -32768, 32767).astype(np.int16)
    return samples


def _packet_samples(packet: av.Packet) -> int:
    if packet.duration and packet.time_base:
        return round(float(packet.duration * packet.time_base) * SAMPLE_RATE)
    return 0


def _check_not_truncated(info: AudioInfo, decoded_seconds: float) -> None:
    declared = info.duration
    tolerance = max(_TRUNCATION_TOLERANCE_S, _TRUNCATION_TOLERANCE_SHARE * (declared or 0.0))
    if declared and info.duration_exact and declared - decoded_seconds > tolerance:
        raise AudioError(
            info.path,
            f"truncated or corrupt: header says {declared:.1f} s, only {decoded_seconds:.1f} s decodable",
        )


def check_length(info: AudioInfo, max_duration: float) -> None:
    """Refuse a file whose stated length is over the limit, before decoding it. A guessed length (raw AAC,
    AMR, MP3 without a length tag) refuses nothing: a 3:00:53 guess for a 2:59:40 ADTS file is only a guess,
    and decoding stops at the limit anyway."""
    if info.duration is not None and info.duration_exact and info.duration > max_duration:
        raise AudioError(info.path, f"{hms(info.duration)} is longer than the {hms(max_duration)} limit")


def _length_stated(path: Path, format_name: str) -> bool:
    """Whether the container states its length, rather than FFmpeg guessing it from the bit rate."""
    if format_name in _LENGTH_GUESSED_FORMATS:
        return False
    if format_name == "mp3":  # only a Xing/Info or VBRI tag in the first frame counts the frames
        with path.open("rb") as file:
            head = file.read(10)
            skip = sum(b << (7 * (3 - i)) for i, b in enumerate(head[6:10])) + 10 if head[:3] == b"ID3" else 0
            file.seek(skip)
            first_frame = file.read(200)  # the tags sit 13-36 bytes into the first frame
        return any(tag in first_frame for tag in (b"Xing", b"Info", b"VBRI"))
    return True


def _metadata_duration(container: av.container.InputContainer, stream: av.audio.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _wav_lengths(path: Path) -> tuple[float, float] | None:
    """(declared, present) seconds of a plain WAV's data chunk. FFmpeg sizes a WAV by the bytes present, so a copy
    cut short would pass as a shorter call, and it stops at the declared size, so a header that understates
    its data (a recorder that wrote the size once, early) would cap the call. A recorder still writing (size 0
    or 0xFFFFFFFF) declares nothing: None, FFmpeg reads to the end."""
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
            if not byte_rate or size in (0, 0xFFFFFFFF):
                return None
            present = path.stat().st_size - at - 8
            if present > size and _chunk_follows(path, at + 8 + size + (size & 1)):
                present = size  # metadata (LIST, id3) after the audio: the header is right
            return size / byte_rate, present / byte_rate
        at += 8 + size + (size & 1)
    return None


def _chunk_follows(path: Path, offset: int) -> bool:
    """Whether a RIFF chunk header (four printable ASCII bytes, a size that fits the file) starts at `offset`."""
    with path.open("rb") as file:
        file.seek(offset)
        header = file.read(8)
    if len(header) < 8 or not all(32 <= b < 127 for b in header[:4]):
        return False
    return offset + 8 + int.from_bytes(header[4:], "little") <= path.stat().st_size


def hms(seconds: float) -> str:
    """3:00:00 for 10800 s: how limits and lengths are shown to users."""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _short(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
