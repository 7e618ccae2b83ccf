"""Reading the store: the calls table and one call in full."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from api.errors import NotFound
from api.store.models import Call, CallFile, Job, JobStatus, ScorecardRow, TranscriptRow

_SHA_PREFIX = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True)
class CallSummary:
    id: int
    sha256: str
    file: str | None  # a path it was found at (the first still holding it, else the first)
    status: str
    attempts: int
    error: str | None
    score: int | None  # of the latest scorecard
    passed: bool | None
    needs_review: bool | None
    hangup_by: str | None
    duration: float | None
    audio_state: str
    transcription_version: str | None
    phrasebook_version: str | None
    top_findings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "top_findings": list(self.top_findings)}


def latest_scorecards(call_id: int | None = None) -> Any:
    query = (
        select(TranscriptRow.call_id, func.max(ScorecardRow.id).label("scorecard_id"))
        .join(ScorecardRow, ScorecardRow.transcript_id == TranscriptRow.id)
        .group_by(TranscriptRow.call_id)
    )
    if call_id is not None:  # one call: aggregate its rows only, not the whole table
        query = query.where(TranscriptRow.call_id == call_id)
    return query.subquery()


def _first_files(call_id: int | None = None) -> Any:
    # A present file first (False < True, so order by NOT present), then the earliest found.
    query = select(
        CallFile.call_id,
        CallFile.path,
        func.row_number()
        .over(partition_by=CallFile.call_id, order_by=(CallFile.present.desc(), CallFile.id))
        .label("rank"),
    )
    if call_id is not None:
        query = query.where(CallFile.call_id == call_id)
    ranked = query.subquery()
    return select(ranked.c.call_id, ranked.c.path).where(ranked.c.rank == 1).subquery()


def _summary_query(call_id: int | None = None) -> Select[Any]:
    latest = latest_scorecards(call_id)
    files = _first_files(call_id)
    return (
        select(Call, Job, ScorecardRow, TranscriptRow.version, files.c.path)
        .join(Job, Job.call_id == Call.id)
        .outerjoin(latest, latest.c.call_id == Call.id)
        .outerjoin(ScorecardRow, ScorecardRow.id == latest.c.scorecard_id)
        .outerjoin(TranscriptRow, TranscriptRow.id == ScorecardRow.transcript_id)
        .outerjoin(files, files.c.call_id == Call.id)
        .order_by(Call.id)
    )


def list_calls(
    session: Session, *, status: JobStatus | None = None, needs_review: bool = False, findings: int = 0
) -> list[CallSummary]:
    query = _summary_query()
    if status is not None:
        query = query.where(Job.status == status)
    if needs_review:
        query = query.where(ScorecardRow.needs_review.is_(True))
    if findings:
        query = query.options(selectinload(ScorecardRow.findings))
    rows = session.execute(query).all()
    return [_summary(*row, findings=findings) for row in rows]


def _summary(
    call: Call, job: Job, card: ScorecardRow | None, version: str | None, path: str | None, *, findings: int
) -> CallSummary:
    top: tuple[str, ...] = ()
    if card is not None and findings:
        failing = [f for f in card.findings if f.verdict in ("fail", "uncertain")]
        top = tuple(f"{'✗' if f.verdict == 'fail' else '?'} {f.rule_id}" for f in failing[:findings])
    return CallSummary(
        id=call.id,
        sha256=call.sha256,
        file=path,
        status=str(job.status),
        attempts=job.attempts,
        error=job.last_error,
        score=card.score if card else None,
        passed=card.passed if card else None,
        needs_review=card.needs_review if card else None,
        hangup_by=card.hangup_by if card else None,
        duration=call.duration,
        audio_state=str(call.audio_state),
        transcription_version=version,
        phrasebook_version=card.phrasebook_version if card else None,
        top_findings=top,
    )


@dataclass(frozen=True)
class CallDetail:
    summary: CallSummary
    call: Call
    files: list[CallFile]
    transcript: dict[str, Any] | None
    findings: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        metadata = {
            key: getattr(self.call, key) for key in ("agent_id", "agent_name", "branch", "direction", "hangup_by")
        }
        call_time = self.call.call_time.isoformat() if self.call.call_time else None
        return {
            **self.summary.to_dict(),
            "size": self.call.size,
            "channels": self.call.channels,
            "sample_rate": self.call.sample_rate,
            "metadata": {**metadata, "call_time": call_time},
            "cti": self.call.cti,
            "files": [{"path": f.path, "present": f.present} for f in self.files],
            "transcript": self.transcript,
            "findings": self.findings,
        }


def find_call_id(session: Session, *, key: str) -> int:
    """A call by its id, or by its SHA-256 or a unique prefix of at least 8 hex digits of it."""
    key = key.strip().lower()
    if key.isdigit() and len(key) < 12:
        found = session.scalar(select(Call.id).where(Call.id == int(key)))
    elif _SHA_PREFIX.fullmatch(key):
        ids = session.scalars(select(Call.id).where(Call.sha256.startswith(key, autoescape=True)).limit(2)).all()
        if len(ids) > 1:
            raise NotFound(f"{key}: more than one call's SHA-256 starts so; give more digits")
        found = ids[0] if ids else None
    else:
        raise NotFound(f"{key!r}: give a call id or a SHA-256 (at least 8 hex digits)")
    if found is None:
        raise NotFound(f"{key}: no such call")
    return found


def show_call(session: Session, *, call_id: int, files: bool = True) -> CallDetail:
    """One call in full; `files=False` skips the paths it was found at (the API does not show server paths)."""
    rows = session.execute(
        _summary_query(call_id).where(Call.id == call_id).options(selectinload(ScorecardRow.findings))
    ).all()
    if not rows:
        raise NotFound(f"{call_id}: no such call")
    call, job, card, version, path = rows[0]
    found = (
        list(session.scalars(select(CallFile).where(CallFile.call_id == call_id).order_by(CallFile.id)))
        if files
        else []
    )
    transcript = None
    if card is not None:
        transcript = session.scalars(select(TranscriptRow.body).where(TranscriptRow.id == card.transcript_id)).one()
    findings = [
        {
            "id": f.id,  # what a review's verdicts and an appeal's rulings refer to
            "rule_id": f.rule_id,
            "category": f.category,
            "verdict": f.verdict,
            "severity": f.severity,
            "start": f.start,
            "end": f.end,
            "evidence": f.evidence,
            "source": f.source,
            "message": f.message,
        }
        for f in (card.findings if card else [])
    ]
    return CallDetail(_summary(call, job, card, version, path, findings=5), call, found, transcript, findings)
