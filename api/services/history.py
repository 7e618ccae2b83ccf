"""A call's review as the API shows it: its state, every decision with its verdicts, appeals with their rulings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.appeals import appeal_dicts
from api.store.models import AddedFinding, FindingVerdict, Review, ReviewDecision, User


def review_state(session: Session, *, call_id: int) -> dict[str, Any] | None:
    """The review and its history (decisions with their verdicts, appeals with their rulings)."""
    review = session.scalar(select(Review).where(Review.call_id == call_id))
    if review is None:
        return None
    decisions = session.scalars(
        select(ReviewDecision).where(ReviewDecision.review_id == review.id).order_by(ReviewDecision.id)
    ).all()
    names: dict[int, str] = (
        {row.id: row.name for row in session.execute(select(User.id, User.name))} if decisions else {}
    )
    history = []
    for d in decisions:
        verdicts = session.scalars(select(FindingVerdict).where(FindingVerdict.decision_id == d.id)).all()
        added = session.scalars(select(AddedFinding).where(AddedFinding.decision_id == d.id)).all()
        history.append(
            {
                "reviewer": names.get(d.reviewer_id),
                "scorecard_id": d.scorecard_id,
                "decision": d.decision,
                "comment": d.comment,
                "at": d.created_at.isoformat(),
                "findings": [{"finding_id": v.finding_id, "verdict": v.verdict, "reason": v.reason} for v in verdicts],
                "added": [
                    {"rule_id": a.rule_id, "category": a.category, "start": a.start, "end": a.end, "note": a.note}
                    for a in added
                ],
            }
        )
    return {
        "appeals": appeal_dicts(session, call_id=call_id),
        "state": str(review.state),
        "sampled": review.sampled,
        "decision": review.decision,
        "version": review.version,
        "lease_until": review.lease_until.isoformat() if review.lease_until else None,
        "acknowledged": review.acknowledged_at is not None,
        "scorecard_id": review.scorecard_id,
        "requeue_reason": review.requeue_reason,
        "history": history,
    }
