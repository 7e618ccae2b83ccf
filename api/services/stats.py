"""What the dashboard reads: queue depth, calls per day, top failing rules, per branch and agent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from api.services.queries import latest_scorecards
from api.services.scope import visible
from api.store.models import Call, FindingRow, Review, ReviewState, ScorecardRow, User

TOP_RULES = 10


def stats(session: Session, *, user: User) -> dict[str, Any]:
    latest = latest_scorecards()
    scored = (
        select(
            Call.branch,
            Call.agent_id,
            ScorecardRow.id.label("scorecard_id"),
            ScorecardRow.score,
            ScorecardRow.passed,
            ScorecardRow.needs_review,
            # Per day of the call itself (CTI or file-name metadata), else of when callqa found it: a night's
            # re-score must not move last month's calls to today.
            func.coalesce(Call.call_time, Call.created_at).label("day_of"),
        )
        .join(latest, latest.c.call_id == Call.id)
        .join(ScorecardRow, ScorecardRow.id == latest.c.scorecard_id)
        .where(visible(user))
        .subquery()
    )
    failed = func.sum(case((scored.c.passed.is_(False), 1), else_=0))
    review = func.sum(case((scored.c.needs_review.is_(True), 1), else_=0))
    day = func.date(scored.c.day_of)
    per_day = session.execute(
        select(day, func.count(), failed, review).group_by(day).order_by(day.desc()).limit(90)
    ).all()
    rules = session.execute(
        select(FindingRow.rule_id, func.count())
        .join(scored, scored.c.scorecard_id == FindingRow.scorecard_id)
        .where(FindingRow.verdict == "fail")
        .group_by(FindingRow.rule_id)
        .order_by(func.count().desc(), FindingRow.rule_id)
        .limit(TOP_RULES)
    ).all()
    depth = session.scalar(
        select(func.count())
        .select_from(Review)
        .join(Call, Call.id == Review.call_id)
        .where(Review.state.in_((ReviewState.QUEUED, ReviewState.CLAIMED)), visible(user))
    )
    return {
        "queue_depth": depth or 0,
        "per_day": [{"day": str(d), "scored": n, "failed": f or 0, "needs_review": r or 0} for d, n, f, r in per_day],
        "top_failing_rules": [{"rule_id": rule, "count": n} for rule, n in rules],
        "per_branch": _grouped(session, scored, scored.c.branch, failed),
        "per_agent": _grouped(session, scored, scored.c.agent_id, failed),
    }


def _grouped(session: Session, scored: Any, key: Any, failed: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(key, func.count(), failed, func.avg(scored.c.score)).group_by(key).order_by(key).limit(1000)
    ).all()
    return [
        {"key": k, "scored": n, "failed": f or 0, "average_score": round(float(a), 1) if a is not None else None}
        for k, n, f, a in rows
    ]
