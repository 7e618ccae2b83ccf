"""Render the sample calls from their scripts: TTS per turn → telephone band → two-channel 8 kHz call → MP3.

    bash samples/setup_tts.sh                      # once: the TTS voices, in .venv-tts (large, never runtime)
    .venv-tts/bin/python samples/generate.py       # every NAME.script.yaml in samples/
    .venv-tts/bin/python samples/generate.py 07_agent_hangs_up_first

For each `NAME.script.yaml` it writes `NAME.mp3` (left = agent, right = client), `NAME.truth.json` (where every
turn really is in the recording, who hung up, where the busy tone is, where each party's sound ends) and
`NAME.labels.json` (the verdicts the call must get). Output is reproducible: synthesis is seeded per turn and
cached in `samples/.cache/` by voice and text.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
RATE = 8000
TTS_RATE = 22050
LINE_NOISE_DBFS = -60.0
TURN_PEAK_DBFS = {"agent": -3.0, "client": -5.0}  # the far end of a phone line is usually a little quieter
TRIM_BELOW_DB = 40.0  # vocoder lead-in/tail quieter than this (relative to the turn's peak) is cut
HANGUP_AFTER_S = 0.7  # the client's line goes dead this long after their last words
BUSY_AFTER_S = 0.5  # the exchange starts the busy tone this long after the line goes dead
BUSY_BURSTS = 3  # China: 450 Hz, 0.35 s on / 0.35 s off
BUSY_TONE_DBFS = -12.0
AGENT_HANGUP_AFTER_S = 0.15  # an agent-side hang-up ends the recording right after the agent's last word
CHANNEL = {"agent": 0, "client": 1}


@dataclass
class PlacedTurn:
    role: str
    text: str
    start: float
    audio: np.ndarray

    @property
    def end(self) -> float:
        return self.start + len(self.audio) / RATE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="script names (default: all)")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("*.script.yaml"))
    if args.names:
        scripts = [s for s in scripts if s.name.removesuffix(".script.yaml") in args.names]
    tts = Synthesiser()
    for script_path in scripts:
        render(script_path, tts)


class Synthesiser:
    """ttskit 0.3.8 (Mellotron + MelGAN, weights inside the wheel) with a disk cache of rendered turns."""

    def __init__(self) -> None:
        self._sdk = None

    def speak(self, text: str, speaker: str) -> np.ndarray:
        """Telephone-band 8 kHz float audio of one turn, trimmed and peak-normalised to 0 dBFS."""
        key = hashlib.sha256(f"ttskit-0.3.8|melgan|{speaker}|{text}".encode()).hexdigest()[:16]
        cached = CACHE / f"{key}.wav"
        if not cached.exists():
            CACHE.mkdir(exist_ok=True)
            raw = self._synthesise(text, speaker, seed=int(key[:8], 16))
            _telephone_band(raw, cached)
        audio = _read_wav(cached)
        return audio / max(float(np.max(np.abs(audio))), 1e-9)

    def _synthesise(self, text: str, speaker: str, seed: int) -> bytes:
        import torch

        if self._sdk is None:
            self._sdk = _load_ttskit()
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        wav_bytes = self._sdk.tts_sdk(text, speaker=speaker, audio="_", vocoder="melgan")
        return _trim(wav_bytes)


def _load_ttskit():
    """ttskit calls librosa ≤0.9 positionally; forward to today's keyword-only signatures before importing it."""
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # its checkpoints are pickled modules
    import librosa.filters
    import librosa.util

    pad_center, mel = librosa.util.pad_center, librosa.filters.mel

    def pad_center_compat(data, size=None, *args, **kwargs):
        return pad_center(data, size=size, *args, **kwargs)  # noqa: B026

    def mel_compat(sr=None, n_fft=None, n_mels=128, fmin=0.0, fmax=None, *args, **kwargs):
        return mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, **kwargs)

    librosa.util.pad_center = pad_center_compat
    librosa.filters.mel = mel_compat
    from ttskit import sdk_api

    return sdk_api


def _trim(wav_bytes: bytes) -> bytes:
    """Cut the vocoder's near-silent lead-in and tail; return 16-bit mono WAV bytes at the TTS rate."""
    with wave.open(io.BytesIO(wav_bytes)) as src:
        rate = src.getframerate()
        pcm = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2").astype(np.float64)
    frame = rate // 100
    frames = pcm[: len(pcm) // frame * frame].reshape(-1, frame)
    level = 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)), 1e-9))
    loud = np.flatnonzero(level > level.max() - TRIM_BELOW_DB)
    kept = pcm[loud[0] * frame : (loud[-1] + 1) * frame]
    return _wav_bytes(kept / 32768.0, rate)


