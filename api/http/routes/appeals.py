from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, Field

from api.http.deps import CurrentUser, Router, SessionDep
from api.services.appeals import FindingRuling, list_appeals, rule_on_appeal
from api.services.scope import READERS, require_role
from api.store.models import UserRole

router = Router(prefix="/api/appeals", tags=["appeals"])


class FindingRulingIn(BaseModel):
    finding_id: int = Field(ge=1, le=2_147_483_647)
    outcome: Literal["uphold", "overturn"]


class RulingIn(BaseModel):
    rulings: list[FindingRulingIn] = Field(min_length=1, max_length=1000)
    comment: Annotated[str, Field(max_length=5000)] = ""


@router.get("")
def get_appeals(
    session: SessionDep, user: CurrentUser, state: Annotated[Literal["open", "ruled"] | None, Query()] = None
) -> list[dict[str, Any]]:
    """Appeals on the calls the caller may see (an agent: their own)."""
    require_role(user, READERS | {UserRole.AGENT}, "see appeals")
    return list_appeals(session, user=user, state=state)


@router.post("/{appeal_id}/ruling")
def post_ruling(
    session: SessionDep,
    user: CurrentUser,
    appeal_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    body: RulingIn,
) -> dict[str, Any]:
    """Uphold or overturn each appealed finding; final for that finding. Senior supervisors only."""
    rulings = [FindingRuling(r.finding_id, r.outcome) for r in body.rulings]
    return rule_on_appeal(session, user=user, appeal_id=appeal_id, rulings=rulings, comment=body.comment)
