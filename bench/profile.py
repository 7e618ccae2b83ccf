"""Where one call's time goes: decode, VAD, the other acoustics, mel features, Whisper's encoder, decoder (beam
search), word alignment, the rest of faster-whisper, and scoring; plus how many 30 s windows each call costs.

Times are CPU seconds of this process (`time.process_time`: all its threads), not wall time: the machine is
shared, and CPU time is what other processes on a busy core do not steal. One `Transcriber` per variant, timed by
wrapping the stage functions it calls and the CTranslate2 model's `encode`/`generate`/`align`. Each variant
(`--variant NAME=JSON` of `TranscribeOptions` fields, e.g. `beam1={"beam_size": 1}`) runs in the same process,
files interleaved, so a busy shared machine slows all alike.

    .venv/bin/python -m bench.profile [--cpu-threads 1] [--repeat 1] [--variant NAME=JSON ...] [FILE ...]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from scoring import load_phrasebooks, score
from transcribe import TranscribeOptions, Transcriber, Transcript, acoustics, audio
from transcribe import transcriber as transcriber_module
from transcribe.cer import character_error_rate

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("decode", "vad", "acoustics", "mel", "encode", "generate", "align", "whisper other", "scoring")


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.process_time() - started
                self.calls[name] += 1

        return timed


class _TimedModel:
    """Stands in for the `ctranslate2.models.Whisper` inside faster-whisper's `WhisperModel`."""

    def __init__(self, model: Any, clock: _Clock) -> None:
        self._model = model
        self.encode = clock.wrap("encode", model.encode)
        self.generate = clock.wrap("generate", model.generate)
        self.align = clock.wrap("align", model.align)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def _instrument(clock: _Clock) -> None:
    """Wrap the module-level stage functions once; every Transcriber then reports to `clock`."""
    audio.decode = clock.wrap("decode", audio.decode)  # type: ignore[method-assign]
    acoustics.speech_chunks = clock.wrap("vad", acoustics.speech_chunks)  # type: ignore[method-assign]
    transcriber_module._channel_info = clock.wrap("acoustics", transcriber_module._channel_info)  # type: ignore[attr-defined]


def _load(options: TranscribeOptions, clock: _Clock) -> Transcriber:
    transcriber = Transcriber(options)
    model = transcriber._model
    model.model = _TimedModel(model.model, clock)  # type: ignore[assignment]
    model.feature_extractor = _TimedCallable(model.feature_extractor, clock.wrap("mel", model.feature_extractor))
    return transcriber


class _TimedCallable:
    def __init__(self, inner: Any, call: Callable[..., Any]) -> None:
        self._inner = inner
        self._call = call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _texts(transcript: Transcript) -> dict[str, str]:
    return {role: "".join(s.text for s in transcript.by_role(role)) for role in ("agent", "client")}


def _references(path: Path) -> dict[str, str]:
    truth = json.loads(path.with_suffix(".truth.json").read_text(encoding="utf-8"))
    return {role: "".join(t["text"] for t in truth["turns"] if t["role"] == role) for role in ("agent", "client")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--cpu-threads", type=int, default=1, help="1 = as each worker of a pool runs")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--variant", action="append", default=[], help='NAME=JSON, e.g. beam1={"beam_size": 1}')
    args = parser.parse_args()
    files = args.files or sorted((ROOT / "samples").glob("*.mp3"))
    base = replace(TranscribeOptions(), cpu_threads=args.cpu_threads)
    variants: dict[str, TranscribeOptions] = {"current": base}
    for spec in args.variant:
        name, _, fields = spec.partition("=")
        values = json.loads(fields)
        if "temperature" in values:
            values["temperature"] = tuple(values["temperature"])
        variants[name] = replace(base, **values)
    clocks = {name: _Clock() for name in variants}
    shared = _Clock()
    _instrument(shared)
    transcribers = {name: _load(options, clocks[name]) for name, options in variants.items()}
    book = load_phrasebooks(ROOT / "phrasebooks")
    walls: dict[str, float] = defaultdict(float)  # CPU seconds
    real: dict[str, float] = defaultdict(float)  # wall seconds
    audio_s = 0.0
    errors: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in variants}
    stage_split: dict[str, dict[str, float]] = {name: defaultdict(float) for name in variants}
    windows: dict[str, dict[str, int]] = {name: {} for name in variants}
    for _ in range(args.repeat):
        for path in files:
            audio_s += audio.probe(path).duration or 0.0
            for name, transcriber in transcribers.items():
                before = dict(shared.seconds)
                encodes = clocks[name].calls["encode"]
                started, started_wall = time.process_time(), time.perf_counter()
                transcript = transcriber.transcribe(path)
                started_scoring = time.process_time()
                score(transcript, book)
                stage_split[name]["scoring"] += time.process_time() - started_scoring
                walls[name] += time.process_time() - started
                real[name] += time.perf_counter() - started_wall
                for stage, seconds in shared.seconds.items():
                    stage_split[name][stage] += seconds - before.get(stage, 0.0)
                windows[name][path.stem] = clocks[name].calls["encode"] - encodes
                if path.with_suffix(".truth.json").exists():
                    references, hypotheses = _references(path), _texts(transcript)
                    for role in references:
                        errors[name][role].append(character_error_rate(references[role], hypotheses[role]))
    print(f"{len(files)} files x {args.repeat}, {audio_s:.0f} s of audio, cpu_threads={args.cpu_threads}")
    first = walls["current"]
    for name in variants:
        split = stage_split[name]
        for stage in ("encode", "generate", "align", "mel"):
            split[stage] = clocks[name].seconds[stage]
        split["whisper other"] = walls[name] - sum(split[s] for s in STAGES if s != "whisper other")
        cer = ", ".join(f"{role} {100 * sum(v) / len(v):.1f} %" for role, v in errors[name].items() if v)
        print(
            f"{name:>10}: {walls[name]:6.1f} CPU s = {audio_s / walls[name]:5.1f}x realtime per core "
            f"({first / walls[name]:.2f}x current; wall {real[name]:.1f} s); mean CER {cer}"
        )
        print("            " + ", ".join(f"{s} {split[s]:.1f}" for s in STAGES))
        total_windows = sum(windows[name].values())
        print(
            f"            {total_windows} encoder windows ({audio_s / 60 / max(total_windows, 1) * 60:.1f} s of call "
            f"per window), encoder {clocks[name].seconds['encode'] / max(total_windows, 1):.2f} s/window, "
            f"{clocks[name].calls['generate']} generate calls, {clocks[name].seconds['encode'] / audio_s * 60:.1f} "
            f"encoder s per audio minute; per call {windows[name]}"
        )


if __name__ == "__main__":
    main()
