"""Keyword-only functions on a session: registering found audio, claiming a call, recording what became of it.

None of them commits: the caller decides the transaction (`with sessions.begin() as session:`), so that a call's
transcript, scorecard, findings and job status land together or not at all.

Exactly-once lives here, never in a queue: a call is claimed atomically before any work on it (PostgreSQL
`SELECT … FOR UPDATE SKIP LOCKED`; SQLite a compare-and-set `UPDATE` whose row count says who won), claims expire
so a dead claimer's calls are taken over, and unique keys (audio hash; call + transcription version; transcript +
phrasebook version) make a second recording of the same result a no-op.
"""

from __future__ import annotations

import enum
import hashlib
import os
import socket
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.ingest import CallMetadata
from api.services.audit import append_event
from api.services.versions import Versions
from api.store.models import (
    AudioState,
    Call,
    CallFile,
    FindingRow,
    Job,
    JobStatus,
    ScorecardRow,
    TranscriptRow,
    utcnow,
)
from scoring import Scorecard
from transcribe import Transcript

MAX_ATTEMPTS = 3  # failures before a call is quarantined (skipped until --retry-failed)
DIED_WITH_THE_CALL = "the process working on this call died or stopped renewing its claim"
LEASE_S = 600.0  # a claim's life; the batch renews its claims well before that while it lives
MAX_ERROR_CHARS = 500
_HASH_CHUNK = 1 << 20
_IN_CHUNK = 500  # ids per IN (…): far below every database's bound-parameter limit


class Plan(enum.StrEnum):
    DONE = "done"  # a scorecard for the current versions exists
    RESCORE = "rescore"  # a transcript for the current transcription version exists; the phrasebooks changed
    TRANSCRIBE = "transcribe"
    QUARANTINED = "quarantined"


# --- finding and registering ---------------------------------------------------------------------------------


def audio_digest(path: Path) -> tuple[str, int]:
    """(SHA-256 hex, size) of a file, read in chunks: a 3-hour WAV is never held whole."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def register_file(
    session: Session, *, path: str, sha256: str, size: int, metadata: CallMetadata, cti: dict[str, Any] | None
) -> int:
    """The call's id, creating the call, its job and the path record as needed. The same audio found again
    (copied, renamed) is the same call; a path that held other audio before marks that call's file changed."""
    insert = _insert(session)
    fields = metadata.model_dump(exclude_none=True)
    created = session.scalar(
        insert(Call)
        .values(sha256=sha256, size=size, cti=cti, **fields)
        .on_conflict_do_nothing(index_elements=["sha256"])
        .returning(Call.id)
    )
    call_id = session.scalars(select(Call.id).where(Call.sha256 == sha256)).one()
    if created is not None:
        append_event(
            session,
            actor=worker_name(),
            action="call.ingest",
            object_type="call",
            object_id=call_id,
            call_id=call_id,
            after={"sha256": sha256, "size": size, "path": path},
        )
    # Metadata given now (a sidecar added later, a pattern configured since) completes what was stored.
    values: dict[str, Any] = {**fields, "audio_state": AudioState.OK}
    if cti is not None:
        values["cti"] = cti
    session.execute(update(Call).where(Call.id == call_id).values(**values))
    _path_now_holds(session, path=path, call_id=call_id)
    now = utcnow()
    session.execute(
        insert(CallFile)
        .values(call_id=call_id, path=path, present=True, first_seen=now, last_seen=now)
        .on_conflict_do_update(index_elements=["call_id", "path"], set_={"present": True, "last_seen": now})
    )
    session.execute(insert(Job).values(call_id=call_id).on_conflict_do_nothing(index_elements=["call_id"]))
    return call_id


def _path_now_holds(session: Session, *, path: str, call_id: int) -> None:
    stale = session.scalars(
        select(CallFile).where(CallFile.path == path, CallFile.call_id != call_id, CallFile.present.is_(True))
    ).all()
    for row in stale:
        row.present = False
        _refresh_audio_state(session, call_id=row.call_id, gone=AudioState.CHANGED)
    session.flush()


