"""`callqa batch`: every call under some folders processed once into the store (the nightly job).

Exit codes: 0 nothing failed, 1 some calls failed (the rest are done), 2 configuration or database problem.
Crash-safe by construction: each call is claimed in the database before it is worked on and its result committed
in one transaction; a rerun skips what is done and takes over the claims of a batch that died.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from api.cli.common import WorkersOption, phrasebook_or_exit, settings_or_exit, store_or_exit, worker_count
from api.cli.output import ExitCode, err, error, fail, out, plain, warning, write_json_line
from api.config import Settings
from api.errors import ConfigError
from api.ingest import AUDIO_SUFFIXES, read_metadata
from api.services.calls import (
    LEASE_S,
    Plan,
    audio_digest,
    plan_calls,
    register_file,
    release_claims,
    release_dead_claims,
    renew_claims,
    worker_name,
)
from api.services.process import Outcome, Result, Work, finish_call, start_call
from api.services.versions import Versions, current_versions
from api.store import DatabaseClock
from api.worker import TranscriberPool
from scoring import Phrasebook, PhrasebookError
from transcribe import ModelError, TranscribeError, Transcript


@dataclass
class Summary:
    found: int = 0  # audio files found
    calls: int = 0  # distinct recordings among them
    already_done: int = 0
    scored: int = 0
    rescored_only: int = 0
    failed: int = 0
    quarantined: int = 0  # quarantined now or skipped as quarantined
    claimed_elsewhere: int = 0  # another batch (or worker) holds them
    needing_review: int = 0
    audio_hours: float = 0.0
    wall_time_s: float = 0.0
    database_s: float = 0.0  # time the store's transactions were open, within wall_time_s
    unreadable: int = 0  # files that could not be read to hash them
    enqueued: int = 0  # --distributed: tasks sent to the broker for `callqa worker`s

    def add(self, result: Result) -> None:
        counters = {
            Outcome.ALREADY_DONE: "already_done",
            Outcome.CLAIMED_ELSEWHERE: "claimed_elsewhere",
            Outcome.SCORED: "scored",
            Outcome.RESCORED: "rescored_only",
            Outcome.FAILED: "failed",
            Outcome.QUARANTINED: "quarantined",
        }
        name = counters[result.outcome]
        setattr(self, name, getattr(self, name) + 1)
        self.audio_hours += result.duration / 3600
        if result.card is not None and result.card.needs_review:
            self.needing_review += 1


def batch(
    inputs: Annotated[list[Path], typer.Argument(help="folders (walked recursively) and audio files", readable=False)],
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="only files modified at or after DATE"),
    ] = None,
    workers: WorkersOption = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="try quarantined calls once more")] = False,
    distributed: Annotated[
        bool, typer.Option("--distributed", help="enqueue the calls for `callqa worker`s (CALLQA_BROKER_URL)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as one JSON object")] = False,
) -> None:
    """Process every call found into the store, each once: skip what is done, re-score what only the
    phrasebooks changed, retry failures (quarantined after 3), and print a summary."""
    started = time.monotonic()
    settings = settings_or_exit()
    book = phrasebook_or_exit()
    try:
        versions = current_versions(settings.transcribe_options(), settings.phrasebooks_dir)
    except PhrasebookError as exc:
        fail(str(exc), ExitCode.CONFIG)
    sessions = store_or_exit()
    clock = DatabaseClock(sessions)
    queue = _broker_or_exit(settings) if distributed else None
    summary = Summary()
    files = _walk(inputs, since, summary)
    summary.found = len(files)
    me = worker_name()
    with sessions.begin() as session:
        release_dead_claims(session)
    calls = _register(sessions, files, settings, summary)
    summary.calls = len(calls)
    with sessions() as session:
        plans = plan_calls(session, call_ids=calls, versions=versions, retry_failed=retry_failed)
    summary.already_done = sum(plan == Plan.DONE for plan in plans.values())
    summary.quarantined = sum(plan == Plan.QUARANTINED for plan in plans.values())
    todo = [call_id for call_id, plan in plans.items() if plan in (Plan.RESCORE, Plan.TRANSCRIBE)]
    if queue is not None:
        summary.enqueued = queue.send(todo, retry_failed=retry_failed)
        summary.wall_time_s = round(time.monotonic() - started, 3)
        summary.database_s = round(clock.seconds, 3)
        _print_summary(summary, as_json)
        if summary.unreadable:
            raise typer.Exit(ExitCode.BAD_INPUT)
        return
    run = _Run(sessions, book, versions, me, retry_failed, summary, calls)
    with _Heartbeat(sessions, me), _progress(len(todo), as_json) as report:
        run.report = report
        try:
            run.rescore([c for c in todo if plans[c] == Plan.RESCORE])
            run.transcribe([c for c in todo if plans[c] == Plan.TRANSCRIBE], settings, workers)
        except ModelError as exc:
            fail(str(exc), ExitCode.CONFIG)
        finally:
            with sessions.begin() as session:  # stopping early: unfinished claims go back at once
                release_claims(session, worker=me)
    summary.wall_time_s = round(time.monotonic() - started, 3)
    summary.database_s = round(clock.seconds, 3)
    _print_summary(summary, as_json)
    newly_quarantined = summary.quarantined - sum(plan == Plan.QUARANTINED for plan in plans.values())
    if summary.failed or newly_quarantined or summary.unreadable:
        raise typer.Exit(ExitCode.BAD_INPUT)


class _Queue:
    """The broker side of `--distributed`, checked before any work so that a wrong URL costs nothing."""

    def __init__(self, settings: Settings) -> None:
        from api.worker.celery_app import check_broker, make_app  # celery is loaded only when distributing

        self.app = make_app(settings)
        check_broker(self.app)

    def send(self, call_ids: list[int], *, retry_failed: bool) -> int:
        from api.worker.celery_app import enqueue

        try:
            return enqueue(self.app, call_ids, retry_failed=retry_failed)
        except ConfigError as exc:
            fail(str(exc), ExitCode.CONFIG)


def _broker_or_exit(settings: Settings) -> _Queue:
    if not settings.broker_url:
        fail("--distributed needs a broker: set CALLQA_BROKER_URL (redis://HOST:6379/0 or amqp://…)", ExitCode.CONFIG)
    try:
        return _Queue(settings)
    except ConfigError as exc:
        fail(str(exc), ExitCode.CONFIG)


def _walk(inputs: list[Path], since: datetime | None, summary: Summary) -> list[Path]:
    """Audio files under the inputs, each once, in a stable order; a named file is taken whatever its suffix."""
    found: dict[Path, None] = {}
    limit = since.timestamp() if since else None
    for item in inputs:
        if item.is_dir():
            for root, dirs, names in os.walk(item, onerror=lambda exc: _unreadable(summary, str(exc))):
                dirs.sort()
                for name in sorted(names):
                    if name.lower().endswith(AUDIO_SUFFIXES):
                        found.setdefault(Path(root) / name)
        elif item.is_file():
            found.setdefault(item)
        else:
            _unreadable(summary, f"{item}: no such file or folder")
    if limit is None:
        return list(found)
    return [path for path in found if _mtime(path) >= limit]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # kept: registering it reports why it cannot be read


def _unreadable(summary: Summary, message: str) -> None:
    summary.unreadable += 1
    error(message)


def _register(
    sessions: sessionmaker[Session], files: list[Path], settings: Settings, summary: Summary
) -> dict[int, Path]:
    """Hash each file and record it; call id → the first path it was found at (the same audio twice is one call)."""
    pattern = settings.filename_regex()
    calls: dict[int, Path] = {}
    for path in files:
        try:
            sha256, size = audio_digest(path)
        except OSError as exc:
            _unreadable(summary, f"{path}: cannot read ({exc.strerror or exc})")
            continue
        metadata = read_metadata(path, pattern)
        for problem in metadata.warnings:
            warning(problem)
        with sessions.begin() as session:
            call_id = register_file(
                session, path=str(path), sha256=sha256, size=size, metadata=metadata.fields, cti=metadata.cti
            )
        calls.setdefault(call_id, path)
    return calls


class _Run:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        book: Phrasebook,
        versions: Versions,
        me: str,
        retry_failed: bool,
        summary: Summary,
        calls: dict[int, Path],
    ) -> None:
        self.sessions, self.book, self.versions, self.me = sessions, book, versions, me
        self.retry_failed, self.summary, self.calls = retry_failed, summary, calls
        self.report: _Report = _Report(None, None)

    def rescore(self, call_ids: list[int]) -> None:
        for call_id in call_ids:
            work = self._start(call_id)
            if work is not None:
                self._finish(work, None)

    def transcribe(self, call_ids: list[int], settings: Settings, workers: int | None) -> None:
        if not call_ids:
            return
        claimed: dict[Path, Work] = {}  # each call has its own file
        count = worker_count(workers, settings, len(call_ids))
        with TranscriberPool(settings.transcribe_options(), workers=count) as pool:
            # Finished first, stored first: the store's order means nothing, and a long call must not idle the others.
            for path, outcome in pool.transcribe(self._claimed(call_ids, claimed), in_order=False):
                if isinstance(outcome, ModelError):
                    raise outcome
                self._finish(claimed.pop(path), outcome)

    def _claimed(self, call_ids: list[int], claimed: dict[Path, Work]) -> Iterator[Path]:
        """Each call's path as the pool takes it, claimed just before: a call another batch took meanwhile, or
        finished, is skipped; one whose transcript appeared meanwhile is only re-scored."""
        for call_id in call_ids:
            work = self._start(call_id)
            if work is None:
                continue
            if work.plan == Plan.RESCORE:
                self._finish(work, None)
                continue
            claimed[self.calls[call_id]] = work
            yield self.calls[call_id]

    def _start(self, call_id: int) -> Work | None:
        work = start_call(
            self.sessions, call_id=call_id, versions=self.versions, worker_name=self.me, retry_failed=self.retry_failed
        )
        if isinstance(work, Outcome):
            self._count(call_id, Result(work))
            return None
        return work

    def _finish(self, work: Work, outcome: Transcript | TranscribeError | None) -> None:
        result = finish_call(
            self.sessions, work=work, book=self.book, versions=self.versions, worker_name=self.me, transcribed=outcome
        )
        self._count(work.call_id, result)

    def _count(self, call_id: int, result: Result) -> None:
        self.summary.add(result)
        self.report.advance(self.calls[call_id], result, self.summary)


class _Report:
    """Progress: a Rich bar on a terminal, else one plain line per call (both on stderr)."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self.progress, self.task = progress, task
        self.started = time.monotonic()

    def advance(self, path: Path, result: Result, summary: Summary) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        speed = summary.audio_hours * 3600 / elapsed
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=1, hours=summary.audio_hours, speed=speed)
            return
        detail = (result.error or "").removeprefix(f"{path}: ") or (f"score {result.card.score}" if result.card else "")
        err.print(plain(f"{result.outcome}: {path}{': ' + detail if detail else ''}"), soft_wrap=True)


