"""Many files on one machine: one single-threaded Whisper per worker process, files handed out in order.

One single-thread worker per core was measured faster than one worker using all cores (CTranslate2 scales
poorly across threads for the small base model). Beyond one machine, Celery workers take this role.

A worker that dies (killed, out of memory, a crash in native code) costs only the file it held: a fresh worker
takes its place and tries that file once more; if that one dies too, the file gets one error line.

Each worker has its own pipe and gets one file at a time. Pools that share one queue between workers
(multiprocessing.Pool, pebble) hang or break as a whole when a worker dies at the wrong moment: holding the
queue's lock, or (pebble 5.2) while no task runs anywhere, which ends the pool with "All workers expired".
Pipes also need no named semaphores, so a killed process leaves no "leaked semaphore" warnings behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Protocol

from tqdm import tqdm

from transcribe import (
    AudioError,
    ModelError,
    TranscribeError,
    TranscribeOptions,
    Transcriber,
    Transcript,
    one_line,
)

__all__ = ["Outcome", "TranscriberPool", "default_workers"]

Outcome = Transcript | TranscribeError
_READY_TIMEOUT_S = 600
_STOP_GRACE_S = 3
_TRIES = 2  # a death may be the machine's (memory, a stray kill) rather than the file's: one retry
_EXIT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Transcribes(Protocol):
    def transcribe(self, path: str | Path, hotwords: Sequence[str] = ()) -> Transcript: ...


Loader = Callable[[TranscribeOptions], _Transcribes]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


@dataclass
class _Job:
    index: int
    path: Path
    tries: int = 0


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    job: _Job | None = None
    deadline: float = float("inf")


class TranscriberPool:
    """`with TranscriberPool(options, workers=2) as pool:` returns once every worker has loaded the model.

    `timeout_s` stops a file's transcription after that many seconds (that file's error line); it needs a worker
    process, so with it even one worker runs outside this process. `load` builds each worker's transcriber.
    A model that cannot load raises `ModelError`, from `with` or, for a replacement worker, from `transcribe`.
    """

    def __init__(
        self,
        options: TranscribeOptions,
        *,
        workers: int,
        timeout_s: float | None = None,
        load: Loader = Transcriber,
    ) -> None:
        self.workers = max(1, workers)
        self.timeout_s = timeout_s
        self._options = options if self.workers == 1 else replace(options, cpu_threads=1)
        self._load = load
        self._local: _Transcribes | None = None
        self._context = multiprocessing.get_context("spawn")  # no fork after ctranslate2/onnxruntime threads start
        self._pool: list[_Worker] = []
        self._signals: dict[int, Any] = {}

    def __enter__(self) -> TranscriberPool:
        if self.workers == 1 and self.timeout_s is None:
            self._local = self._load(self._options)
            return self
        self._signals = _exit_on_signals()
        try:
            self._pool = [self._spawn() for _ in range(self.workers)]
            for worker in self._pool:  # they load side by side; wait for each in turn
                _await_ready(worker)
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def transcribe(
        self, paths: Iterable[Path], hotwords: Sequence[str] = (), *, in_order: bool = True
    ) -> Iterator[tuple[Path, Outcome]]:
        """Yield (path, transcript or error) for every path; one bad file never stops the others.

        `paths` is read lazily, at most a few files ahead of those not yet yielded: a caller can claim each file
        (in a database) as it hands it over, so a file is never held long before a worker takes it, and finished
        transcripts do not pile up in memory. In input order by default; with `in_order=False` each as soon as it
        is done, so that a long call does not stop the other workers once they are a few files past it (with a
        3-hour call among short ones, in order took a third longer in total: they idled while it ran)."""
        words = tuple(hotwords)
        if self._local is not None:
            for path in paths:
                yield path, _attempt(self._local, path, words)
            return
        assert self._pool, "use TranscriberPool as a context manager"
        source = enumerate(paths)
        todo: deque[_Job] = deque()
        waiting: list[_Job] = []  # taken from `paths`, not yet yielded, in input order
        done: dict[int, Outcome] = {}
        while True:
            while len(waiting) < 2 * self.workers:
                item = next(source, None)
                if item is None:
                    break
                job = _Job(*item)
                todo.append(job)
                waiting.append(job)
            if not waiting:
                return
            ready = waiting[:1] if in_order else waiting
            while not any(job.index in done for job in ready):
                self._hand_out(todo, words)
                self._collect(todo, done)
            for job in [job for job in ready if job.index in done]:
                waiting.remove(job)
                yield job.path, done.pop(job.index)

    def _spawn(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(self._load, self._options, theirs), daemon=True)
        # Ctrl+C signals the whole process group; the main process stops the workers. A worker inherits an
        # ignored SIGINT from the start, so no KeyboardInterrupt traceback while it is still importing.
        main = threading.current_thread() is threading.main_thread()  # only it may set signal handlers
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            process.start()
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        theirs.close()  # the worker's end lives in the worker only: its death is then EOF on ours
        return _Worker(process, ours)

    def _hand_out(self, todo: deque[_Job], words: tuple[str, ...]) -> None:
        for worker in self._pool:
            if worker.job is not None or not todo:
                continue
            job = todo.popleft()
            job.tries += 1
            worker.job = job
            worker.deadline = time.monotonic() + self.timeout_s if self.timeout_s else float("inf")
            try:
                worker.conn.send((job.path, words))
            except OSError:  # died while idle: _collect reads EOF and replaces it; the file was not tried
                job.tries -= 1

    def _collect(self, todo: deque[_Job], done: dict[int, Outcome]) -> None:
        busy = [worker for worker in self._pool if worker.job is not None]
        assert busy, "nothing in flight while a file is awaited"
        deadline = min(worker.deadline for worker in busy)
        timeout = None if deadline == float("inf") else max(0.0, deadline - time.monotonic())
        ready = wait([worker.conn for worker in busy], timeout)
        for worker in busy:
            job = worker.job
            assert job is not None
            if worker.conn in ready:
                try:
                    done[job.index] = worker.conn.recv()
                    worker.job = None
                    continue
                except (EOFError, OSError):
                    outcome = self._lost(worker, job, died=True)
            elif time.monotonic() >= worker.deadline:
                outcome = self._lost(worker, job, died=False)
            else:
                continue
            if outcome is None:
                todo.appendleft(job)
            else:
                done[job.index] = outcome

    def _lost(self, worker: _Worker, job: _Job, *, died: bool) -> AudioError | None:
        """Replace a dead or overdue worker; its file's error, or None to try the file again."""
        _end(worker)
        replacement = self._spawn()
        self._pool[self._pool.index(worker)] = replacement
        _await_ready(replacement)
        if not died:
            return AudioError(str(job.path), f"transcription took longer than {self.timeout_s:g} s and was stopped")
        if job.tries < _TRIES:
            return None
        return AudioError(str(job.path), f"transcription worker died ({_death(worker.process)}); retried once")

    def _stop(self) -> None:
        for number in self._signals:  # a second Ctrl+C must not cut the cleanup short
            signal.signal(number, _ignore)
        for worker in self._pool:
            _end(worker)
        self._pool = []
        for number, handler in self._signals.items():
            signal.signal(number, handler)
        self._signals = {}