def _refresh_audio_state(session: Session, *, call_id: int, gone: AudioState) -> None:
    session.flush()
    present = session.scalar(
        select(func.count()).select_from(CallFile).where(CallFile.call_id == call_id, CallFile.present.is_(True))
    )
    state = AudioState.OK if present else gone
    session.execute(update(Call).where(Call.id == call_id).values(audio_state=state))


def check_audio(session: Session, *, call_id: int) -> tuple[str | None, AudioState]:
    """(a path holding the call's audio now, the call's audio state), checking every path it was found at: a
    file gone or holding other audio is never served as this call's."""
    sha256 = session.scalars(select(Call.sha256).where(Call.id == call_id)).one()
    files = session.scalars(select(CallFile).where(CallFile.call_id == call_id).order_by(CallFile.id)).all()
    usable: str | None = None
    changed = False
    for row in files:
        try:
            digest, _ = audio_digest(Path(row.path))
        except OSError:
            digest = None
        row.present = digest == sha256
        changed |= digest is not None and digest != sha256
        usable = usable or (row.path if row.present else None)
    state = AudioState.OK if usable else AudioState.CHANGED if changed else AudioState.MISSING
    session.execute(update(Call).where(Call.id == call_id).values(audio_state=state))
    return usable, state


def plan_calls(
    session: Session, *, call_ids: Iterable[int], versions: Versions, retry_failed: bool = False
) -> dict[int, Plan]:
    """What each call needs for the current versions (a snapshot: `claim_call` and `plan_call` decide for real)."""
    plans: dict[int, Plan] = {}
    ids = sorted(set(call_ids))
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        scored = set(session.scalars(_scored(versions).where(TranscriptRow.call_id.in_(chunk))))
        transcribed = set(session.scalars(_transcribed(versions).where(TranscriptRow.call_id.in_(chunk))))
        quarantined = set(
            session.scalars(select(Job.call_id).where(Job.call_id.in_(chunk), Job.status == JobStatus.QUARANTINED))
        )
        for call_id in chunk:
            if call_id in scored:
                plans[call_id] = Plan.DONE
            elif call_id in quarantined and not retry_failed:
                plans[call_id] = Plan.QUARANTINED
            else:
                plans[call_id] = Plan.RESCORE if call_id in transcribed else Plan.TRANSCRIBE
    return plans


def plan_call(session: Session, *, call_id: int, versions: Versions) -> Plan:
    """What a call needs now; run after claiming it, so that a call another worker just finished is not redone."""
    if session.scalar(_scored(versions).where(TranscriptRow.call_id == call_id)) is not None:
        return Plan.DONE
    if session.scalar(_transcribed(versions).where(TranscriptRow.call_id == call_id)) is not None:
        return Plan.RESCORE
    return Plan.TRANSCRIBE


def _scored(versions: Versions) -> Any:
    return (
        select(TranscriptRow.call_id)
        .join(ScorecardRow, ScorecardRow.transcript_id == TranscriptRow.id)
        .where(TranscriptRow.version == versions.transcription, ScorecardRow.phrasebook_version == versions.phrasebook)
    )


def _transcribed(versions: Versions) -> Any:
    return select(TranscriptRow.call_id).where(TranscriptRow.version == versions.transcription)


def stored_transcript(session: Session, *, call_id: int, versions: Versions) -> Transcript:
    body = session.scalars(
        select(TranscriptRow.body).where(
            TranscriptRow.call_id == call_id, TranscriptRow.version == versions.transcription
        )
    ).one()
    return Transcript.from_dict(body)


# --- claiming ------------------------------------------------------------------------------------------------


def worker_name() -> str:
    """host/pid/start: on this host, a claim whose process is gone (or whose pid was reused) is known dead."""
    return f"{socket.gethostname()}/{os.getpid()}/{_start_ticks(os.getpid())}"


