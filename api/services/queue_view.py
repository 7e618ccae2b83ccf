"""What the queue page shows beside the queue itself: how many calls each filter value would leave (counted with
the other filters applied, so a count is what choosing that value gives), and who holds the claimed calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.services.reviews import QueueFilter, _queue_query
from api.store.models import Call, FindingRow, Review, ReviewState, User, utcnow

FACETS = ("branch", "agent_id", "category", "rule_id", "sampled")


def queue_facets(session: Session, *, user: User, filters: QueueFilter) -> dict[str, list[tuple[Any, int]]]:
    """Per facet, each value with its count of open calls, largest first."""
    now = utcnow()
    result: dict[str, list[tuple[Any, int]]] = {}
    for facet in FACETS:
        others = replace(filters, **{facet: None}, status=None)
        base = (
            _queue_query(user, others, now)
            .with_only_columns(Review.id, Review.scorecard_id, Review.sampled, Call.branch, Call.agent_id)
            .subquery()
        )
        if facet in ("branch", "agent_id"):
            column = base.c[facet]
            query = select(column, func.count()).where(column.is_not(None)).group_by(column)
        elif facet == "sampled":
            query = select(base.c.sampled, func.count()).group_by(base.c.sampled)
        else:
            column = getattr(FindingRow, facet)
            query = (
                select(column, func.count(func.distinct(base.c.id)))
                .select_from(base)
                .join(FindingRow, FindingRow.scorecard_id == base.c.scorecard_id)
                .where(FindingRow.verdict.in_(("fail", "uncertain")))
                .group_by(column)
            )
        rows = [(value, int(count)) for value, count in session.execute(query)]
        result[facet] = sorted(rows, key=lambda row: (-row[1], str(row[0])))
    return result


def claimed_calls(session: Session, *, user: User, filters: QueueFilter) -> list[dict[str, Any]]:
    """Calls someone is reviewing now (an unexpired lease), with the holder and the lease's end."""
    query = _queue_query(user, replace(filters, status=ReviewState.CLAIMED), utcnow())
    query = query.add_columns(User.name).join(User, User.id == Review.lease_holder).order_by(Review.lease_until)
    return [
        {
            "call_id": call.id,
            "holder": holder,
            "lease_until": _local(review.lease_until),
            "branch": call.branch,
            "agent_id": call.agent_id,
            "score": review.score,
        }
        for review, call, holder in session.execute(query)
    ]


def _local(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""
