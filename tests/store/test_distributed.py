"""`callqa batch --distributed` and `callqa worker` with a real broker (Redis at `CALLQA_TEST_REDIS_URL`; RabbitMQ at
`CALLQA_TEST_AMQP_URL`), real worker processes and a real database. Counted in the database: each call once."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.ingest import CallMetadata
from api.services.calls import audio_digest, register_file
from api.services.process import Outcome, process_call
from api.services.versions import current_versions
from api.store.models import Job, JobStatus, ScorecardRow, TranscriptRow
from api.worker.celery_app import CeleryProcessor, enqueue, make_app
from scoring import load_phrasebooks
from tests.store.stand_ins import LoggingTranscriber

ROOT = Path(__file__).resolve().parents[2]
CALLQA = str(Path(sys.executable).parent / "callqa")
REDIS = os.environ.get("CALLQA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP = os.environ.get("CALLQA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
POSTGRES_ONLY = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def _reachable(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


@pytest.fixture
def queue(request: pytest.FixtureRequest) -> Iterator[str]:
    """A queue of the test's own, so that no other test's (or person's) tasks mix in; deleted afterwards."""
    name = f"callqa-test-{uuid.uuid4().hex[:10]}"
    yield name
    for url in (REDIS, AMQP):
        if _reachable(url):
            with Connection(url) as connection, contextlib.suppress(Exception):  # never declared on this broker
                connection.default_channel.queue_delete(name)


def _broker(url: str, variable: str) -> str:
    if not _reachable(url):
        pytest.skip(f"no broker at {variable} ({Connection(url).as_uri()}): start one or set {variable}")
    return url


@pytest.fixture
def redis_url() -> str:
    return _broker(REDIS, "CALLQA_TEST_REDIS_URL")


class Workers:
    """`callqa worker` processes, each in its own process group (its pool processes die with it)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, **env: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.logs / f"worker-{len(self.started)}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [CALLQA, "worker", "--concurrency", "1"],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**self.env, **env},
                start_new_session=True,
            )
        self.started.append((process, log))
        return process, log

    def stop(self) -> None:
        for process, _ in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _env(db_url: str, broker: str, queue: str) -> dict[str, str]:
    return {
        **os.environ,
        "CALLQA_DATABASE_URL": db_url,
        "CALLQA_BROKER_URL": broker,
        "CALLQA_QUEUE": queue,
    }


@pytest.fixture
def workers(db_url: str, redis_url: str, queue: str, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(_env(db_url, redis_url, queue), tmp_path)
    yield pool
    pool.stop()


def _folder(tmp_path: Path, names: tuple[str, ...]) -> Path:
    folder = tmp_path / "night"
    folder.mkdir()
    for name in names:
        shutil.copy(ROOT / "samples" / f"{name}.mp3", folder / f"{name}.mp3")
    return folder


def _batch(folder: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CALLQA, "batch", str(folder), "--distributed", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int, set[str]]:
    with sessions() as session:
        transcripts = session.scalar(select(func.count()).select_from(TranscriptRow)) or 0
        scorecards = session.scalar(select(func.count()).select_from(ScorecardRow)) or 0
        return transcripts, scorecards, set(session.scalars(select(Job.status)))


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(0.3)


# --- fast: no transcription ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["redis://:s3cret-word@127.0.0.1:1/0", "amqp://guest:s3cret-word@127.0.0.1:1//"],
    ids=["redis", "amqp"],
)
def test_an_unreachable_broker_is_one_line_and_exit_2_without_its_password(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path, url: str
) -> None:
    folder = _folder(tmp_path, ("03_missing_greeting",))
    started = time.monotonic()
    result = _batch(folder, _env(db_url, url, "unused"), timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot reach the broker") and result.stderr.count("\n") == 1
    assert "s3cret-word" not in result.stderr + result.stdout and ":**@" in result.stderr
    assert time.monotonic() - started < 20
    assert _counts(sessions)[2] == set()  # nothing registered: a wrong URL costs nothing


@pytest.mark.parametrize("url", ["redis://:s3cret-word@127.0.0.1:1/0"], ids=["redis"])
def test_serve_with_an_unreachable_broker_is_one_line_and_exit_2_without_its_password(
    sessions: sessionmaker[Session], db_url: str, url: str
) -> None:
    env = _env(db_url, url, "unused") | {"CALLQA_SECRET_KEY": "k" * 40}
    result = subprocess.run([CALLQA, "serve", "--port", "1"], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot reach the broker") and result.stderr.count("\n") == 1
    assert "s3cret-word" not in result.stderr + result.stdout


def test_distributed_without_a_broker_says_it_needs_one(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CALLQA_BROKER_URL"} | {"CALLQA_DATABASE_URL": db_url}
    result = subprocess.run(
        [CALLQA, "batch", str(tmp_path), "--distributed"], capture_output=True, text=True, env=env, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: --distributed needs a broker: set CALLQA_BROKER_URL (redis://HOST:6379/0 or amqp://…)\n"
    )


def test_a_redelivered_task_for_a_done_call_does_nothing_and_no_password_is_logged(
    sessions: sessionmaker[Session], db_url: str, workers: Workers, queue: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=db_url)
    versions = current_versions(settings.transcribe_options(), settings.phrasebooks_dir)  # what the worker uses
    path = _folder(tmp_path, ("03_missing_greeting",)) / "03_missing_greeting.mp3"
    sha256, size = audio_digest(path)
    with sessions.begin() as session:
        call_id = register_file(session, path=str(path), sha256=sha256, size=size, metadata=CallMetadata(), cti=None)
    done = process_call(
        sessions,
        call_id=call_id,
        transcriber=LoggingTranscriber(tmp_path / "transcribed.log"),
        book=load_phrasebooks(settings.phrasebooks_dir),
        versions=versions,
        worker_name="test",
    )
    assert done.outcome == Outcome.SCORED and _counts(sessions) == (1, 1, {JobStatus.DONE})
    finished = _finished_at(sessions)

    # A password the broker ignores (Redis' default user has none) but the worker must never print.
    secret_url = workers.env["CALLQA_BROKER_URL"].replace("redis://", "redis://default:s3cret-word@", 1)
    app = make_app(Settings(database_url=db_url, broker_url=secret_url, queue=queue))
    assert enqueue(app, [call_id, call_id]) == 2  # the same task twice: a redelivery as the broker sees it
    _, log = workers.start(CALLQA_BROKER_URL=secret_url)
    _until(lambda: log.read_text().count(f"call {call_id}: {Outcome.ALREADY_DONE}") == 2, 60, "both deliveries")
    assert _counts(sessions) == (1, 1, {JobStatus.DONE})
    assert _finished_at(sessions) == finished  # not processed again, not even re-recorded
    workers.stop()
    text = log.read_text()
    assert "s3cret-word" not in text and "default:**@" in text


def _finished_at(sessions: sessionmaker[Session]) -> object:
    with sessions() as session:
        return session.scalars(select(Job.finished_at)).one()


# --- slow: real model, real transcription ---------------------------------------------------------------------


@pytest.mark.slow
@POSTGRES_ONLY
def test_a_batch_completes_through_two_workers_each_call_once(
    sessions: sessionmaker[Session], workers: Workers, tmp_path: Path
) -> None:
    names = ("04_forbidden_phrases", "03_missing_greeting", "06_promised_returns")
    folder = _folder(tmp_path, names)
    shutil.copy(folder / f"{names[0]}.mp3", folder / "copied-again.mp3")  # the same call twice: one task
    workers.start()
    workers.start()
    result = _batch(folder, workers.env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["found"], summary["calls"], summary["enqueued"]) == (4, 3, 3)
    _until(lambda: _counts(sessions)[1] == 3 and _counts(sessions)[2] == {JobStatus.DONE}, 150, "3 calls done")
    again = json.loads(_batch(folder, workers.env).stdout)
    assert (again["already_done"], again["enqueued"]) == (3, 0)
    assert _counts(sessions) == (3, 3, {JobStatus.DONE})


@pytest.mark.slow
@POSTGRES_ONLY
def test_a_worker_killed_mid_task_leaves_no_duplicate_and_another_worker_finishes_its_call(
    sessions: sessionmaker[Session], workers: Workers, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, ("03_missing_greeting", "04_forbidden_phrases"))
    assert _batch(folder, workers.env).returncode == 0
    first, first_log = workers.start()
    with sessions() as session:

        def running() -> bool:
            return session.scalar(select(Job.call_id).where(Job.status == JobStatus.RUNNING)) is not None

        _until(running, 60, "the first worker to claim a call")
        killed = session.scalars(select(Job.call_id).where(Job.status == JobStatus.RUNNING)).one()
        session.rollback()
    time.sleep(1.0)  # well inside a transcription of several seconds
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker (main and pool process), as if its machine died
    first.wait()
    with sessions() as session:
        assert session.scalars(select(Job.status).where(Job.call_id == killed)).one() == JobStatus.RUNNING
        assert session.scalar(select(func.count()).select_from(ScorecardRow)) == 0

    # Redis hands the killed worker's unacknowledged task out again after the visibility timeout (short here).
    _, second_log = workers.start(CALLQA_BROKER_VISIBILITY_TIMEOUT_S="4")
    _until(lambda: _counts(sessions)[1] == 2 and _counts(sessions)[2] == {JobStatus.DONE}, 150, "both calls done")
    assert _counts(sessions) == (2, 2, {JobStatus.DONE})
    assert f"call {killed}: {Outcome.SCORED}" in second_log.read_text()
    assert f"call {killed}: {Outcome.SCORED}" not in first_log.read_text()


@pytest.mark.slow
@POSTGRES_ONLY
def test_rabbitmq_by_url_enqueues_and_a_worker_processes_the_call(
    sessions: sessionmaker[Session], db_url: str, queue: str, tmp_path: Path
) -> None:
    amqp = _broker(AMQP, "CALLQA_TEST_AMQP_URL")
    folder = _folder(tmp_path, ("03_missing_greeting",))
    pool = Workers(_env(db_url, amqp, queue), tmp_path)
    try:
        result = _batch(folder, pool.env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["enqueued"] == 1
        pool.start()
        _until(lambda: _counts(sessions) == (1, 1, {JobStatus.DONE}), 120, "the call done")
    finally:
        pool.stop()


@pytest.mark.slow
@POSTGRES_ONLY
def test_an_upload_to_the_server_is_processed_once_by_a_celery_worker(
    sessions: sessionmaker[Session], db_url: str, redis_url: str, queue: str, workers: Workers, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.http import create_app
    from api.services.users import add_user
    from api.store.models import UserRole

    settings = Settings(
        database_url=db_url, broker_url=redis_url, queue=queue, upload_dir=tmp_path / "uploads", sample_rate=0.0
    )
    with sessions.begin() as session:
        add_user(session, name="sup", role=UserRole.SUPERVISOR, password="correct horse battery")
    processor = CeleryProcessor(make_app(settings))
    workers.start()
    audio = (ROOT / "samples" / "04_forbidden_phrases.mp3").read_bytes()
    try:
        with TestClient(
            create_app(settings=settings, sessions=sessions, secret="s" * 40, processor=processor)
        ) as client:
            token = client.post("/api/auth/token", data={"username": "sup", "password": "correct horse battery"})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            first = client.post("/api/calls", headers=headers, files={"file": ("a.mp3", audio, "audio/mpeg")})
            assert first.status_code == 202, first.text
            status_url = first.json()["status_url"]
            _until(lambda: client.get(status_url, headers=headers).json()["status"] == "done", 150, "the upload done")
            again = client.post("/api/calls", headers=headers, files={"file": ("b.mp3", audio, "audio/mpeg")})
            assert again.status_code == 202 and again.json()["call_id"] == first.json()["call_id"]
            time.sleep(3)  # the second task, if any, has had time to run: it must find the call done
    finally:
        processor.stop()
    assert _counts(sessions) == (1, 1, {JobStatus.DONE})