def _start_ticks(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the parenthesised command name


def _alive(name: str) -> bool:
    host, _, rest = name.partition("/")
    pid_text, _, ticks = rest.partition("/")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine's: only its lease can tell
    pid = int(pid_text)
    if ticks != "?":
        return _start_ticks(pid) == ticks
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_call(
    session: Session,
    *,
    call_id: int,
    worker: str,
    retry_failed: bool = False,
    lease_s: float = LEASE_S,
    now: datetime | None = None,
) -> bool:
    """Take the call for `worker` if nobody holds it (or the holder's lease ran out); True when taken. A done call
    can be taken too: the versions may have changed since; `plan_call` then says what is left to do."""
    now = now or utcnow()
    free = [JobStatus.PENDING, JobStatus.FAILED, JobStatus.DONE]
    if retry_failed:
        free.append(JobStatus.QUARANTINED)
    claimable = (Job.call_id == call_id) & or_(
        Job.status.in_(free), (Job.status == JobStatus.RUNNING) & (Job.claimed_until < now)
    )
    taken = {
        "status": JobStatus.RUNNING,
        "worker": worker,
        "claimed_until": now + timedelta(seconds=lease_s),
        # Taking over a lapsed claim means the attempt before died with the call in hand: it counts.
        "attempts": Job.attempts + case((Job.status == JobStatus.RUNNING, 1), else_=0),
    }
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.scalar(select(Job.id).where(claimable).with_for_update(skip_locked=True))
        if job_id is None:
            return False
        session.execute(update(Job).where(Job.id == job_id).values(started_at=now, **taken))
        return True
    result: Any = session.execute(update(Job).where(claimable).values(started_at=now, **taken))
    return bool(result.rowcount == 1)


def renew_claims(session: Session, *, worker: str, lease_s: float = LEASE_S) -> int:
    """Extend every claim `worker` holds; a batch calls it while it works, so only a dead batch's claims expire."""
    until = utcnow() + timedelta(seconds=lease_s)
    held = (Job.worker == worker) & (Job.status == JobStatus.RUNNING)
    result: Any = session.execute(update(Job).where(held).values(claimed_until=until))
    return int(result.rowcount)


def release_dead_claims(session: Session, *, alive: Callable[[str], bool] = _alive, now: datetime | None = None) -> int:
    """Hand back the claims of processes on this host that are gone (a batch or worker killed with -9) and the
    claims whose lease ran out (a process elsewhere that died): a rerun takes those calls at once. Each counts
    as a failed attempt, so a file that kills whatever works on it is quarantined after three, not retried for
    ever."""
    now = now or utcnow()
    running = Job.status == JobStatus.RUNNING
    holders = set(session.scalars(select(Job.worker).where(running, Job.worker.is_not(None))))
    dead = [holder for holder in holders if holder is not None and not alive(holder)]
    lapsed = running & (or_(Job.worker.in_(dead), Job.claimed_until < now) if dead else (Job.claimed_until < now))
    status = case((Job.attempts + 1 >= MAX_ATTEMPTS, JobStatus.QUARANTINED.value), else_=JobStatus.FAILED.value)
    result: Any = session.execute(
        update(Job)
        .where(lapsed)
        .values(
            status=status,
            attempts=Job.attempts + 1,
            last_error=DIED_WITH_THE_CALL,
            worker=None,
            claimed_until=None,
            finished_at=now,
        )
    )
    return int(result.rowcount)


def release_claims(session: Session, *, worker: str) -> int:
    """A stopping batch hands back every call it claimed but did not finish."""
    held = (Job.worker == worker) & (Job.status == JobStatus.RUNNING)
    result: Any = session.execute(
        update(Job).where(held).values(status=JobStatus.PENDING, worker=None, claimed_until=None)
    )
    return int(result.rowcount)


def release_claim(session: Session, *, call_id: int, worker: str, status: JobStatus) -> None:
    """Give a claimed call back unworked (already done by someone else, or the batch is stopping)."""
    held = (Job.call_id == call_id) & (Job.worker == worker) & (Job.status == JobStatus.RUNNING)
    session.execute(update(Job).where(held).values(status=status, worker=None, claimed_until=None))


# --- recording -----------------------------------------------------------------------------------------------


def record_result(
    session: Session,
    *,
    call_id: int,
    worker: str,
    versions: Versions,
    card: Scorecard,
    transcript: Transcript | None = None,
) -> None:
    """Store the call's transcript (unless `None`: re-scored from the stored one), scorecard and findings, and
    mark it done. Recording the same result twice stores it once."""
    insert = _insert(session)
    if transcript is not None:
        session.execute(
            insert(TranscriptRow)
            .values(call_id=call_id, version=versions.transcription, body=transcript.to_dict(), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["call_id", "version"])
        )
        session.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(duration=transcript.duration, channels=transcript.channel_count, sample_rate=transcript.sample_rate)
        )
    transcript_id = session.scalars(
        select(TranscriptRow.id).where(
            TranscriptRow.call_id == call_id, TranscriptRow.version == versions.transcription
        )
    ).one()
    inserted: Any = session.execute(
        insert(ScorecardRow)
        .values(
            transcript_id=transcript_id,
            phrasebook_version=versions.phrasebook,
            score=card.score,
            passed=card.passed,
            needs_review=card.needs_review,
            hangup_by=card.hangup.by,
            hangup=card.hangup.to_dict(),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["transcript_id", "phrasebook_version"])
        .returning(ScorecardRow.id)
    )
    scorecard_id = inserted.scalar()
    if scorecard_id is not None:  # None: someone recorded this scorecard first, with its findings
        session.add_all(_finding_rows(scorecard_id, card))
        append_event(
            session,
            actor=worker,
            action="call.score" if transcript is not None else "call.rescore",
            object_type="call",
            object_id=call_id,
            call_id=call_id,
            after={
                "versions": [versions.transcription, versions.phrasebook],
                "score": card.score,
                "passed": card.passed,
                "needs_review": card.needs_review,
            },
        )
    _finish(
        session, call_id=call_id, worker=worker, values={"status": JobStatus.DONE, "attempts": 0, "last_error": None}
    )


