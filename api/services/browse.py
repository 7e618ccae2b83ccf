"""Scored calls as lists for people: an agent's own calls, and the calls behind each number of the dashboard (the
same filters `stats` counts by, so a number and its list agree)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.services.appeals import appeal_dicts
from api.services.queries import latest_scorecards
from api.services.reviews import as_utc
from api.services.scope import visible
from api.store.models import Appeal, Call, FindingRow, Review, ReviewState, ScorecardRow, User, utcnow

LIST_LIMIT = 500
SERIES_DAYS = 90
SERIES_KEYS = 8  # lines on one chart: more is unreadable


@dataclass(frozen=True)
class CallFilter:
    branch: str | None = None
    agent_id: str | None = None
    rule_id: str | None = None  # calls where this rule failed
    day: date | None = None  # scored on this day (UTC), as `stats` groups them
    passed: bool | None = None
    needs_review: bool | None = None

    def is_empty(self) -> bool:
        return all(value is None for value in self.__dict__.values())


def scored_calls(session: Session, *, user: User, filters: CallFilter, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The scored calls `user` may see that match `filters`, newest score first."""
    latest = latest_scorecards()
    query = (
        select(Call, ScorecardRow, Review)
        .join(latest, latest.c.call_id == Call.id)
        .join(ScorecardRow, ScorecardRow.id == latest.c.scorecard_id)
        .outerjoin(Review, Review.call_id == Call.id)
        .where(visible(user))
    )
    for column, value in (
        (Call.branch, filters.branch),
        (Call.agent_id, filters.agent_id),
        (ScorecardRow.passed, filters.passed),
        (ScorecardRow.needs_review, filters.needs_review),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.rule_id is not None:
        query = query.where(
            exists().where(
                FindingRow.scorecard_id == ScorecardRow.id,
                FindingRow.rule_id == filters.rule_id,
                FindingRow.verdict == "fail",
            )
        )
    if filters.day is not None:
        start = datetime.combine(filters.day, time(), tzinfo=UTC)
        query = query.where(ScorecardRow.created_at >= start, ScorecardRow.created_at < start + timedelta(days=1))
    rows = session.execute(query.order_by(ScorecardRow.created_at.desc(), Call.id.desc()).limit(limit)).all()
    return [_item(call, card, review) for call, card, review in rows]


def _scored(user: User) -> Any:
    latest = latest_scorecards()
    return (
        select(
            Call.branch,
            Call.agent_id,
            func.coalesce(Call.call_time, ScorecardRow.created_at).label("call_time"),
            ScorecardRow.passed,
            ScorecardRow.needs_review,
        )
        .join(latest, latest.c.call_id == Call.id)
        .join(ScorecardRow, ScorecardRow.id == latest.c.scorecard_id)
        .where(visible(user))
        .subquery()
    )


def totals(session: Session, *, user: User) -> dict[str, int]:
    """Every scored call `user` may see: how many, how many failed, how many the machine wants reviewed."""
    scored = _scored(user)
    count, failed, review = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((scored.c.passed.is_(False), 1), else_=0)), 0),
            func.coalesce(func.sum(case((scored.c.needs_review.is_(True), 1), else_=0)), 0),
        )
    ).one()
    return {"scored": count, "failed": failed, "passed": count - failed, "needs_review": review}


def daily_series(session: Session, *, user: User, by: str) -> dict[str, Any]:
    """Calls scored and failed per day of the call (its call time, else when it was scored; the last SERIES_DAYS
    days with calls) for the SERIES_KEYS busiest branches or agents (`by` is "branch" or "agent_id"):
    {"days": [...], "series": {key: {"scored": [...], "failed": [...]}}}."""
    scored = _scored(user)
    column = scored.c.branch if by == "branch" else scored.c.agent_id
    day = func.date(scored.c.call_time)
    busiest = [
        key
        for (key,) in session.execute(
            select(column).where(column.is_not(None)).group_by(column).order_by(func.count().desc(), column)
        ).all()[:SERIES_KEYS]
    ]
    rows = session.execute(
        select(day, column, func.count(), func.coalesce(func.sum(case((scored.c.passed.is_(False), 1), else_=0)), 0))
        .where(column.in_(busiest))
        .group_by(day, column)
    ).all()
    days = sorted({str(d) for d, *_ in rows})[-SERIES_DAYS:]
    series = {key: {"scored": [0] * len(days), "failed": [0] * len(days)} for key in busiest}
    where = {d: n for n, d in enumerate(days)}
    for d, key, count, failed in rows:
        if str(d) in where:
            series[key]["scored"][where[str(d)]] = count
            series[key]["failed"][where[str(d)]] = failed
    return {"days": days, "series": series}


def _item(call: Call, card: ScorecardRow, review: Review | None) -> dict[str, Any]:
    return {
        "call_id": call.id,
        "call_time": call.call_time.isoformat(sep=" ", timespec="minutes") if call.call_time else None,
        "branch": call.branch,
        "agent_id": call.agent_id,
        "agent_name": call.agent_name,
        "score": card.score,
        "passed": card.passed,
        "needs_review": card.needs_review,
        "scored_at": as_utc(card.created_at).isoformat(sep=" ", timespec="minutes"),
        "review_state": str(review.state) if review is not None else None,
        "decision": review.decision if review is not None else None,
        "acknowledged": review is not None and review.acknowledged_at is not None,
    }


def appeal_deadline(session: Session, *, user: User, call_id: int, appeal_days: int) -> datetime | None:
    """Until when `user` may still appeal the call's review; None when it cannot be appealed (now or ever)."""
    review = _review(session, user, call_id)
    if review is None or review.state != ReviewState.REVIEWED or review.reviewed_at is None:
        return None
    deadline = as_utc(review.reviewed_at) + timedelta(days=appeal_days)
    return deadline if deadline >= utcnow() else None


def can_acknowledge(session: Session, *, user: User, call_id: int) -> bool:
    """Reviewed (or ruled on) and not yet acknowledged by its agent."""
    review = _review(session, user, call_id)
    return (
        review is not None
        and review.state in (ReviewState.REVIEWED, ReviewState.RULED)
        and review.acknowledged_at is None
    )


def _review(session: Session, user: User, call_id: int) -> Review | None:
    return session.scalar(
        select(Review).join(Call, Call.id == Review.call_id).where(Review.call_id == call_id, visible(user))
    )


def appeal_for(session: Session, *, user: User, appeal_id: int) -> dict[str, Any]:
    """One appeal on a call `user` may see, as `list_appeals` gives it."""
    call_id = session.scalar(
        select(Appeal.call_id).join(Call, Call.id == Appeal.call_id).where(Appeal.id == appeal_id, visible(user))
    )
    found = [a for a in appeal_dicts(session, call_id=call_id) if a["id"] == appeal_id] if call_id else []
    if not found:
        raise NotFound(f"appeal {appeal_id}: no such appeal")
    return found[0]