class _progress:
    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.bar = sys.stderr.isatty() and not quiet and total > 0
        self.progress: Progress | None = None

    def __enter__(self) -> _Report:
        if not self.bar:
            return _Report(None, None)
        self.progress = Progress(
            TextColumn("calls"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[hours]:.2f} h audio, {task.fields[speed]:.1f}× realtime"),
            TimeRemainingColumn(),
            console=err,
        )
        self.progress.start()
        task = self.progress.add_task("calls", total=self.total, hours=0.0, speed=0.0)
        return _Report(self.progress, task)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


class _Heartbeat:
    """Renews this batch's claims while it lives, so that only a dead batch's claims run out."""

    def __init__(self, sessions: sessionmaker[Session], me: str) -> None:
        self.sessions, self.me = sessions, me
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="claims-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _beat(self) -> None:
        while not self.stop.wait(LEASE_S / 5):
            try:
                with self.sessions.begin() as session:
                    renew_claims(session, worker=self.me)
            except Exception as exc:  # a database hiccup: the next beat tries again, well within the lease
                warning(f"could not renew the batch's claims ({' '.join(str(exc).split())[:200]})")


def _print_summary(summary: Summary, as_json: bool) -> None:
    data = asdict(summary)
    data["audio_hours"] = round(summary.audio_hours, 4)
    if as_json:
        write_json_line(json.dumps(data))
        return
    table = Table(title="Batch summary")
    table.add_column("")
    table.add_column("", justify="right")
    for key, value in data.items():
        table.add_row(key.replace("_", " "), f"{value:.2f}" if isinstance(value, float) else str(value))
    out.print(table)
