from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, BeforeValidator, Field

from api.http.deps import CallId, CurrentUser, Router, SessionDep, SettingsDep, sync_queue
from api.services.reviews import QueueFilter, claim_next, list_queue, queue_item, reassign, release, renew
from api.services.scope import READERS, REVIEWERS, require_role
from api.store.models import Call, ReviewState

router = Router(prefix="/api", tags=["queue"])


class QueueItem(BaseModel):
    call_id: int
    state: str
    sampled: bool
    fatal: bool
    score: int
    queued_at: str
    branch: str | None
    agent_id: str | None
    call_time: str | None
    version: int
    lease_until: str | None


class QueueCounts(BaseModel):
    total: int
    fatal: int
    sampled: int


class QueuePage(BaseModel):
    items: list[QueueItem]
    page: int
    per_page: int
    counts: QueueCounts


def _iso_only(value: object) -> object:
    # pydantic would read `to=0.5` as a Unix time; the schema (and a person) mean an ISO 8601 date or time.
    if isinstance(value, str) and "-" not in value:
        raise ValueError("give an ISO 8601 date or time, e.g. 2026-11-30 or 2026-11-30T09:00:00+08:00")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_only)]


async def queue_filter(  # async: pure parsing, run inline rather than in a worker thread
    branch: Annotated[str | None, Query(max_length=200)] = None,
    agent_id: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=50)] = None,
    rule_id: Annotated[str | None, Query(max_length=200)] = None,
    date_from: Annotated[IsoTime | None, Query(alias="from", description="call time, inclusive")] = None,
    date_to: Annotated[IsoTime | None, Query(alias="to", description="call time, exclusive")] = None,
    sampled: bool | None = None,
    status: ReviewState | None = None,
) -> QueueFilter:
    return QueueFilter(branch, agent_id, category, rule_id, date_from, date_to, sampled, status)


FilterDep = Annotated[QueueFilter, Depends(queue_filter)]


@router.get("/queue", response_model=QueuePage)
def get_queue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    filters: FilterDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Calls needing review: fatal (or long-waiting) first, then lowest score, then oldest."""
    require_role(user, READERS, "see the review queue")
    sync_queue(request, session)
    return list_queue(
        session, user=user, filters=filters, aging_hours=settings.queue_aging_hours, page=page, per_page=per_page
    )


@router.post("/queue/claim", response_model=QueueItem, responses={204: {"description": "nothing left to claim"}})
def claim(request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, filters: FilterDep) -> Any:
    """Lease the next call (within the filters) to the caller; 204 when none is left."""
    require_role(user, REVIEWERS, "claim calls")
    sync_queue(request, session)
    review = claim_next(
        session,
        user=user,
        filters=filters,
        aging_hours=settings.queue_aging_hours,
        lease_minutes=settings.lease_minutes,
    )
    if review is None:
        return Response(status_code=204)
    return queue_item(review, session.get_one(Call, review.call_id))


@router.post("/calls/{call_id}/release", response_model=QueueItem)
def release_call(session: SessionDep, user: CurrentUser, call_id: CallId) -> dict[str, Any]:
    """Give the call back to the queue (its holder, or a senior supervisor taking it over)."""
    require_role(user, REVIEWERS, "release calls")
    review = release(session, user=user, call_id=call_id)
    return queue_item(review, session.get_one(Call, call_id))


@router.post("/calls/{call_id}/renew", response_model=QueueItem)
def renew_lease(session: SessionDep, settings: SettingsDep, user: CurrentUser, call_id: CallId) -> dict[str, Any]:
    require_role(user, REVIEWERS, "hold calls")
    review = renew(session, user=user, call_id=call_id, lease_minutes=settings.lease_minutes)
    return queue_item(review, session.get_one(Call, call_id))


class ReassignIn(BaseModel):
    user: str = Field(min_length=1, max_length=200, description="the supervisor who gets the call")


@router.post("/calls/{call_id}/reassign", response_model=QueueItem)
def reassign_call(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, call_id: CallId, body: ReassignIn
) -> dict[str, Any]:
    """A senior supervisor gives a queued or claimed call to a named supervisor, with a fresh lease."""
    review = reassign(session, user=user, call_id=call_id, to_name=body.user, lease_minutes=settings.lease_minutes)
    return queue_item(review, session.get_one(Call, call_id))
