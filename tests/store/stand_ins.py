"""A stand-in transcriber for store tests (module level, so spawned processes can import it): it logs each file it
is asked for, so a test can count how often every call was transcribed."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from api.services.process import Result, process_call
from api.services.versions import Versions
from api.store import make_engine, make_sessionmaker
from tests.scoring.factory import book, call
from transcribe import AudioError, Transcript

TURNS = (
    ("agent", "您好,中国银河证券,请问有什么可以帮您?"),
    ("client", "我想查账户。"),
    ("agent", "感谢您的来电,再见!"),
)


class LoggingTranscriber:
    def __init__(self, log: Path, delay_s: float = 0.0) -> None:
        self.log, self.delay_s = log, delay_s

    def transcribe(self, path: str | Path, hotwords: Sequence[str] = ()) -> Transcript:
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{Path(path).name}\n".encode())  # one write under O_APPEND: lines never interleave
        finally:
            os.close(fd)
        time.sleep(self.delay_s)
        if Path(path).name.startswith("poison"):
            raise AudioError(str(path), "not a readable audio file (stand-in)")
        transcript = call(*TURNS)
        return Transcript(**{**transcript.__dict__, "source": str(path)})


def process_all(url: str, call_ids: list[int], log: str, versions: Versions, worker: str) -> list[str]:
    """One competing worker: process every call it can get (in a process of its own)."""
    sessions: sessionmaker[Session] = make_sessionmaker(make_engine(url))
    transcriber = LoggingTranscriber(Path(log), delay_s=0.01)
    outcomes: list[str] = []
    for call_id in call_ids:
        result: Result = process_call(
            sessions, call_id=call_id, transcriber=transcriber, book=book(), versions=versions, worker_name=worker
        )
        outcomes.append(str(result.outcome))
    return outcomes
