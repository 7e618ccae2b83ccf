"""Beyond one machine: the per-call function as a Celery task, fed by `callqa batch --distributed`.

Idempotency lives in the database (the claim and the version keys), never in the broker: a task delivered twice,
or redelivered after its worker died, finds its call done (nothing to do) or claimed by a live worker (nothing
to do) or claimed by a dead one on this host (taken over). The broker only has to deliver each task at least once,
which `acks_late` + `task_reject_on_worker_lost` give: a task is acknowledged when it is finished, and one whose
worker died goes back to the queue (Redis: after the visibility timeout, which is longer than any task may run).

Each worker process loads the model once (`worker_process_init`), never at import time; a task builds nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from billiard.process import current_process
from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from celery.utils.log import get_task_logger
from kombu.utils.url import maybe_sanitize_url
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings, get_settings
from api.errors import ConfigError
from api.services.calls import LEASE_S, release_claims, release_dead_claims, renew_claims, worker_name
from api.services.process import Outcome, Result, fail_call, process_call
from api.services.versions import Versions, current_versions
from api.store import make_engine, make_sessionmaker
from scoring import Phrasebook, load_phrasebooks
from transcribe import Transcriber

__all__ = ["TASK_NAME", "BrokerError", "CeleryProcessor", "check_broker", "enqueue", "make_app", "run_worker"]

TASK_NAME = "callqa.process_call"
CONNECT_TIMEOUT_S = 5.0  # an unreachable broker is one error line after this, never a hang
logger = get_task_logger(__name__)


class BrokerError(ConfigError):
    """The broker is not configured or cannot be reached."""


@dataclass(frozen=True)
class _Process:
    """What one worker process holds for all its tasks."""

    sessions: sessionmaker[Session]
    transcriber: Transcriber
    book: Phrasebook
    versions: Versions
    me: str
    soft_limit_s: float


_process: _Process | None = None
_gpu = False  # set by run_worker before the pool forks; each child then takes one GPU


def make_app(settings: Settings) -> Celery:
    if not settings.broker_url:
        raise BrokerError("no broker configured: set CALLQA_BROKER_URL (e.g. redis://HOST:6379/0 or amqp://…)")
    app = Celery("callqa", broker=settings.broker_url, set_as_current=False)
    soft, hard = settings.task_time_limits()
    app.conf.update(
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,  # acknowledged when done: a worker's death puts the task back
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # tasks are long: a worker holds only the one it works on
        task_soft_time_limit=soft,
        task_time_limit=hard,
        broker_connection_timeout=CONNECT_TIMEOUT_S,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout_s(),
            # a dead worker's task is looked for every few seconds (one cheap ZRANGE), not every ~100 s
            "unacked_restore_interval": min(10.0, max(1.0, settings.visibility_timeout_s() / 5)),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "max_retries": 2,
        },
        worker_hijack_root_logger=True,
        worker_redirect_stdouts=False,
    )
    app.task(name=TASK_NAME, bind=True, ignore_result=True)(_run_task)
    return app


# --- enqueueing (`callqa batch --distributed`) ---------------------------------------------------------------


def check_broker(app: Celery) -> None:
    """Connect once, within a bounded time; `BrokerError` naming the broker (without its password) if it fails."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=1, timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:  # kombu raises the transport's own errors (socket, redis, amqp): all mean the same
        raise BrokerError(f"cannot reach the broker {_safe_url(app)} ({_reason(exc)})") from None


def enqueue(app: Celery, call_ids: Iterable[int], *, retry_failed: bool = False) -> int:
    """One task per call; no result is awaited. Returns how many were sent."""
    sent = 0
    policy = {"max_retries": 2, "interval_start": 0, "interval_step": 1, "interval_max": 2}
    try:
        with app.producer_or_acquire() as producer:
            for call_id in call_ids:
                app.send_task(
                    TASK_NAME, args=[call_id, retry_failed], producer=producer, retry=True, retry_policy=policy
                )
                sent += 1
    except Exception as exc:
        raise BrokerError(f"lost the broker {_safe_url(app)} after {sent} task(s) ({_reason(exc)})") from None
    return sent


