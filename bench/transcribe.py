"""Transcription speed over the bundled samples: callqa's pipeline vs. a naive faster-whisper baseline.

Both run in this process on the same files; model loading is excluded from both. Prints × realtime
(total call seconds / wall seconds) for each and their ratio, plus CER so speed is not bought with accuracy.

    .venv/bin/python -m bench.transcribe [--workers N] [--beam N] [SAMPLES_DIR]   # from the repo root
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from faster_whisper import WhisperModel, decode_audio

from api.worker import TranscriberPool, default_workers
from transcribe import TranscribeOptions, Transcript
from transcribe.audio import probe
from transcribe.cer import character_error_rate
from transcribe.model_files import resolve_model

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="?", type=Path, default=ROOT / "samples")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--beam", type=int, default=TranscribeOptions().beam_size)
    args = parser.parse_args()
    files = sorted(args.samples.glob("*.mp3"))
    call_seconds = sum(probe(f).duration or 0.0 for f in files)
    print(f"{len(files)} calls, {call_seconds:.0f} s of audio, {default_workers()} cores")

    options = replace(TranscribeOptions(), beam_size=args.beam)
    with TranscriberPool(options, workers=args.workers) as pool:
        start = time.perf_counter()
        transcripts = dict(pool.transcribe(files))
        pipeline_wall = time.perf_counter() - start
    pipeline = call_seconds / pipeline_wall
    print(f"callqa   : {pipeline:6.1f}× realtime  ({args.workers} workers, beam {args.beam}, VAD, interleaved)")
    _print_cer("callqa", files, lambda f: _role_texts(transcripts[f]))

    model = WhisperModel(resolve_model("base"), device="cpu", compute_type="int8")
    baseline_texts: dict[Path, str] = {}
    start = time.perf_counter()
    for f in files:
        segments, _ = model.transcribe(decode_audio(str(f)), language="zh", beam_size=5, vad_filter=False)
        baseline_texts[f] = "".join(s.text for s in segments)
    baseline_wall = time.perf_counter() - start
    baseline = call_seconds / baseline_wall
    print(f"baseline : {baseline:6.1f}× realtime  (1 worker, beam 5, no VAD, mono downmix)")
    _print_cer("baseline", files, lambda f: {"all": baseline_texts[f]})
    print(f"ratio    : {pipeline / baseline:6.2f}× the baseline's speed")


def _role_texts(transcript: Transcript | Exception) -> dict[str, str]:
    if isinstance(transcript, Exception):
        raise SystemExit(f"bench input failed: {transcript}")
    texts = {"all": "".join(s.text for s in transcript.segments)}
    for role in ("agent", "client"):
        texts[role] = "".join(s.text for s in transcript.by_role(role))
    return texts


def _print_cer(label: str, files: list[Path], texts_of) -> None:
    errors: dict[str, list[float]] = {}
    for f in files:
        truth = json.loads(f.with_suffix(".truth.json").read_text(encoding="utf-8"))
        refs = {"all": "".join(t["text"] for t in truth["turns"])}
        for role in ("agent", "client"):
            refs[role] = "".join(t["text"] for t in truth["turns"] if t["role"] == role)
        for key, hyp in texts_of(f).items():
            errors.setdefault(key, []).append(character_error_rate(refs[key], hyp))
    summary = ", ".join(f"{k} {100 * sum(v) / len(v):.1f} %" for k, v in errors.items())
    print(f"{'':9}  mean CER: {summary}")


if __name__ == "__main__":
    main()
