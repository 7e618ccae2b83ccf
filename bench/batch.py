"""End to end, in one run: × realtime of `callqa batch` (decode → VAD → ASR → scoring → database) with N workers
and with 1, against `callqa score` (the same pipeline, no database) with N; the database's share of wall time;
and a second batch over the same folder (everything already done) in files per second.

The audio is the bundled samples, re-encoded `--copies` times with a slightly different gain each time: copies
with identical bytes would be ONE call (calls are the SHA-256 of their audio), and done after the first.

    .venv/bin/python -m bench.batch [--copies 3] [--workers 2] [--database-url URL]   # from the repo root

Each batch gets a fresh database (default: a SQLite file in a temporary folder, the embedded default).
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

ROOT = Path(__file__).resolve().parent.parent
CALLQA = str(Path(sys.executable).parent / "callqa")
NIGHT_H = 8.0


def make_audio(folder: Path, copies: int) -> tuple[list[Path], float]:
    """The samples, `copies` times, each copy a distinct recording; (files, total seconds of audio)."""
    files: list[Path] = []
    for copy in range(copies):
        for sample in sorted((ROOT / "samples").glob("*.mp3")):
            target = folder / f"copy{copy}" / sample.name
            target.parent.mkdir(parents=True, exist_ok=True)
            gain = f"volume={1 - 0.01 * copy:.2f}"
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(sample), "-af", gain, str(target)], check=True)
            files.append(target)
    return files, sum(_duration(path) for path in files)


def _duration(path: Path) -> float:
    probe = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)]
    return float(subprocess.run(probe, check=True, capture_output=True, text=True).stdout)


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall time and stdout of one callqa command; each measurement is printed at once (the run is long)."""
    started = time.monotonic()
    result = subprocess.run([CALLQA, *args], capture_output=True, text=True, env=env)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"callqa {' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()[-300:]}")
    workers = args[args.index("--workers") + 1] if "--workers" in args else "default"
    print(f"  measured: callqa {args[0]} --workers {workers}: {wall:.1f} s", flush=True)
    return wall, result.stdout


def fresh_env(folder: Path, name: str, url: str | None) -> dict[str, str]:
    env = {**os.environ, "CALLQA_DATABASE_URL": url or f"sqlite:///{folder / name}.db"}
    subprocess.run([CALLQA, "db", "upgrade"], check=True, capture_output=True, env=env)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="times the samples are used (3 = 20.7 min)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--database-url", help="an EMPTY database per batch is needed: default SQLite files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callqa-bench-") as temp:
        folder = Path(temp)
        files, audio_s = make_audio(folder / "audio", args.copies)
        print(
            f"{len(files)} files, {audio_s / 60:.1f} min of audio; {args.workers} workers; "
            f"{os.cpu_count()} cores (shared: other work on the machine slows every figure)",
            flush=True,
        )
        rows = {}
        score_wall, _ = timed(["score", *map(str, files), "--json", "--workers", str(args.workers)], dict(os.environ))
        rows[f"callqa score, no database, {args.workers} workers"] = score_wall
        env_n = fresh_env(folder, "n", args.database_url)
        batch_n, batch_out = timed(["batch", str(folder / "audio"), "--json", "--workers", str(args.workers)], env_n)
        first = json.loads(batch_out)
        rows[f"callqa batch, {args.workers} workers"] = batch_n
        if args.workers != 1 and not args.database_url:
            env_1 = fresh_env(folder, "one", None)
            rows["callqa batch, 1 worker"], _ = timed(
                ["batch", str(folder / "audio"), "--json", "--workers", "1"], env_1
            )
        again_wall, again_out = timed(["batch", str(folder / "audio"), "--json"], env_n)
        again = json.loads(again_out)
        for label, wall in rows.items():
            print(f"{label:<42} {wall:7.1f} s  {audio_s / wall:6.1f}× realtime", flush=True)
        print(
            f"database share of batch wall time: {first['database_s'] / first['wall_time_s']:.2%} "
            f"({first['database_s']:.2f} s of open transactions in {first['wall_time_s']:.1f} s, batch's clock); "
            f"batch − score: {(batch_n - score_wall) / batch_n:.1%} (a difference of two noisy runs)"
        )
        print(
            f"second run, everything done: {again['already_done']}/{again['calls']} already done, "
            f"{again_wall:.2f} s = {len(files) / again_wall:.0f} files/s"
        )
        per_core = audio_s / batch_n / args.workers * NIGHT_H
        print(f"audio hours per {NIGHT_H:g}-hour night per core (batch, {args.workers} workers): {per_core:.1f} h")
        print(
            "ESTIMATE, not measured (no GPU here): one GPU running the base model float16 at ~100-200× realtime "
            f"per process would do ~{NIGHT_H * 100:.0f}-{NIGHT_H * 200:.0f} audio hours a night, bounded by "
            "decoding and VAD on the CPU cores feeding it"
        )


if __name__ == "__main__":
    main()
