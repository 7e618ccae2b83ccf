"""Appeals by a call's agent and rulings on them by a senior supervisor; a ruling is final for its finding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import BadInput, Conflict, Forbidden, NotFound
from api.services.audit import append_event
from api.services.reviews import as_utc, record_transition, review_for
from api.services.scope import visible
from api.store.models import Appeal, Call, FindingRow, ReviewState, Ruling, User, UserRole, utcnow


def file_appeal(
    session: Session, *, user: User, call_id: int, reason: str, finding_ids: list[int], appeal_days: int
) -> Appeal:
    if user.role != UserRole.AGENT:
        raise Forbidden("only the call's agent may appeal")
    review = review_for(session, user=user, call_id=call_id, lock=True)  # an agent sees only their own calls
    if review.state != ReviewState.REVIEWED or review.reviewed_at is None:
        raise Conflict(f"call {call_id} cannot be appealed now (it is {review.state})")
    if utcnow() > as_utc(review.reviewed_at) + timedelta(days=appeal_days):
        raise Conflict(f"call {call_id}: the {appeal_days}-day appeal period is over")
    if not reason.strip():
        raise BadInput("an appeal needs a reason")
    known = set(session.scalars(select(FindingRow.id).where(FindingRow.scorecard_id == review.scorecard_id)))
    if not set(finding_ids) <= known:
        raise BadInput(f"finding(s) {sorted(set(finding_ids) - known)} are not this call's")
    appeal = Appeal(call_id=call_id, agent_user_id=user.id, reason=reason, finding_ids=sorted(set(finding_ids)))
    session.add(appeal)
    review.state = ReviewState.APPEALED
    after = {"reason": reason, "finding_ids": appeal.finding_ids}
    record_transition(session, review, actor=user.name, action="appeal.file", after=after, appeal=appeal)
    return appeal


def list_appeals(session: Session, *, user: User, state: str | None = None) -> list[dict[str, Any]]:
    query = select(Appeal).join(Call, Call.id == Appeal.call_id).where(visible(user)).order_by(Appeal.id)
    if state is not None:
        query = query.where(Appeal.state == state)
    return [_appeal_dict(session, appeal) for appeal in session.scalars(query)]


def appeal_dicts(session: Session, *, call_id: int) -> list[dict[str, Any]]:
    appeals = session.scalars(select(Appeal).where(Appeal.call_id == call_id).order_by(Appeal.id))
    return [_appeal_dict(session, appeal) for appeal in appeals]


def _appeal_dict(session: Session, appeal: Appeal) -> dict[str, Any]:
    rulings = session.scalars(select(Ruling).where(Ruling.appeal_id == appeal.id).order_by(Ruling.id))
    return {
        "id": appeal.id,
        "call_id": appeal.call_id,
        "reason": appeal.reason,
        "finding_ids": list(appeal.finding_ids),
        "state": appeal.state,
        "created_at": appeal.created_at.isoformat(),
        "rulings": [
            {"finding_id": r.finding_id, "outcome": r.outcome, "comment": r.comment, "at": r.created_at.isoformat()}
            for r in rulings
        ],
    }


@dataclass(frozen=True)
class FindingRuling:
    finding_id: int
    outcome: Literal["uphold", "overturn"]


def rule_on_appeal(
    session: Session, *, user: User, appeal_id: int, rulings: list[FindingRuling], comment: str
) -> dict[str, Any]:
    if user.role != UserRole.SENIOR_SUPERVISOR:
        raise Forbidden("only a senior supervisor rules on appeals")
    appeal = session.scalar(
        select(Appeal).join(Call, Call.id == Appeal.call_id).where(Appeal.id == appeal_id, visible(user))
    )
    if appeal is None:
        raise NotFound(f"appeal {appeal_id}: no such appeal")
    if appeal.state != "open":
        raise Conflict(f"appeal {appeal_id} has been ruled on already")
    review = review_for(session, user=user, call_id=appeal.call_id, lock=True)
    allowed = set(appeal.finding_ids) or set(
        session.scalars(select(FindingRow.id).where(FindingRow.scorecard_id == review.scorecard_id))
    )
    if not rulings or not {r.finding_id for r in rulings} <= allowed:
        raise BadInput(f"rule on the appealed findings: {sorted(allowed)}")
    session.add_all(
        Ruling(appeal_id=appeal.id, finding_id=r.finding_id, judge_id=user.id, outcome=r.outcome, comment=comment)
        for r in rulings
    )
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("a finding of this appeal has been ruled on already: a ruling is final") from None
    appeal.state = "ruled"
    if review.state == ReviewState.APPEALED:  # a re-score may have put the call back in the queue meanwhile
        review.state = ReviewState.RULED
    review.version += 1
    session.flush()
    append_event(
        session,
        actor=user.name,
        action="appeal.rule",
        object_type="appeal",
        object_id=appeal.id,
        call_id=appeal.call_id,
        after={"rulings": [r.__dict__ for r in rulings], "comment": comment},
    )
    return _appeal_dict(session, appeal)
