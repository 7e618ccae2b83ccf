"""The review queue and reviews: scored calls needing a person (and a deterministic sample of passed ones) wait in
the queue; a reviewer claims one with a lease, submits a decision beside the machine's findings, and every change
bumps the review's `version` so that a write based on an old read is refused.

Claiming is atomic: one `UPDATE` whose subquery picks the row, with `FOR UPDATE SKIP LOCKED` on PostgreSQL
(concurrent claimers take different rows without waiting for each other); SQLite runs it under its write lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import case, exists, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.errors import BadInput, Conflict, Forbidden, NotFound
from api.services.audit import append_event
from api.services.queries import latest_scorecards
from api.services.scope import visible
from api.store.models import (
    OPEN_REVIEW,
    AddedFinding,
    Appeal,
    Call,
    FindingRow,
    FindingVerdict,
    Review,
    ReviewDecision,
    ReviewState,
    ScorecardRow,
    TranscriptRow,
    User,
    UserRole,
    utcnow,
)

_SAMPLE_SPACE = 1 << 32
OPEN_STATES = (ReviewState.QUEUED, ReviewState.CLAIMED)


def sampled(sha256: str, rate: float) -> bool:
    """Deterministic from the audio hash (salted, so it is independent of anything else keyed on the hash):
    a rerun or a re-score draws the same calls."""
    draw = int(hashlib.sha256(b"callqa-sample:" + sha256.encode()).hexdigest()[:8], 16)
    return draw < rate * _SAMPLE_SPACE


def sync_reviews(session: Session, *, sample_rate: float) -> int:
    """Give every scored call without a review row one: queued when it needs review or is sampled, else
    not_needed (so it is never looked at again). Returns how many were queued."""
    fatal = exists().where(
        FindingRow.scorecard_id == ScorecardRow.id, FindingRow.severity == "fatal", FindingRow.verdict == "fail"
    )
    rows = session.execute(
        select(
            Call.id,
            Call.sha256,
            ScorecardRow.id,
            ScorecardRow.score,
            ScorecardRow.passed,
            ScorecardRow.needs_review,
            fatal,
        )
        .join(TranscriptRow, TranscriptRow.call_id == Call.id)
        .join(ScorecardRow, ScorecardRow.transcript_id == TranscriptRow.id)
        .where(~exists().where(Review.call_id == Call.id))
        .order_by(ScorecardRow.id.desc())
    ).all()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    queued = 0
    done: set[int] = set()
    for call_id, sha256, card_id, score, passed, needs_review, is_fatal in rows:
        if call_id in done:  # an older scorecard of the same call
            continue
        done.add(call_id)
        sample = bool(passed and not needs_review and sampled(sha256, sample_rate))
        state = ReviewState.QUEUED if needs_review or sample else ReviewState.NOT_NEEDED
        values = {"call_id": call_id, "scorecard_id": card_id, "state": state, "sampled": sample, "fatal": is_fatal}
        inserted = session.scalar(
            insert(Review)
            .values(score=score, queued_at=utcnow(), version=1, **values)
            .on_conflict_do_nothing(index_elements=["call_id"])
            .returning(Review.id)
        )
        if inserted is not None and state == ReviewState.QUEUED:
            queued += 1
            append_event(
                session,
                actor="system",
                action="review.queue",
                object_type="call",
                object_id=call_id,
                call_id=call_id,
                after={"sampled": sample, "fatal": is_fatal, "score": score},
            )
    if len(done) >= _ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        # A fresh or much grown table without statistics makes the planner sort the whole queue for every claim
        # instead of walking ix_reviews_claim (seen: 24 ms instead of 0.05 ms at 10,000 calls); autovacuum may
        # take minutes to notice.
        session.execute(text("ANALYZE reviews"))
    return queued + _follow_rescores(session, sample_rate=sample_rate)


# A person reviewed what the machine flagged: these findings, by rule and verdict, are what a review is about.
_FLAGGED = ("fail", "uncertain")
_DECIDED = (ReviewState.REVIEWED, ReviewState.APPEALED, ReviewState.RULED)
_IN_CHUNK = 500  # scorecard ids per IN (…)
_ANALYZE_AFTER = 1000  # new review rows


def _follow_rescores(session: Session, *, sample_rate: float) -> int:
    """Point every review at its call's newest scorecard. A decided call whose flagged findings changed (the
    phrasebooks changed and the call was re-scored) goes back to the queue: its decisions stay in the history, the
    reason is stored on the review and in the audit trail. Returns how many were (re)queued."""
    latest = latest_scorecards()
    query = (
        select(Review, latest.c.scorecard_id, Call.sha256)
        .join(latest, latest.c.call_id == Review.call_id)
        .join(Call, Call.id == Review.call_id)
        .where(latest.c.scorecard_id != Review.scorecard_id)
        .order_by(Review.id)
    )
    if session.get_bind().dialect.name == "postgresql":  # two servers syncing at once follow each call once
        query = query.with_for_update(of=Review, skip_locked=True)
    rows = session.execute(query).all()
    requeued = 0
    for start in range(0, len(rows), _IN_CHUNK):
        chunk = rows[start : start + _IN_CHUNK]
        cards = _cards(session, {r.Review.scorecard_id for r in chunk} | {card_id for _, card_id, _ in chunk})
        for review, card_id, sha256 in chunk:
            requeued += _follow(session, review, cards[review.scorecard_id], cards[card_id], sha256, sample_rate)
    return requeued


@dataclass(frozen=True)
class _Card:
    id: int
    phrasebook_version: str
    score: int
    passed: bool
    needs_review: bool
    flagged: frozenset[tuple[str, str]]  # (rule_id, verdict)
    fatal: bool


def _cards(session: Session, ids: set[int]) -> dict[int, _Card]:
    flagged: dict[int, set[tuple[str, str, str]]] = {card_id: set() for card_id in ids}
    for card_id, rule_id, verdict, severity in session.execute(
        select(FindingRow.scorecard_id, FindingRow.rule_id, FindingRow.verdict, FindingRow.severity).where(
            FindingRow.scorecard_id.in_(ids), FindingRow.verdict.in_(_FLAGGED)
        )
    ):
        flagged[card_id].add((rule_id, verdict, severity))
    rows = session.execute(
        select(
            ScorecardRow.id,
            ScorecardRow.phrasebook_version,
            ScorecardRow.score,
            ScorecardRow.passed,
            ScorecardRow.needs_review,
        ).where(ScorecardRow.id.in_(ids))
    )
    return {
        row.id: _Card(
            row.id,
            row.phrasebook_version,
            row.score,
            row.passed,
            row.needs_review,
            frozenset((rule, verdict) for rule, verdict, _ in flagged[row.id]),
            any(verdict == "fail" and severity == "fatal" for _, verdict, severity in flagged[row.id]),
        )
        for row in rows
    }


def _follow(session: Session, review: Review, old: _Card, new: _Card, sha256: str, sample_rate: float) -> int:
    changed = old.flagged != new.flagged
    wanted = new.needs_review or (new.passed and sampled(sha256, sample_rate))
    if review.state in _DECIDED and changed:
        reason = _rescore_reason(old, new)
        next_state = ReviewState.QUEUED
    elif review.state == ReviewState.NOT_NEEDED and wanted:
        reason = f"re-scored with phrasebooks {new.phrasebook_version}: now flagged for review"
        next_state = ReviewState.QUEUED
    elif review.state in OPEN_STATES and changed:
        reason = _rescore_reason(old, new)  # still open: the version bump makes a review of the old findings stale
        next_state = ReviewState(review.state)
    else:  # nothing a person looked at or would look at changed
        review.scorecard_id, review.score, review.fatal = new.id, new.score, new.fatal
        return 0
    before = {"state": str(review.state), "decision": review.decision, "scorecard_id": old.id}
    review.scorecard_id, review.score, review.fatal = new.id, new.score, new.fatal
    review.state, review.requeue_reason = next_state, reason
    review.sampled = review.sampled or (not new.needs_review and wanted)
    newly_queued = next_state == ReviewState.QUEUED and before["state"] != ReviewState.QUEUED
    if newly_queued:
        review.queued_at, review.lease_holder, review.lease_until = utcnow(), None, None
        review.decision, review.reviewed_at, review.acknowledged_at = None, None, None
    record_transition(
        session,
        review,
        actor="system",
        action="review.requeue" if next_state == ReviewState.QUEUED else "review.rescored",
        before=before,
        after={"state": str(next_state), "scorecard_id": new.id, "reason": reason},
    )
    return 1 if newly_queued else 0


def _rescore_reason(old: _Card, new: _Card) -> str:
    gone = ", ".join(f"-{rule} ({verdict})" for rule, verdict in sorted(old.flagged - new.flagged))
    added = ", ".join(f"+{rule} ({verdict})" for rule, verdict in sorted(new.flagged - old.flagged))
    changes = "; ".join(part for part in (added, gone) if part)
    return (
        f"re-scored with phrasebooks {new.phrasebook_version} (was {old.phrasebook_version}): "
        f"the machine's findings changed: {changes}"
    )


@dataclass(frozen=True)
class QueueFilter:
    branch: str | None = None
    agent_id: str | None = None
    category: str | None = None
    rule_id: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    sampled: bool | None = None
    status: ReviewState | None = None


def _queue_query(user: User, filters: QueueFilter, now: datetime) -> Any:
    claimable = or_(
        Review.state == ReviewState.QUEUED, (Review.state == ReviewState.CLAIMED) & (Review.lease_until < now)
    )
    query = select(Review, Call).join(Call, Call.id == Review.call_id).where(visible(user))
    if filters.status is None or filters.status == ReviewState.QUEUED:
        query = query.where(claimable)
    elif filters.status == ReviewState.CLAIMED:
        query = query.where(Review.state == ReviewState.CLAIMED, Review.lease_until >= now)
    else:
        query = query.where(Review.state == filters.status)
    for column, value in ((Call.branch, filters.branch), (Call.agent_id, filters.agent_id)):
        if value is not None:
            query = query.where(column == value)
    if filters.sampled is not None:
        query = query.where(Review.sampled.is_(filters.sampled))
    if filters.date_from is not None:
        query = query.where(Call.call_time >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Call.call_time < filters.date_to)
    if filters.category is not None or filters.rule_id is not None:
        finding = exists().where(
            FindingRow.scorecard_id == Review.scorecard_id, FindingRow.verdict.in_(("fail", "uncertain"))
        )
        if filters.category is not None:
            finding = finding.where(FindingRow.category == filters.category)
        if filters.rule_id is not None:
            finding = finding.where(FindingRow.rule_id == filters.rule_id)
        query = query.where(finding)
    return query


def _priority(now: datetime, aging_hours: float) -> tuple[Any, ...]:
    # Fatal first; a call waiting longer than the aging time joins them, so a clean-looking call is never starved.
    aged = Review.queued_at < now - timedelta(hours=aging_hours)
    tier = case((Review.fatal | aged, 0), else_=1)
    return (tier, Review.score, Review.queued_at, Review.id)


def queue_item(review: Review, call: Call) -> dict[str, Any]:
    return {
        "call_id": call.id,
        "state": str(review.state),
        "sampled": review.sampled,
        "fatal": review.fatal,
        "score": review.score,
        "queued_at": review.queued_at.isoformat(),
        "branch": call.branch,
        "agent_id": call.agent_id,
        "call_time": call.call_time.isoformat() if call.call_time else None,
        "version": review.version,
        "lease_until": review.lease_until.isoformat() if review.lease_until and review.state == "claimed" else None,
    }


def list_queue(
    session: Session, *, user: User, filters: QueueFilter, aging_hours: float, page: int, per_page: int
) -> dict[str, Any]:
    now = utcnow()
    query = _queue_query(user, filters, now)
    counted = query.with_only_columns(
        func.count(),
        func.coalesce(func.sum(case((Review.fatal, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Review.sampled, 1), else_=0)), 0),
    ).order_by(None)
    total, fatal, sampled_count = session.execute(counted).one()
    rows = session.execute(query.order_by(*_priority(now, aging_hours)).limit(per_page).offset((page - 1) * per_page))
    return {
        "items": [queue_item(review, call) for review, call in rows],
        "page": page,
        "per_page": per_page,
        "counts": {"total": total, "fatal": fatal, "sampled": sampled_count},
    }


def claim_next(
    session: Session, *, user: User, filters: QueueFilter, aging_hours: float, lease_minutes: int
) -> Review | None:
    """The caller's next call, leased to them; None when the queue (within the filters) is empty.

    One statement: `UPDATE … WHERE id = COALESCE(first tier, second tier)`, each tier a subquery that walks its
    partial index (`ix_reviews_claim*`) by score, then age, and stops at the first claimable row; the second runs
    only when the first finds none. First come the fatal and the long-waiting calls, then the rest (`_priority`).
    Sorting the whole queue by the tier expression instead cost PostgreSQL 10-50 ms at 10,000 queued calls.
    PostgreSQL locks the chosen row with SKIP LOCKED, so concurrent claimers take different rows without waiting;
    SQLite runs the statement under its write lock, so nobody can take the row between the choice and the update.
    """
    now = utcnow()
    base = _queue_query(user, QueueFilter(**{**filters.__dict__, "status": None}), now).with_only_columns(Review.id)
    base = base.where(OPEN_REVIEW)  # the partial indexes' condition, spelled out for the planner
    first_tier = Review.fatal | (Review.queued_at < now - timedelta(hours=aging_hours))
    tiers = [
        base.where(tier)
        .order_by(Review.score, Review.queued_at, Review.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Review)
        .correlate(None)  # the subquery reads `reviews` itself, not the row being updated
        .scalar_subquery()
        for tier in (first_tier, ~first_tier)
    ]
    statement = (
        update(Review)
        .where(Review.id == func.coalesce(*tiers))
        .values(
            state=ReviewState.CLAIMED,
            lease_holder=user.id,
            lease_until=now + timedelta(minutes=lease_minutes),
            version=Review.version + 1,
        )
        # The rows come back from RETURNING: nothing else in the session needs matching against the WHERE.
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    # The call's row too, so the reply needs no query while this transaction holds the audit chain's lock (every
    # other claimer waits for it): PostgreSQL returns it from UPDATE … FROM calls; SQLite's RETURNING cannot.
    if session.get_bind().dialect.name == "postgresql":
        claimed = session.execute(statement.where(Call.id == Review.call_id).returning(Review, Call)).first()
        review = claimed.Review if claimed else None
    else:
        review = session.scalar(statement.returning(Review))
        if review is not None:
            session.get_one(Call, review.call_id)
    if review is None:
        return None
    append_event(
        session,
        actor=user.name,
        action="review.claim",
        object_type="call",
        object_id=review.call_id,
        call_id=review.call_id,
        after={"lease_until": review.lease_until, "version": review.version},
    )
    return review


def review_for(session: Session, *, user: User, call_id: int, lock: bool = False) -> Review:
    query = select(Review).join(Call, Call.id == Review.call_id).where(Review.call_id == call_id, visible(user))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Review)
    review = session.scalar(query)
    if review is None:
        if session.scalar(select(Call.id).where(Call.id == call_id, visible(user))) is None:
            raise NotFound(f"call {call_id}: no such call")
        raise Conflict(f"call {call_id} is not in the review queue (not scored yet, or not flagged)")
    return review


def _holds(review: Review, user: User, now: datetime) -> bool:
    return (
        review.state == ReviewState.CLAIMED
        and review.lease_holder == user.id
        and review.lease_until is not None
        and as_utc(review.lease_until) >= now
    )


def as_utc(at: datetime) -> datetime:
    # SQLite gives back naive UTC times.
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def record_transition(
    session: Session,
    review: Review,
    *,
    actor: str,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    appeal: Appeal | None = None,
) -> None:
    """After a change to `review`: bump its version (so that a write based on an older read is refused), write it,
    and append the audit event, its `before` (when given) and `after` each with the version of its side. The event
    is about the call, or about `appeal` when given (flushed first, so the appeal has its id)."""
    old_version = review.version
    review.version += 1
    session.flush()
    append_event(
        session,
        actor=actor,
        action=action,
        object_type="call" if appeal is None else "appeal",
        object_id=review.call_id if appeal is None else appeal.id,
        call_id=review.call_id,
        before=None if before is None else {**before, "version": old_version},
        after={**(after or {}), "version": review.version},
    )


def release(session: Session, *, user: User, call_id: int) -> Review:
    """Hand a claimed call back to the queue: the holder, or a senior supervisor taking it over."""
    review = review_for(session, user=user, call_id=call_id, lock=True)
    now = utcnow()
    if not _holds(review, user, now) and not (
        user.role == UserRole.SENIOR_SUPERVISOR and review.state == ReviewState.CLAIMED
    ):
        raise Conflict(f"call {call_id}: you do not hold its lease")
    before = {"lease_holder": review.lease_holder}
    review.state, review.lease_holder, review.lease_until = ReviewState.QUEUED, None, None
    record_transition(session, review, actor=user.name, action="review.release", before=before)
    return review


def renew(session: Session, *, user: User, call_id: int, lease_minutes: int) -> Review:
    review = review_for(session, user=user, call_id=call_id, lock=True)
    now = utcnow()
    if not _holds(review, user, now):
        raise Conflict(f"call {call_id}: you do not hold its lease (it may have expired: claim again)")
    review.lease_until = now + timedelta(minutes=lease_minutes)
    session.flush()
    return review


@dataclass(frozen=True)
class FindingDecision:
    finding_id: int
    verdict: Literal["confirm", "reject"]
    reason: str


@dataclass(frozen=True)
class NewFinding:
    category: str
    note: str
    rule_id: str | None = None
    start: float | None = None
    end: float | None = None


def submit_review(
    session: Session,
    *,
    user: User,
    call_id: int,
    version: int,
    decision: Literal["pass", "fail"],
    comment: str,
    findings: list[FindingDecision],
    added: list[NewFinding],
) -> Review:
    review = review_for(session, user=user, call_id=call_id, lock=True)
    if version != review.version:
        raise Conflict(
            f"call {call_id} changed since you read it (your version {version}, now {review.version}): reload it"
        )
    if not _holds(review, user, utcnow()):
        raise Conflict(f"call {call_id}: only the holder of its lease may review it; claim it first")
    known = set(session.scalars(select(FindingRow.id).where(FindingRow.scorecard_id == review.scorecard_id)))
    _check_findings(findings, added, known)
    row = ReviewDecision(
        review_id=review.id, reviewer_id=user.id, scorecard_id=review.scorecard_id, decision=decision, comment=comment
    )
    session.add(row)
    session.flush()
    session.add_all(
        FindingVerdict(decision_id=row.id, finding_id=f.finding_id, verdict=f.verdict, reason=f.reason)
        for f in findings
    )
    session.add_all(AddedFinding(decision_id=row.id, **a.__dict__) for a in added)
    before = {"state": str(review.state), "decision": review.decision}
    review.state, review.decision, review.reviewed_at = ReviewState.REVIEWED, decision, utcnow()
    review.lease_holder, review.lease_until = None, None
    after = {
        "state": "reviewed",
        "decision": decision,
        "comment": comment,
        "findings": [f.__dict__ for f in findings],
        "added": [a.__dict__ for a in added],
    }
    record_transition(session, review, actor=user.name, action="review.submit", before=before, after=after)
    return review


def _check_findings(findings: list[FindingDecision], added: list[NewFinding], known: set[int]) -> None:
    ids = [f.finding_id for f in findings]
    if len(set(ids)) != len(ids):
        raise BadInput("a finding is decided twice")
    unknown = sorted(set(ids) - known)
    if unknown:
        raise BadInput(f"finding(s) {', '.join(map(str, unknown))} are not this call's")
    if any(f.verdict == "reject" and not f.reason.strip() for f in findings):
        raise BadInput("rejecting a finding needs a reason")
    if any(a.start is not None and a.end is not None and a.end < a.start for a in added):
        raise BadInput("an added finding ends before it starts")


def acknowledge(session: Session, *, user: User, call_id: int) -> Review:
    review = review_for(session, user=user, call_id=call_id, lock=True)
    if review.state not in (ReviewState.REVIEWED, ReviewState.RULED):
        raise Conflict(f"call {call_id} has not been reviewed yet")
    if review.acknowledged_at is None:
        review.acknowledged_at = utcnow()
        record_transition(session, review, actor=user.name, action="review.acknowledge")
    return review


def reassign(session: Session, *, user: User, call_id: int, to_name: str, lease_minutes: int) -> Review:
    """A senior supervisor hands a queued or claimed call to a named reviewer, with a fresh lease."""
    if user.role != UserRole.SENIOR_SUPERVISOR:
        raise Forbidden("only a senior supervisor reassigns calls")
    review = review_for(session, user=user, call_id=call_id, lock=True)
    if review.state not in OPEN_STATES:
        raise Conflict(f"call {call_id} is {review.state}: only a queued or claimed call can be reassigned")
    target = session.scalar(select(User).where(User.name == to_name, User.disabled.is_(False)))
    if target is None or target.role not in (UserRole.SUPERVISOR, UserRole.SENIOR_SUPERVISOR):
        raise NotFound(f"{to_name!r}: no active supervisor of that name")
    if session.scalar(select(Call.id).where(Call.id == call_id, visible(target))) is None:
        raise Conflict(f"call {call_id} is outside {to_name}'s branches")
    before = {"lease_holder": review.lease_holder, "state": str(review.state)}
    review.state, review.lease_holder = ReviewState.CLAIMED, target.id
    review.lease_until = utcnow() + timedelta(minutes=lease_minutes)
    after = {"lease_holder": target.id, "to": target.name}
    record_transition(session, review, actor=user.name, action="review.reassign", before=before, after=after)
    return review
