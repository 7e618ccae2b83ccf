"""Plain functions that write test audio: synthetic signals with numpy, format conversions with ffmpeg."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np


def write_wav(path: Path, channels: list[np.ndarray], rate: int = 8000) -> Path:
    """Write float channels (-1..1) as 16-bit PCM; channels are padded to the longest."""
    length = max(len(c) for c in channels)
    stacked = np.zeros((length, len(channels)), dtype=np.float64)
    for i, channel in enumerate(channels):
        stacked[: len(channel), i] = channel
    pcm = (np.clip(stacked, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def noise(seconds: float, dbfs: float = -60.0, rate: int = 8000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 10 ** (dbfs / 20), int(seconds * rate))


def tone(seconds: float, hz: float = 450.0, dbfs: float = -12.0, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.sqrt(2) * 10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * t)


def busy_tone(bursts: int, rate: int = 8000) -> np.ndarray:
    """China's busy tone: 450 Hz, 0.35 s on / 0.35 s off."""
    on, off = tone(0.35, rate=rate), np.zeros(int(0.35 * rate))
    return np.concatenate([np.concatenate([on, off]) for _ in range(bursts)])


def ffmpeg(source: Path, target: Path, *args: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), *args, str(target)],
        check=True,
    )
    return target