def _finding_rows(scorecard_id: int, card: Scorecard) -> list[FindingRow]:
    return [
        FindingRow(
            scorecard_id=scorecard_id,
            rule_id=f.rule_id,
            category=f.category.value,
            verdict=f.verdict.value,
            severity=f.severity.value,
            start=f.start,
            end=f.end,
            evidence=f.evidence,
            source=f.source,
            message=f.message,
            points=f.points,
        )
        for f in card.findings
    ]


def record_failure(session: Session, *, call_id: int, worker: str, error: str) -> JobStatus:
    """Count a failed attempt with its one-line reason; the third in a row quarantines the call."""
    reason = " ".join(error.split())[:MAX_ERROR_CHARS]  # one line, whatever the error said
    status = case((Job.attempts + 1 >= MAX_ATTEMPTS, JobStatus.QUARANTINED.value), else_=JobStatus.FAILED.value)
    _finish(
        session,
        call_id=call_id,
        worker=worker,
        values={"status": status, "attempts": Job.attempts + 1, "last_error": reason},
    )
    return JobStatus(session.scalars(select(Job.status).where(Job.call_id == call_id)).one())


def _finish(session: Session, *, call_id: int, worker: str, values: dict[str, Any]) -> None:
    # Only the holder's claim: a claimer whose lease ran out and was taken over must not overwrite the new one.
    held = (Job.call_id == call_id) & (Job.worker == worker)
    session.execute(update(Job).where(held).values(worker=None, claimed_until=None, finished_at=utcnow(), **values))


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