def _telephone_band(wav: bytes, target: Path) -> None:
    """8 kHz, μ-law, 300–3400 Hz (what a phone line carries), stored back as 16-bit PCM."""
    with tempfile.TemporaryDirectory() as tmp:
        source, law = Path(tmp) / "in.wav", Path(tmp) / "law.wav"
        source.write_bytes(wav)
        band = ["sox", "-V1", str(source), "-r", "8000", "-c", "1", "-e", "u-law", str(law), "gain", "-n", "-3"]
        subprocess.run([*band, "sinc", "300-3400"], check=True)
        subprocess.run(["sox", "-V1", str(law), "-e", "signed-integer", "-b", "16", str(target)], check=True)


def render(script_path: Path, tts: Synthesiser) -> None:
    name = script_path.name.removesuffix(".script.yaml")
    script = yaml.safe_load(script_path.read_text(encoding="utf-8"))
    turns = place_turns(script, tts)
    hangup_by = script["ending"]["hangup_by"]
    last_end = max(t.end for t in turns)
    rng = np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
    busy: tuple[float, float] | None = None
    if hangup_by == "client":
        line_dead = last_end + HANGUP_AFTER_S
        busy = (line_dead + BUSY_AFTER_S, line_dead + BUSY_AFTER_S + (2 * BUSY_BURSTS - 1) * 0.35)
        duration = busy[1] + 0.35
    else:
        last_agent = max(t.end for t in turns if t.role == "agent")
        line_dead = duration = last_agent + AGENT_HANGUP_AFTER_S
    total = round(duration * RATE)
    stereo = np.zeros((2, total))
    for channel in (0, 1):
        alive = total if channel == 0 else int(line_dead * RATE)  # the client's line goes digitally silent
        stereo[channel, :alive] = rng.normal(0.0, 10 ** (LINE_NOISE_DBFS / 20), alive)
    for turn in turns:
        begin = round(turn.start * RATE)
        audio = turn.audio[: max(0, total - begin)]  # an agent hang-up cuts the client off mid-word
        stereo[CHANNEL[turn.role], begin : begin + len(audio)] += audio * 10 ** (TURN_PEAK_DBFS[turn.role] / 20)
    if busy:
        tone, begin = _busy_tone(), round(busy[0] * RATE)
        stereo[1, begin : begin + len(tone)] += tone
    _write_mp3(stereo, HERE / f"{name}.mp3")
    truth = _truth(name, script, turns, duration, busy)
    (HERE / f"{name}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    labels = {"hangup_by": hangup_by, **script["labels"]}
    (HERE / f"{name}.labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{name}: {duration:.1f} s, {len(turns)} turns, hang-up by {hangup_by}", file=sys.stderr)


def place_turns(script: dict, tts: Synthesiser) -> list[PlacedTurn]:
    """Each turn starts `gap` seconds after the previous one ends (a negative gap talks over it)."""
    placed: list[PlacedTurn] = []
    cursor = 0.0
    for turn in script["turns"]:
        audio = tts.speak(turn["text"], script["speakers"][turn["role"]])
        start = max(0.0, cursor + float(turn["gap"]))
        placed.append(PlacedTurn(role=turn["role"], text=turn["text"], start=round(start, 3), audio=audio))
        cursor = max(cursor, placed[-1].end)
    return placed


def _truth(name: str, script: dict, turns: list[PlacedTurn], duration: float, busy: tuple[float, float] | None):
    ends = {role: max((min(t.end, duration) for t in turns if t.role == role), default=0.0) for role in CHANNEL}
    return {
        "name": name,
        "title": script["title"],
        "duration": round(duration, 3),
        "speakers": script["speakers"],
        "hangup_by": script["ending"]["hangup_by"],
        "busy_tone": [round(busy[0], 3), round(busy[1], 3)] if busy else None,
        "channel_end": {role: round(end, 3) for role, end in ends.items()},
        "turns": [
            {
                "role": t.role,
                "channel": CHANNEL[t.role],
                "start": t.start,
                "end": round(min(t.end, duration), 3),
                "text": t.text,
                "complete": t.end <= duration,
            }
            for t in turns
        ],
    }


def _busy_tone() -> np.ndarray:
    t = np.arange(int(0.35 * RATE)) / RATE
    on = np.sqrt(2) * 10 ** (BUSY_TONE_DBFS / 20) * np.sin(2 * np.pi * 450 * t)
    off = np.zeros_like(on)
    return np.concatenate([on, off] * (BUSY_BURSTS - 1) + [on])


def _write_mp3(stereo: np.ndarray, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "call.wav"
        wav.write_bytes(_wav_bytes(stereo.T, RATE))
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(wav),
                "-c:a",
                "libmp3lame",
                "-b:a",
                "32k",
                str(target),
            ],
            check=True,
        )


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        dst.setsampwidth(2)
        dst.setframerate(rate)
        dst.writeframes(pcm.tobytes())
    return out.getvalue()


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as src:
        return np.frombuffer(src.readframes(src.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


if __name__ == "__main__":
    main()
