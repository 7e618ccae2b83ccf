"""Peak memory of one long-call transcription: synthetic stereo 8 kHz calls of 10 min, 1 h and 3 h.

Each call is the bundled sample calls (real two-party speech with pauses, agent left, client right) looped to
length and encoded as MP3 by ffmpeg; each is transcribed by one `Transcriber` in a fresh process, whose peak
RSS (ru_maxrss, model included) is printed with its run time. Measured on 2 shared cores: 809 MB, 791 MB and
1258 MB; the 3-hour call took 32 minutes (1 h: 10 min).

    .venv/bin/python -m bench.memory [--lengths 600,3600,10800] [--stages]   # from the repo root

`--stages` measures decoding and the per-channel acoustics only (VAD, tones, loudness; no model): seconds
instead of minutes. `--through-batch` runs each call through `callqa batch` instead (decode → VAD → ASR → scoring
→ a fresh SQLite store), sampling the RSS of the whole process tree (batch and any workers) twice a second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 1536
# Measured before this bench existed (issue 8, item 2), with the old code path (3-hour stereo 8 kHz MP3,
# one worker): not re-measured here, since that code is gone.
BEFORE = {
    "decode (chunks kept, then joined)": "2.8 GB",
    "VAD over a whole channel": "3.5 GB",
    "busy-tone FFT over a whole channel": "6.1 GB",
    "whole transcription": "6.1-6.4 GB",
}


def make_call(folder: Path, seconds: int) -> Path:
    """The samples concatenated once (re-encoded to stereo 8 kHz MP3), then looped to `seconds` by copying
    MP3 frames (no second encode, so a 3-hour file takes seconds)."""
    base = folder / "base.mp3"
    if not base.exists():
        listing = folder / "samples.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in sorted((ROOT / "samples").glob("*.mp3"))))
        encode = ("-ac", "2", "-ar", "8000", "-c:a", "libmp3lame", "-b:a", "32k", str(base))
        _ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), *encode)
    target = folder / f"call_{seconds}s.mp3"
    _ffmpeg("-stream_loop", "-1", "-i", str(base), "-t", str(seconds), "-c", "copy", str(target))
    return target


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def measure(path: Path, stages: bool) -> tuple[float, float, dict[str, object]]:
    """(peak RSS in MB, wall seconds, the child's summary) of one fresh process handling `path`."""
    command = [sys.executable, "-m", "bench.memory", "--child", str(path)] + (["--stages"] if stages else [])
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    with child.stdout:
        output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"child failed on {path.name} (exit {child.returncode})")
    return usage.ru_maxrss / 1024, time.perf_counter() - start, json.loads(output.strip().splitlines()[-1])


def measure_batch(path: Path) -> tuple[float, float, float, dict[str, object]]:
    """(peak RSS of the `callqa batch` process tree, summed over its processes, in MB; the largest single
    process's peak (ru_maxrss of batch and the workers it reaped), in MB; wall seconds; batch's JSON summary) of
    one batch over a folder holding only `path`, into a fresh SQLite store."""
    folder = path.parent / f"batch_{path.stem}"
    folder.mkdir()
    (folder / path.name).symlink_to(path)
    callqa = str(Path(sys.executable).parent / "callqa")
    env = {**os.environ, "CALLQA_DATABASE_URL": f"sqlite:///{path.parent / (path.stem + '.db')}"}
    subprocess.run([callqa, "db", "upgrade"], check=True, capture_output=True, env=env)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as output:
        batch = subprocess.Popen([callqa, "batch", str(folder), "--json"], stdout=output, env=env)
        root = psutil.Process(batch.pid)
        tree_peak = 0
        while True:
            pid, status, usage = os.wait4(batch.pid, os.WNOHANG)
            if pid:
                break
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                tree = []
            tree_peak = max(tree_peak, sum(_rss(process) for process in tree))
            time.sleep(0.5)
        batch.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    wall = time.perf_counter() - start
    if batch.returncode:
        raise SystemExit(f"callqa batch failed on {path.name} (exit {batch.returncode})")
    return tree_peak / 2**20, usage.ru_maxrss / 1024, wall, json.loads(text.strip().splitlines()[-1])


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def child(path: Path, stages: bool) -> None:
    if stages:
        print(json.dumps(run_stages(path)))
        return
    from transcribe import TranscribeOptions, Transcriber

    transcript = Transcriber(TranscribeOptions()).transcribe(path)
    words = sum(len(s.words) for s in transcript.segments)
    print(json.dumps({"duration": transcript.duration, "segments": len(transcript.segments), "words": words}))


def run_stages(path: Path) -> dict[str, object]:
    """Decode, then per channel: VAD, busy tones, audio end, loudness; as `Transcriber` does, without the model."""
    from faster_whisper.vad import VadOptions

    from transcribe import acoustics, audio

    pcm = audio.decode(audio.probe(path), 3 * 3600 + 60)
    vad = VadOptions(threshold=0.3, min_silence_duration_ms=250, speech_pad_ms=100, max_speech_duration_s=28.0)
    longest = 0.0
    for channel in pcm:
        spans = acoustics.chunks_to_spans(acoustics.speech_chunks(channel, vad))
        tones = acoustics.tone_spans(channel)
        acoustics.audio_end(channel, tones)
        acoustics.loudness(channel, spans)
        longest = max([longest, *(e - s for s, e in spans)])
    return {"duration": pcm.shape[1] / audio.SAMPLE_RATE, "longest_speech_s": round(longest, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lengths",
        default="600,3600,10790",
        help="call lengths in seconds (3 h less 10 s: the default limit is exactly 3 h)",
    )
    parser.add_argument("--stages", action="store_true", help="decode and acoustics only, no model")
    parser.add_argument("--through-batch", action="store_true", help="each call through `callqa batch`, whole tree")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.stages)
        return
    if args.through_batch:
        print(
            f"peak RSS of `callqa batch` over one call (process tree), {os.cpu_count()} cores; target <= {TARGET_MB} MB"
        )
        with tempfile.TemporaryDirectory() as folder:
            for seconds in (int(s) for s in args.lengths.split(",")):
                path = make_call(Path(folder), seconds)
                tree, largest, wall, summary = measure_batch(path)
                verdict = "ok" if tree <= TARGET_MB else "OVER"
                print(
                    f"{seconds / 60:6.0f} min: tree peak {tree:7.0f} MB {verdict:4} (largest process {largest:.0f} MB)"
                    f"  {wall:7.1f} s ({seconds / wall:5.1f}x realtime)  scored {summary.get('scored')}, "
                    f"failed {summary.get('failed')}",
                    flush=True,
                )
        return
    what = "decode + VAD + tones + loudness" if args.stages else "whole transcription, model included"
    print(f"peak RSS of one fresh process per call ({what}), {os.cpu_count()} cores; target <= {TARGET_MB} MB")
    with tempfile.TemporaryDirectory() as folder:
        for seconds in (int(s) for s in args.lengths.split(",")):
            path = make_call(Path(folder), seconds)
            peak, wall, summary = measure(path, args.stages)
            verdict = "ok" if peak <= TARGET_MB else "OVER"
            print(
                f"{seconds / 60:6.0f} min: peak {peak:7.0f} MB {verdict:4}  {wall:7.1f} s "
                f"({seconds / wall:5.1f}x realtime)  {summary}",
                flush=True,
            )
    print("before (old code, measured for the issue, NOT in this run), 3-hour call:")
    for stage, peak_text in BEFORE.items():
        print(f"  {stage}: {peak_text}")


if __name__ == "__main__":
    main()
