"""The local processing of uploads in `callqa serve`: one background thread feeds uploaded calls, one at a time,
through the same steps as `callqa batch` (`process_call`), transcribing in the local process pool."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from api.services.calls import worker_name
from api.services.process import Transcribes, process_call
from api.services.versions import Versions
from api.worker.pool import TranscriberPool
from scoring import Phrasebook
from transcribe import TranscribeError, TranscribeOptions, Transcript

log = logging.getLogger("callqa.worker")


class Processor(Protocol):
    def submit(self, call_id: int) -> None: ...


class PoolTranscriber:
    """The process pool behind the one-file `transcribe` that `process_call` expects."""

    def __init__(self, pool: TranscriberPool) -> None:
        self.pool = pool

    def transcribe(self, path: str | Path, hotwords: Sequence[str] = ()) -> Transcript:
        for _, outcome in self.pool.transcribe([Path(path)], hotwords):
            if isinstance(outcome, TranscribeError):
                raise outcome
            return outcome
        raise RuntimeError("the pool returned nothing")


def pool_transcriber(options: TranscribeOptions, workers: int) -> Callable[[], AbstractContextManager[Transcribes]]:
    @contextmanager
    def opened() -> Iterator[Transcribes]:
        with TranscriberPool(options, workers=workers) as pool:
            yield PoolTranscriber(pool)

    return opened


class LocalProcessor:
    """Opens its transcriber at the first upload (the model loads then, not when the server starts) and keeps it
    until `stop`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        transcriber: Callable[[], AbstractContextManager[Transcribes]],
        book: Phrasebook,
        versions: Versions,
    ) -> None:
        self.sessions, self.open_transcriber, self.book, self.versions = sessions, transcriber, book, versions
        self.todo: queue.Queue[int | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="callqa-uploads", daemon=True)
        self.thread.start()

    def submit(self, call_id: int) -> None:
        self.todo.put(call_id)

    def stop(self) -> None:
        self.todo.put(None)
        self.thread.join(timeout=60)

    def _run(self) -> None:
        call_id = self.todo.get()
        if call_id is None:
            return
        try:
            with self.open_transcriber() as transcriber:
                name = worker_name()
                while call_id is not None:
                    self._process(call_id, transcriber, name)
                    call_id = self.todo.get()
        except Exception:  # e.g. the model cannot load: the uploads stay pending for a batch or a restart
            log.exception("the transcriber could not start; uploads stay pending")

    def _process(self, call_id: int, transcriber: Transcribes, name: str) -> None:
        try:
            result = process_call(
                self.sessions,
                call_id=call_id,
                transcriber=transcriber,
                book=self.book,
                versions=self.versions,
                worker_name=name,
            )
            log.info("call %s: %s", call_id, result.outcome)
        except Exception:  # one call's surprise must not stop the uploads after it
            log.exception("call %s: processing failed", call_id)