def _await_ready(worker: _Worker) -> None:
    """The model loads before any file is handed out, so a model that cannot load is one error, not one per file."""
    if not worker.conn.poll(_READY_TIMEOUT_S):
        raise ModelError(f"transcription worker did not load the model within {_READY_TIMEOUT_S} s")
    try:
        problem = worker.conn.recv()
    except (EOFError, OSError):
        # Retrying would only repeat it (often memory: each worker holds its own model); no respawn loop.
        raise ModelError(f"transcription worker died while loading the model ({_death(worker.process)})") from None
    if problem is not None:
        raise problem


def _end(worker: _Worker) -> None:
    worker.conn.close()  # an idle worker reads EOF and exits by itself
    worker.process.terminate()
    worker.process.join(_STOP_GRACE_S)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join()


def _death(process: BaseProcess) -> str:
    process.join(_STOP_GRACE_S)
    code = process.exitcode
    return f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"


def _exit_on_signals() -> dict[int, Any]:
    """Turn SIGTERM/SIGINT into SystemExit(128 + signal) so that the workers are stopped: the default action
    skips all cleanup and leaves them running. Returns the handlers to restore."""
    if threading.current_thread() is not threading.main_thread():
        return {}  # handlers can only be set from the main thread
    return {number: signal.signal(number, _raise_exit) for number in _EXIT_SIGNALS}


def _raise_exit(number: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + number)


def _ignore(number: int, frame: FrameType | None) -> None:
    """A Python-level 'ignore': unlike SIG_IGN, a worker started meanwhile does not inherit it."""


def _attempt(transcriber: _Transcribes, path: Path, hotwords: tuple[str, ...]) -> Outcome:
    try:
        return transcriber.transcribe(path, hotwords=hotwords)
    except TranscribeError as exc:
        return exc
    except Exception as exc:  # a bug or an input nobody foresaw: one file's line, never the whole night's batch
        return AudioError(str(path), f"unexpected error, please report it: {one_line(exc)}")


def _serve(load: Loader, options: TranscribeOptions, conn: Connection) -> None:
    """A worker process: load the model once, report, then transcribe one file per message until EOF."""
    # faster-whisper's tqdm would make a named semaphore in each worker, which a killed worker leaves to the
    # resource tracker's "leaked semaphore" warning. It shows no bar here and shares nothing: a thread lock does.
    tqdm.set_lock(threading.RLock())
    try:
        transcriber = load(options)
    except TranscribeError as exc:
        conn.send(exc)
        return
    except Exception as exc:
        conn.send(ModelError(f"transcription worker failed to start: {one_line(exc)}"))
        return
    try:
        conn.send(None)
        while True:
            path, hotwords = conn.recv()
            conn.send(_attempt(transcriber, path, hotwords))
    except (EOFError, OSError):  # the main process is done or gone: nobody to answer
        return
