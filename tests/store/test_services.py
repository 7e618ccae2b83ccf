"""The store's services on real SQLite and PostgreSQL: registering, claiming, recording, re-scoring, quarantine,
and many processes competing for the same calls (each processed exactly once)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.ingest import CallMetadata
from api.services.calls import (
    MAX_ATTEMPTS,
    Plan,
    audio_digest,
    claim_call,
    plan_calls,
    register_file,
    release_dead_claims,
    worker_name,
)
from api.services.process import Outcome, process_call
from api.services.versions import Versions, phrasebook_version
from api.store.models import AudioState, Call, CallFile, FindingRow, Job, JobStatus, ScorecardRow, TranscriptRow, utcnow
from tests.scoring.factory import book
from tests.store.stand_ins import LoggingTranscriber, process_all
from transcribe import Transcript

V1 = Versions("t-one", "p-one")


def _files(folder: Path, count: int, prefix: str = "call") -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"{prefix}{number:03d}.mp3"
        path.write_bytes(f"audio of {prefix} {number}".encode())
        paths.append(path)
    return paths


def _register(sessions: sessionmaker[Session], paths: list[Path], **metadata: str) -> list[int]:
    ids = []
    for path in paths:
        sha256, size = audio_digest(path)
        with sessions.begin() as session:
            ids.append(
                register_file(
                    session, path=str(path), sha256=sha256, size=size, metadata=CallMetadata(**metadata), cti=None
                )
            )
    return ids


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_same_audio_found_twice_is_one_call_with_both_paths(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    (original,) = _files(tmp_path / "a", 1)
    copy = tmp_path / "renamed.mp3"
    copy.write_bytes(original.read_bytes())
    ids = _register(sessions, [original, copy, original], agent_id="007")
    assert len(set(ids)) == 1
    assert (_count(sessions, Call), _count(sessions, CallFile), _count(sessions, Job)) == (1, 2, 1)
    with sessions() as session:
        assert session.scalars(select(Call.agent_id)).one() == "007"


def test_a_path_that_now_holds_other_audio_marks_the_old_call_changed(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    (path,) = _files(tmp_path, 1)
    (old,) = _register(sessions, [path])
    path.write_bytes(b"other audio now")
    (new,) = _register(sessions, [path])
    assert new != old
    with sessions() as session:
        assert session.get(Call, old).audio_state == AudioState.CHANGED  # type: ignore[union-attr]
        assert session.get(Call, new).audio_state == AudioState.OK  # type: ignore[union-attr]


def test_a_call_is_transcribed_once_and_rescored_without_transcription_when_the_phrasebooks_change(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    ids = _register(sessions, _files(tmp_path, 2))
    log = tmp_path / "log"
    transcriber = LoggingTranscriber(log)
    run = lambda versions: [  # noqa: E731
        process_call(sessions, call_id=i, transcriber=transcriber, book=book(), versions=versions, worker_name="w")
        for i in ids
    ]
    assert {r.outcome for r in run(V1)} == {Outcome.SCORED}
    assert {r.outcome for r in run(V1)} == {Outcome.ALREADY_DONE}
    v2 = Versions(V1.transcription, "p-two")
    with sessions() as session:
        assert set(plan_calls(session, call_ids=ids, versions=v2).values()) == {Plan.RESCORE}
    assert {r.outcome for r in run(v2)} == {Outcome.RESCORED}
    assert len(log.read_text().splitlines()) == 2  # the phrasebook change transcribed nothing again
    assert (_count(sessions, TranscriptRow), _count(sessions, ScorecardRow)) == (2, 4)
    assert _count(sessions, FindingRow) == 4 * len(book().active_rules)
    assert {r.outcome for r in run(Versions("t-new-model", "p-two"))} == {Outcome.SCORED}  # a new model re-transcribes
    assert len(log.read_text().splitlines()) == 4


def test_a_poison_file_fails_then_is_quarantined_and_skipped_until_retried(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    (call_id,) = _register(sessions, _files(tmp_path, 1, prefix="poison"))
    transcriber = LoggingTranscriber(tmp_path / "log")
    outcomes = []
    for _ in range(MAX_ATTEMPTS + 1):
        with sessions() as session:
            plan = plan_calls(session, call_ids=[call_id], versions=V1)[call_id]
        if plan == Plan.QUARANTINED:
            outcomes.append("skipped")
            continue
        result = process_call(
            sessions, call_id=call_id, transcriber=transcriber, book=book(), versions=V1, worker_name="w"
        )
        outcomes.append(str(result.outcome))
    assert outcomes == ["failed", "failed", "quarantined", "skipped"]
    with sessions() as session:
        job = session.scalars(select(Job)).one()
        assert (job.attempts, job.worker) == (3, None)
        assert (
            job.last_error is not None and "not a readable audio file" in job.last_error and "\n" not in job.last_error
        )
        assert plan_calls(session, call_ids=[call_id], versions=V1, retry_failed=True)[call_id] == Plan.TRANSCRIBE
    result = process_call(
        sessions, call_id=call_id, transcriber=transcriber, book=book(), versions=V1, worker_name="w", retry_failed=True
    )
    assert result.outcome == Outcome.QUARANTINED  # one more try, failed again


def test_a_call_whose_scoring_raises_fails_with_a_one_line_reason_and_costs_no_other_call(
    sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.services.process as scoring_step

    ids = _register(sessions, _files(tmp_path, 2))
    real_score = scoring_step.score

    def first_call_breaks(transcript: Transcript, *args: Any, **kwargs: Any) -> Any:
        if transcript.source.endswith("call000.mp3"):
            raise ZeroDivisionError("division by zero")
        return real_score(transcript, *args, **kwargs)

    monkeypatch.setattr(scoring_step, "score", first_call_breaks)
    transcriber = LoggingTranscriber(tmp_path / "log")
    results = [
        process_call(sessions, call_id=i, transcriber=transcriber, book=book(), versions=V1, worker_name="w")
        for i in ids
    ]
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.SCORED]
    assert results[0].error == "could not be scored (ZeroDivisionError: division by zero)"
    with sessions() as session:
        job = session.scalars(select(Job).where(Job.call_id == ids[0])).one()
        assert job.last_error == "could not be scored (ZeroDivisionError: division by zero)"


def test_claims_are_exclusive_expire_and_are_taken_from_a_dead_local_process(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    (call_id,) = _register(sessions, _files(tmp_path, 1))
    with sessions.begin() as session:
        assert claim_call(session, call_id=call_id, worker="a")
    with sessions.begin() as session:
        assert not claim_call(session, call_id=call_id, worker="b")
        assert claim_call(session, call_id=call_id, worker="b", now=utcnow() + timedelta(hours=1))  # a's lease ran out
    # A batch killed with -9 on this host: its pid is gone, so its claim is handed back at once.
    dead = worker_name().rsplit("/", 2)[0] + "/999999999/1"
    with sessions.begin() as session:
        session.execute(update(Job).values(worker=dead, claimed_until=utcnow() + timedelta(hours=1)))
    with sessions.begin() as session:
        assert not claim_call(session, call_id=call_id, worker="c")
        assert release_dead_claims(session) == 1
    with sessions.begin() as session:
        assert claim_call(session, call_id=call_id, worker="c")


def test_a_call_whose_worker_keeps_dying_is_quarantined_not_retried_for_ever(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    (call_id,) = _register(sessions, _files(tmp_path, 1, prefix="crasher"))
    dead = worker_name().rsplit("/", 2)[0] + "/999999999/1"  # a pid that no longer exists on this host
    statuses = []
    for _ in range(MAX_ATTEMPTS):
        with sessions.begin() as session:
            assert claim_call(session, call_id=call_id, worker=dead)
        with sessions.begin() as session:
            assert release_dead_claims(session) == 1
            statuses.append(session.scalars(select(Job.status)).one())
    assert statuses == [JobStatus.FAILED, JobStatus.FAILED, JobStatus.QUARANTINED]
    with sessions.begin() as session:
        assert not claim_call(session, call_id=call_id, worker="w")
        job = session.scalars(select(Job)).one()
        assert job.attempts == MAX_ATTEMPTS and "died" in (job.last_error or "")


def test_a_lapsed_claim_counts_as_an_attempt(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    (call_id,) = _register(sessions, _files(tmp_path, 1))
    with sessions.begin() as session:
        assert claim_call(session, call_id=call_id, worker="elsewhere-1")
    later = utcnow() + timedelta(hours=1)
    with sessions.begin() as session:
        assert release_dead_claims(session, alive=lambda _: True, now=later) == 1
        job = session.scalars(select(Job)).one()
        assert (job.status, job.attempts) == (JobStatus.FAILED, 1)


def test_threads_racing_for_the_same_calls_each_get_a_call_once(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    ids = _register(sessions, _files(tmp_path, 30))
    won: Counter[int] = Counter()
    lock = threading.Lock()

    def race(worker: str) -> None:
        for call_id in ids:
            with sessions.begin() as session:
                if claim_call(session, call_id=call_id, worker=worker):
                    with lock:
                        won[call_id] += 1

    threads = [threading.Thread(target=race, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won == Counter(ids)  # every call claimed, none twice


def test_processes_competing_for_the_same_calls_process_each_exactly_once(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    ids = _register(sessions, _files(tmp_path / "calls", 24))
    log = tmp_path / "transcribed.log"
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        results = pool.starmap(process_all, [(db_url, ids, str(log), V1, f"worker{n}") for n in range(4)])
    outcomes = Counter(outcome for result in results for outcome in result)
    assert outcomes[str(Outcome.SCORED)] == len(ids)
    assert Counter(log.read_text().splitlines()) == Counter(f"call{n:03d}.mp3" for n in range(24))
    assert (_count(sessions, TranscriptRow), _count(sessions, ScorecardRow)) == (24, 24)
    with sessions() as session:
        assert set(session.scalars(select(Job.status))) == {JobStatus.DONE}


def test_phrasebook_version_is_the_rules_content_not_their_cases_or_times(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rules: []\n")
    (tmp_path / "a.cases.yaml").write_text("cases: []\n")
    first = phrasebook_version(tmp_path)
    (tmp_path / "a.cases.yaml").write_text("cases: [changed]\n")
    assert phrasebook_version(tmp_path) == first
    (tmp_path / "a.yaml").write_text("rules: [] # edited\n")
    assert phrasebook_version(tmp_path) != first


def test_the_database_clock_counts_open_transactions_only(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    from api.store import DatabaseClock

    clock = DatabaseClock(sessions)
    time.sleep(0.2)  # outside any transaction: not the database's time
    with sessions.begin() as session:
        session.execute(select(func.count()).select_from(Job))
        time.sleep(0.1)  # a transaction held open is the database's time, whatever it waits for
    assert 0.1 <= clock.seconds < 0.2
    _register(sessions, _files(tmp_path, 2))
    assert clock.seconds > 0.1
