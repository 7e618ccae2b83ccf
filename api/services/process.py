"""One call, start to finish: claim, transcribe (or reuse the stored transcript), score, record.

`process_call` is the whole of it for a caller with a transcriber in hand (a Celery task); the local batch runs
the same steps, with transcription in its process pool between `start_call` and `finish_call`. Every step is
safe to repeat: a redelivered or duplicated call finds itself done (or claimed) and does nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.services.calls import (
    Plan,
    check_audio,
    claim_call,
    plan_call,
    record_failure,
    record_result,
    release_claim,
    stored_transcript,
)
from api.services.peaks import PeaksError, compute_peaks, store_peaks
from api.services.versions import Versions
from api.store.models import Call, JobStatus
from scoring import Phrasebook, Scorecard, score
from transcribe import Role, TranscribeError, Transcript, one_line


class Outcome(enum.StrEnum):
    ALREADY_DONE = "already done"
    CLAIMED_ELSEWHERE = "claimed elsewhere"
    SCORED = "scored"
    RESCORED = "re-scored only"
    FAILED = "failed"
    QUARANTINED = "quarantined"


class Transcribes(Protocol):
    def transcribe(self, path: str | Path, hotwords: Sequence[str] = ()) -> Transcript: ...


@dataclass(frozen=True)
class Work:
    """A claimed call and what it needs."""

    call_id: int
    plan: Plan
    hangup_by: str | None


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    card: Scorecard | None = None
    error: str | None = None
    duration: float = 0.0  # seconds of audio transcribed or re-scored


def start_call(
    sessions: sessionmaker[Session], *, call_id: int, versions: Versions, worker_name: str, retry_failed: bool = False
) -> Work | Outcome:
    """Claim the call; what it needs, or why there is nothing to do (done meanwhile, or held by another)."""
    with sessions.begin() as session:
        if not claim_call(session, call_id=call_id, worker=worker_name, retry_failed=retry_failed):
            return Outcome.CLAIMED_ELSEWHERE
    with sessions.begin() as session:
        plan = plan_call(session, call_id=call_id, versions=versions)
        if plan == Plan.DONE:
            release_claim(session, call_id=call_id, worker=worker_name, status=JobStatus.DONE)
            return Outcome.ALREADY_DONE
        hangup_by = session.scalars(select(Call.hangup_by).where(Call.id == call_id)).one()
    return Work(call_id, plan, hangup_by)


def finish_call(
    sessions: sessionmaker[Session],
    *,
    work: Work,
    book: Phrasebook,
    versions: Versions,
    worker_name: str,
    transcribed: Transcript | TranscribeError | None = None,
) -> Result:
    """Score and record a claimed call in one transaction; `transcribed` is None to re-score the stored
    transcript. A failure is recorded with its one-line reason (the third quarantines the call)."""
    transcript = transcribed
    if transcript is None:
        with sessions() as session:
            transcript = stored_transcript(session, call_id=work.call_id, versions=versions)
    if isinstance(transcript, TranscribeError):
        return fail_call(sessions, call_id=work.call_id, worker_name=worker_name, error=str(transcript))
    card = score_or_reason(transcript, book, hangup_by=_role(work.hangup_by))
    if isinstance(card, str):
        return fail_call(sessions, call_id=work.call_id, worker_name=worker_name, error=card)
    with sessions.begin() as session:
        record_result(
            session,
            call_id=work.call_id,
            worker=worker_name,
            versions=versions,
            card=card,
            transcript=transcript if transcribed is not None else None,
        )
    if transcribed is not None:
        _store_peaks(sessions, call_id=work.call_id)
    outcome = Outcome.SCORED if transcribed is not None else Outcome.RESCORED
    return Result(outcome, card=card, duration=transcript.duration)


def score_or_reason(transcript: Transcript, book: Phrasebook, *, hangup_by: Role | None) -> Scorecard | str:
    """The call's scorecard, or one line saying why there is none (`callqa score` prints it, a worker records it)."""
    try:
        return score(transcript, book, hangup_by=hangup_by)
    except Exception as exc:  # a transcript no validation foresaw must cost only its own call, not the batch
        return f"could not be scored ({one_line(exc)})"


def _store_peaks(sessions: sessionmaker[Session], *, call_id: int) -> None:
    """The player's waveform, while the audio is at hand (~0.2 s per minute of MP3). A failure costs nothing
    but the precomputation: the call page computes them on first view instead."""
    with sessions.begin() as session:
        path, _ = check_audio(session, call_id=call_id)
    if path is None:
        return
    try:
        peaks = compute_peaks(path)
    except PeaksError:
        return
    with sessions.begin() as session:
        store_peaks(session, call_id=call_id, peaks=peaks)


def fail_call(sessions: sessionmaker[Session], *, call_id: int, worker_name: str, error: str) -> Result:
    with sessions.begin() as session:
        status = record_failure(session, call_id=call_id, worker=worker_name, error=error)
    outcome = Outcome.QUARANTINED if status == JobStatus.QUARANTINED else Outcome.FAILED
    return Result(outcome, error=" ".join(error.split()))


def process_call(
    sessions: sessionmaker[Session],
    *,
    call_id: int,
    transcriber: Transcribes,
    book: Phrasebook,
    versions: Versions,
    worker_name: str,
    retry_failed: bool = False,
) -> Result:
    """The whole of one call's processing; idempotent (a Celery task calls it as is, redelivered or not)."""
    work = start_call(sessions, call_id=call_id, versions=versions, worker_name=worker_name, retry_failed=retry_failed)
    if isinstance(work, Outcome):
        return Result(work)
    if work.plan == Plan.RESCORE:
        return finish_call(sessions, work=work, book=book, versions=versions, worker_name=worker_name)
    with sessions.begin() as session:
        path, state = check_audio(session, call_id=call_id)
    if path is None:
        return fail_call(sessions, call_id=call_id, worker_name=worker_name, error=f"audio {state}: no file holds it")
    try:
        transcribed: Transcript | TranscribeError = transcriber.transcribe(path)
    except TranscribeError as exc:
        transcribed = exc
    return finish_call(
        sessions, work=work, book=book, versions=versions, worker_name=worker_name, transcribed=transcribed
    )


def _role(value: str | None) -> Role | None:
    return "agent" if value == "agent" else "client" if value == "client" else None
