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


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system of callqa and the workers it reaped) and stdout of one callqa command;
    each measurement is printed at once (the run is long)."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen([CALLQA, *args], stdout=stdout, stderr=stderr, text=True, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    cpu = usage.ru_utime + usage.ru_stime
    if process.returncode != 0:
        raise SystemExit(f"callqa {' '.join(args[:2])} failed ({process.returncode}): {errors.strip()[-300:]}")
    workers = args[args.index("--workers") + 1] if "--workers" in args else "default"
    print(f"  measured: callqa {args[0]} --workers {workers}: {wall:.1f} s wall, {cpu:.1f} CPU s", flush=True)
    return wall, cpu, output


def fresh_env(folder: Path, name: str, url: str | None) -> dict[str, str]:
    env = {**os.environ, "CALLQA_DATABASE_URL": url or f"sqlite:///{folder / name}.db"}
    subprocess.run([CALLQA, "db", "upgrade"], check=True, capture_output=True, env=env)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="times the samples are used (3 = 20.7 min)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--database-url", help="an EMPTY database per batch is needed: default SQLite files")
    parser.add_argument("--skip-one-worker", action="store_true", help="no third run with one worker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callqa-bench-") as temp:
        folder = Path(temp)
        files, audio_s = make_audio(folder / "audio", args.copies)
        print(
            f"{len(files)} files, {audio_s / 60:.1f} min of audio; {args.workers} workers; "
            f"{os.cpu_count()} cores (shared: other work on the machine slows every figure)",
            flush=True,
        )
        rows: dict[str, tuple[float, float, int]] = {}
        score_wall, score_cpu, _ = timed(
            ["score", *map(str, files), "--json", "--workers", str(args.workers)], dict(os.environ)
        )
        rows[f"callqa score, no database, {args.workers} workers"] = score_wall, score_cpu, args.workers
        env_n = fresh_env(folder, "n", args.database_url)
        batch_n, batch_cpu, batch_out = timed(
            ["batch", str(folder / "audio"), "--json", "--workers", str(args.workers)], env_n
        )
        first = json.loads(batch_out)
        rows[f"callqa batch, {args.workers} workers"] = batch_n, batch_cpu, args.workers
        if args.workers != 1 and not args.database_url and not args.skip_one_worker:
            env_1 = fresh_env(folder, "one", None)
            one_wall, one_cpu, _ = timed(["batch", str(folder / "audio"), "--json", "--workers", "1"], env_1)
            rows["callqa batch, 1 worker"] = one_wall, one_cpu, 1
        again_wall, _, again_out = timed(["batch", str(folder / "audio"), "--json"], env_n)
        again = json.loads(again_out)
        print(f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (other work slows the wall times)")
        for label, (wall, cpu, cores) in rows.items():
            # CPU time does not grow when other processes take the cores: audio / (CPU s / cores) is the speed the
            # same work would have on `cores` cores of its own (an upper bound: it assumes no idle core).
            print(
                f"{label:<42} {wall:7.1f} s  {audio_s / wall:6.1f}× realtime; {cpu:7.1f} CPU s = "
                f"{audio_s / cpu * cores:5.1f}× realtime on {cores} idle cores",
                flush=True,
            )
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
