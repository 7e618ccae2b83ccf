"""The store of record: calls (one per audio SHA-256), where they were found, transcripts per transcription
version, scorecards per phrasebook version, findings, and the processing job of each call.

Relationships load nothing by themselves (`lazy="raise"`): a query says what it needs (`selectinload`), so a list
of a night's calls never turns into one query per row. Reviews, appeals, users, audit events and tags (later
issues) will hang off `calls.id` and `findings.id`, which stay stable: results are added, never rewritten.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so that migrations can drop and alter them by name on every database (SQLite has no names
# of its own for batch mode to find).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class AudioState(enum.StrEnum):
    OK = "ok"
    MISSING = "missing"  # no path it was found at holds a file any more
    CHANGED = "changed"  # the files at its paths now hold other audio


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    QUARANTINED = "quarantined"


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    duration: Mapped[float | None]
    channels: Mapped[int | None]
    sample_rate: Mapped[int | None]
    agent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    agent_name: Mapped[str | None] = mapped_column(String(200))
    branch: Mapped[str | None] = mapped_column(String(200), index=True)
    call_time: Mapped[datetime | None] = mapped_column(index=True)
    direction: Mapped[str | None] = mapped_column(String(20))
    hangup_by: Mapped[str | None] = mapped_column(String(20))  # from CTI; the scorecard says who it found
    cti: Mapped[dict[str, Any] | None]  # the sidecar as given, for fields callqa does not interpret
    audio_state: Mapped[AudioState] = mapped_column(String(20), default=AudioState.OK)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    files: Mapped[list[CallFile]] = relationship(back_populates="call", lazy="raise", order_by="CallFile.id")
    transcripts: Mapped[list[TranscriptRow]] = relationship(back_populates="call", lazy="raise")
    job: Mapped[Job | None] = relationship(back_populates="call", lazy="raise")


class CallFile(Base):
    """Every path a call's audio was found at (recordings stay where the recorder put them)."""

    __tablename__ = "call_files"
    __table_args__ = (UniqueConstraint("call_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    present: Mapped[bool] = mapped_column(default=True)  # False once the file there is gone or holds other audio
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[Call] = relationship(back_populates="files", lazy="raise")


Index("ix_call_files_path", CallFile.path)


class TranscriptRow(Base):
    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("call_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))  # transcription version: model + options that change text
    body: Mapped[dict[str, Any]]  # `Transcript.to_dict()`
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[Call] = relationship(back_populates="transcripts", lazy="raise")
    scorecards: Mapped[list[ScorecardRow]] = relationship(back_populates="transcript", lazy="raise")


class ScorecardRow(Base):
    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("transcript_id", "phrasebook_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    phrasebook_version: Mapped[str] = mapped_column(String(64))
    score: Mapped[int]
    passed: Mapped[bool]
    needs_review: Mapped[bool] = mapped_column(index=True)
    hangup_by: Mapped[str] = mapped_column(String(20))
    hangup: Mapped[dict[str, Any]]  # by, source, confidence
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    transcript: Mapped[TranscriptRow] = relationship(back_populates="scorecards", lazy="raise")
    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="scorecard", lazy="raise", order_by="FindingRow.id", cascade="all, delete-orphan"
    )


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(50))
    verdict: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    start: Mapped[float | None]
    end: Mapped[float | None]
    evidence: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    points: Mapped[int]

    scorecard: Mapped[ScorecardRow] = relationship(back_populates="findings", lazy="raise")


class Job(Base):
    """The processing state of one call: who holds it and until when, how often it failed and why."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    status: Mapped[JobStatus] = mapped_column(String(20), default=JobStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)  # failures since the last success or --retry-failed
    last_error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    call: Mapped[Call] = relationship(back_populates="job", lazy="raise")


# --- the review service: users, keys, reviews, appeals, audit --------------------------------------------------


class UserRole(enum.StrEnum):
    AGENT = "agent"  # sees and appeals only their own calls
    SUPERVISOR = "supervisor"  # queue, claim, review (optionally limited to branches)
    SENIOR_SUPERVISOR = "senior_supervisor"  # also rules on appeals and takes over others' leases
    TRAINER = "trainer"  # reads calls, never decides
    ADMIN = "admin"  # users only


class ReviewState(enum.StrEnum):
    NOT_NEEDED = "not_needed"  # passed and not sampled: kept so that the queue never looks at it again
    QUEUED = "queued"
    CLAIMED = "claimed"  # see lease_until: an expired lease is queued again
    REVIEWED = "reviewed"
    APPEALED = "appealed"
    RULED = "ruled"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('agent', 'supervisor', 'senior_supervisor', 'trainer', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[UserRole] = mapped_column(String(30))
    agent_id: Mapped[str | None] = mapped_column(String(200), index=True)  # the calls' agent_id this person is
    branches: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every branch
    password_hash: Mapped[str | None] = mapped_column(String(300))  # None: API keys only
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """Only the SHA-256 of a key is stored (keys are 256 random bits, so a slow hash adds nothing); the prefix
    lets a person tell their keys apart."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    revoked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    """A call's place in the review workflow; `version` counts its changes so that a stale write is refused."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"), index=True)
    state: Mapped[ReviewState] = mapped_column(String(20), index=True)
    sampled: Mapped[bool] = mapped_column(default=False)
    fatal: Mapped[bool] = mapped_column(default=False)  # a fatal finding failed: first in the queue
    score: Mapped[int]
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_holder: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lease_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    decision: Mapped[str | None] = mapped_column(String(10))  # pass / fail, once reviewed
    reviewed_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    # Why a decided call came back to the queue (a re-score changed the machine's findings); the last such reason.
    requeue_reason: Mapped[str | None] = mapped_column(Text)


Index("ix_reviews_queue", Review.state, Review.fatal, Review.score, Review.queued_at)
# What a claim walks (`claim_next`): open reviews in queue order, the fatal ones apart, and by waiting time for the
# aging; partial, so the reviewed and not-needed majority of a year's calls is not in them.
# Literal values, not bound parameters: the planner matches a query to a partial index only by constants, and a
# bound IN list is re-rendered at every execution.
OPEN_REVIEW = Review.state.in_([literal_column("'queued'"), literal_column("'claimed'")])
_OPEN = Review.state.in_(("queued", "claimed"))
Index("ix_reviews_claim", Review.score, Review.queued_at, Review.id, postgresql_where=_OPEN, sqlite_where=_OPEN)
Index(
    "ix_reviews_claim_fatal",
    Review.score,
    Review.queued_at,
    Review.id,
    postgresql_where=_OPEN & Review.fatal,
    sqlite_where=_OPEN & Review.fatal,
)
Index("ix_reviews_claim_since", Review.queued_at, postgresql_where=_OPEN, sqlite_where=_OPEN)


class ReviewDecision(Base):
    """One submitted review; the machine's findings stay as they were, the human verdicts stand beside them."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The machine findings this decision was about (a re-score adds a newer scorecard; the old one stays).
    scorecard_id: Mapped[int | None] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FindingVerdict(Base):
    __tablename__ = "finding_verdicts"
    __table_args__ = (UniqueConstraint("decision_id", "finding_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("review_decisions.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    verdict: Mapped[str] = mapped_column(String(10))  # confirm / reject
    reason: Mapped[str] = mapped_column(Text, default="")


class AddedFinding(Base):
    """A finding the machine missed, added by the reviewer."""

    __tablename__ = "added_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("review_decisions.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50))
    start: Mapped[float | None]
    end: Mapped[float | None]
    note: Mapped[str] = mapped_column(Text, default="")


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agent_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    finding_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the findings contested
    state: Mapped[str] = mapped_column(String(10), default="open")  # open / ruled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ruling(Base):
    """Final for its finding: a second ruling on the same finding is refused by the unique key."""

    __tablename__ = "rulings"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), unique=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(10))  # uphold / overturn
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only and hash-chained: `hash` is the SHA-256 of the canonical JSON of the event's content (which
    includes `prev_hash`), so an edited, inserted or deleted row breaks the chain where it happened."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50), index=True)
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[int | None] = mapped_column(index=True)  # no foreign key: the trail outlives a deleted call
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class WaveformPeaks(Base):
    """A call's waveform for the player, computed once from its audio: per channel, the loudest sample of each
    1/`rate` s as one byte (0-255), channels one after another. The page draws it before any audio arrives."""

    __tablename__ = "waveform_peaks"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    rate: Mapped[int]  # peaks per second
    channels: Mapped[int]
    duration: Mapped[float]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
