"""Who may see which calls (OWASP API1): every query on calls goes through `visible`, so a call outside the
user's scope is simply not found, whichever route asks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, select, true
from sqlalchemy.orm import Session

from api.errors import Forbidden, NotFound
from api.store.models import Call, User, UserRole

REVIEWERS = frozenset({UserRole.SUPERVISOR, UserRole.SENIOR_SUPERVISOR})
READERS = REVIEWERS | {UserRole.TRAINER}


def visible(user: User) -> Any:
    """A condition on `Call` that holds for the calls `user` may see."""
    if user.role == UserRole.AGENT:
        return Call.agent_id == user.agent_id if user.agent_id else false()
    if user.role in READERS:
        return Call.branch.in_(user.branches) if user.branches else true()
    return false()  # admin: users only


def require_role(user: User, roles: frozenset[UserRole] | set[UserRole], action: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"a {user.role} may not {action}")


def visible_call(session: Session, *, user: User, call_id: int) -> Call:
    call = session.scalar(select(Call).where(Call.id == call_id, visible(user)))
    if call is None:
        raise NotFound(f"call {call_id}: no such call")
    return call
