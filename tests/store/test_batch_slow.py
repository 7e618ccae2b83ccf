"""`callqa batch` on real sample audio with the real model, on SQLite and PostgreSQL: kill -9 in the middle then a
rerun, and two batches started at once on the same folder. Counted in the database: 0 duplicates, 0 lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.store.models import Job, JobStatus, ScorecardRow, TranscriptRow

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ("04_forbidden_phrases", "03_missing_greeting", "06_promised_returns")
CALLQA = str(Path(sys.executable).parent / "callqa")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "night" / "branch-a"
    folder.mkdir(parents=True)
    for name in SAMPLES:
        shutil.copy(ROOT / "samples" / f"{name}.mp3", folder / f"{name}.mp3")
    shutil.copy(ROOT / "samples" / f"{SAMPLES[0]}.mp3", folder / "copied-again.mp3")  # the same call twice
    return tmp_path / "night"


def _batch(folder: Path, url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CALLQA, "batch", str(folder), "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CALLQA_DATABASE_URL": url},
    )


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int, set[str]]:
    with sessions() as session:
        transcripts = session.scalar(select(func.count()).select_from(TranscriptRow)) or 0
        scorecards = session.scalar(select(func.count()).select_from(ScorecardRow)) or 0
        return transcripts, scorecards, set(session.scalars(select(Job.status)))


def test_kill_9_in_the_middle_then_a_rerun_finishes_with_no_duplicate_and_none_lost(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    first = _batch(folder, db_url, "--workers", "2")
    deadline = time.monotonic() + 120
    while _counts(sessions)[1] < 1 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.poll() is None, "the batch ended before it could be killed"
    first.send_signal(signal.SIGKILL)  # the main process only: its workers see their pipe close and exit
    first.communicate()
    _, scorecards, statuses = _counts(sessions)
    assert 1 <= scorecards < len(SAMPLES) and JobStatus.RUNNING in statuses  # killed with calls in hand

    rerun = _batch(folder, db_url, "--workers", "2")
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    summary = json.loads(stdout)
    assert (summary["found"], summary["calls"]) == (4, 3)
    assert summary["already_done"] + summary["scored"] == len(SAMPLES)
    assert _counts(sessions) == (len(SAMPLES), len(SAMPLES), {JobStatus.DONE})


def test_two_batches_started_together_process_each_call_once(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    batches = [_batch(folder, db_url, "--workers", "1") for _ in range(2)]
    summaries = []
    for batch in batches:
        stdout, stderr = batch.communicate(timeout=300)
        assert batch.returncode == 0, stderr
        summaries.append(json.loads(stdout))
    assert sum(s["scored"] for s in summaries) == len(SAMPLES)  # each call transcribed by one batch only
    assert _counts(sessions) == (len(SAMPLES), len(SAMPLES), {JobStatus.DONE})
