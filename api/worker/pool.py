"""Many files on one machine: one single-threaded Whisper per worker process, files handed out in order.

One single-thread worker per core was measured faster than one worker using all cores (CTranslate2 scales
poorly across threads for the small base model). Beyond one machine, Celery workers take this role.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from multiprocessing.synchronize import Barrier
from pathlib import Path
from types import TracebackType

from transcribe.errors import AudioError, ModelError, TranscribeError, one_line
from transcribe.options import TranscribeOptions
from transcribe.transcriber import Transcriber
from transcribe.types import Transcript

Outcome = Transcript | TranscribeError
_READY_TIMEOUT_S = 600

_worker: Transcriber | None = None
_worker_error: TranscribeError | None = None


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


class TranscriberPool:
    """`with TranscriberPool(options, workers=2) as pool:` returns once every worker has loaded the model."""

    def __init__(self, options: TranscribeOptions, *, workers: int) -> None:
        self.workers = max(1, workers)
        self._options = options if self.workers == 1 else replace(options, cpu_threads=1)
        self._local: Transcriber | None = None
        self._pool: multiprocessing.pool.Pool | None = None

    def __enter__(self) -> TranscriberPool:
        if self.workers == 1:
            self._local = Transcriber(self._options)
            return self
        context = multiprocessing.get_context("spawn")  # no fork after ctranslate2/onnxruntime threads start
        ready = context.Barrier(self.workers + 1)
        self._pool = context.Pool(self.workers, initializer=_init_worker, initargs=(self._options, ready))
        ready.wait(_READY_TIMEOUT_S)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is None:
            return
        # Killed workers never unregister the barrier's semaphore, and at exit the resource tracker then
        # prints "leaked semaphore" warnings on the user's terminal: let them finish unless something failed.
        if exc_type is None:
            self._pool.close()
        else:
            self._pool.terminate()
        self._pool.join()

    def transcribe(self, paths: Sequence[Path], hotwords: Sequence[str] = ()) -> Iterator[tuple[Path, Outcome]]:
        """Yield (path, transcript or error) in input order; one bad file never stops the others."""
        if self._local is not None:
            for path in paths:
                yield path, _attempt(self._local, path, tuple(hotwords))
            return
        assert self._pool is not None, "use TranscriberPool as a context manager"
        jobs = [(path, tuple(hotwords)) for path in paths]
        yield from zip(paths, self._pool.imap(_run_in_worker, jobs), strict=True)


def _attempt(transcriber: Transcriber, path: Path, hotwords: tuple[str, ...]) -> Outcome:
    try:
        return transcriber.transcribe(path, hotwords=hotwords)
    except TranscribeError as exc:
        return exc
    except Exception as exc:  # a bug or an input nobody foresaw: one file's line, never the whole night's batch
        return AudioError(str(path), f"unexpected error, please report it: {one_line(exc)}")


def _init_worker(options: TranscribeOptions, ready: Barrier) -> None:
    global _worker, _worker_error
    try:
        _worker = Transcriber(options)
    except TranscribeError as exc:
        _worker_error = exc
    except Exception as exc:  # an initializer that raises makes Pool respawn it forever
        _worker_error = ModelError(f"transcription worker failed to start: {one_line(exc)}")
    finally:
        ready.wait(_READY_TIMEOUT_S)


def _run_in_worker(job: tuple[Path, tuple[str, ...]]) -> Outcome:
    path, hotwords = job
    if _worker is None:
        return _worker_error or TranscribeError("transcription worker failed to start")
    return _attempt(_worker, path, hotwords)