class CeleryProcessor:
    """Uploads to `callqa serve` when a broker is configured: each becomes the same task as a distributed batch's
    call, for the `callqa worker`s (which must see the upload folder, e.g. on shared storage); the server itself
    loads no model. A broker lost at that moment leaves the call pending (logged), and the next
    `callqa batch --distributed` over the upload folder enqueues it: the database, not the broker, is the record."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def submit(self, call_id: int) -> None:
        try:
            enqueue(self.app, [call_id])
        except BrokerError as exc:
            logger.error("upload %s stays pending: %s", call_id, exc)

    def stop(self) -> None:
        self.app.close()  # the producer pool's broker connections


def _safe_url(app: Celery) -> str:
    return str(maybe_sanitize_url(app.conf.broker_url))


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


# --- the worker (`callqa worker`) ----------------------------------------------------------------------------


def run_worker(app: Celery, *, concurrency: int, gpu: bool, loglevel: str = "INFO") -> None:
    """Celery's own worker: prefork, `concurrency` single-task processes, each loading the model once."""
    global _gpu
    _gpu = gpu
    worker_process_init.connect(_load_process, weak=False, dispatch_uid="callqa-load-model")
    app.worker_main(
        [
            "worker",
            f"--loglevel={loglevel}",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            f"--queues={app.conf.task_default_queue}",
            "--hostname=callqa@%h",
            "--without-gossip",  # workers need not know each other: the database coordinates them
            "--without-mingle",
        ]
    )


def _load_process(**_: Any) -> None:
    """In each pool process, after the fork: database, phrasebooks and the model, once for all its tasks."""
    global _process
    try:
        _process = _build_process(get_settings())
    except Exception as exc:  # every task would fail the same way: stop the whole worker with the reason
        logger.error("worker process cannot start: %s", _reason(exc))
        os.kill(os.getppid(), 15)
        raise SystemExit(1) from None
    threading.Thread(target=_renew_forever, args=(_process,), name="claims-heartbeat", daemon=True).start()


def _build_process(settings: Settings) -> _Process:
    options = settings.transcribe_options()
    if _gpu:  # one process per GPU: the pool's process index picks the device (the options stay the same, so
        # the transcription version a GPU node records is the one `batch --distributed` plans with)
        os.environ["CUDA_VISIBLE_DEVICES"] = str(current_process().index)
    else:
        options = replace(options, cpu_threads=1)  # one core per process: measured faster than threads per call
    sessions = make_sessionmaker(make_engine(settings.database_url))
    book = load_phrasebooks(settings.phrasebooks_dir)
    versions = current_versions(options, settings.phrasebooks_dir)
    transcriber = Transcriber(options)
    return _Process(sessions, transcriber, book, versions, worker_name(), settings.task_time_limits()[0])


def _renew_forever(process: _Process) -> None:
    """Keeps this process's claim alive while a long call is transcribed; only a dead process's claim expires."""
    never = threading.Event()
    while not never.wait(LEASE_S / 5):
        try:
            with process.sessions.begin() as session:
                renew_claims(session, worker=process.me)
        except Exception as exc:  # a database hiccup: the next beat, well within the lease, tries again
            logger.warning("could not renew claims (%s)", _reason(exc))


def _run_task(task: Task, call_id: int, retry_failed: bool = False) -> str:
    process = _process
    if process is None:
        raise RuntimeError("the worker process did not load (see the worker's log)")
    try:
        result = _attempt(process, call_id, retry_failed)
    finally:  # whatever happened, this process holds no claim between tasks
        with process.sessions.begin() as session:
            release_claims(session, worker=process.me)
    redelivered = bool((task.request.delivery_info or {}).get("redelivered"))
    logger.info("call %s: %s%s%s", call_id, result.outcome, _detail(result), " (redelivered)" if redelivered else "")
    return str(result.outcome)


def _attempt(process: _Process, call_id: int, retry_failed: bool) -> Result:
    try:
        result = _process_call(process, call_id, retry_failed)
        if result.outcome == Outcome.CLAIMED_ELSEWHERE and _released_dead(process):
            result = _process_call(process, call_id, retry_failed)  # its holder died here: take it over
        return result
    except SoftTimeLimitExceeded:
        error = f"processing took longer than {process.soft_limit_s:g} s and was stopped"
        return fail_call(process.sessions, call_id=call_id, worker_name=process.me, error=error)


def _process_call(process: _Process, call_id: int, retry_failed: bool) -> Result:
    return process_call(
        process.sessions,
        call_id=call_id,
        transcriber=process.transcriber,
        book=process.book,
        versions=process.versions,
        worker_name=process.me,
        retry_failed=retry_failed,
    )


def _released_dead(process: _Process) -> bool:
    with process.sessions.begin() as session:
        return release_dead_claims(session) > 0


def _detail(result: Result) -> str:
    if result.error:
        return f": {result.error}"
    return f": score {result.card.score}" if result.card is not None else ""
