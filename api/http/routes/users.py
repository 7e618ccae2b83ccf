"""User management for the `admin` role ("users only"): list, add, disable / enable, change a role. The routes are
thin: the service functions in `api.services.users` (keyword-only) are what a web page builds on too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from api.http.deps import CurrentUser, Router, SessionDep
from api.services.scope import require_role
from api.services.users import MIN_PASSWORD_CHARS, add_user, change_role, list_users, set_disabled, user_dict
from api.store.models import UserRole

router = Router(prefix="/api/users", tags=["users"])
ADMINS = frozenset({UserRole.ADMIN})
UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Branches = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=100)]


class UserOut(BaseModel):
    """A user as the admin routes and `GET /api/me` show it (`api.services.users.user_dict`)."""

    id: int
    name: str
    role: str
    agent_id: str | None
    branches: list[str]
    disabled: bool


class UserIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: UserRole
    agent_id: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    branches: Branches = Field(default_factory=list, description="empty: every branch")
    password: Annotated[
        str | None, Field(min_length=MIN_PASSWORD_CHARS, max_length=1000, description="none: API keys only")
    ] = None


class RoleIn(BaseModel):
    role: UserRole
    agent_id: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    branches: Branches | None = Field(None, description="replaces the user's branches when given")


@router.get("", response_model=list[UserOut])
def get_users(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Every user, disabled ones too."""
    require_role(user, ADMINS, "manage users")
    return [user_dict(u) for u in list_users(session)]


@router.post("", response_model=UserOut, status_code=201)
def post_user(session: SessionDep, user: CurrentUser, body: UserIn) -> dict[str, Any]:
    """Add a user (an agent needs `agent_id`); without a password the user logs in with API keys only."""
    require_role(user, ADMINS, "manage users")
    added = add_user(
        session,
        name=body.name,
        role=body.role,
        password=body.password,
        agent_id=body.agent_id,
        branches=body.branches,
        actor=user.name,
    )
    return user_dict(added)


@router.post("/{user_id}/disable", response_model=UserOut)
def post_disable(session: SessionDep, user: CurrentUser, user_id: UserId) -> dict[str, Any]:
    """Disable a user: their tokens and API keys stop working at once (the last active admin cannot be)."""
    require_role(user, ADMINS, "manage users")
    return user_dict(set_disabled(session, user_id=user_id, disabled=True, actor=user.name))


@router.post("/{user_id}/enable", response_model=UserOut)
def post_enable(session: SessionDep, user: CurrentUser, user_id: UserId) -> dict[str, Any]:
    require_role(user, ADMINS, "manage users")
    return user_dict(set_disabled(session, user_id=user_id, disabled=False, actor=user.name))


@router.post("/{user_id}/role", response_model=UserOut)
def post_role(session: SessionDep, user: CurrentUser, user_id: UserId, body: RoleIn) -> dict[str, Any]:
    """Change a user's role (and agent id / branches when given)."""
    require_role(user, ADMINS, "manage users")
    changed = change_role(
        session, user_id=user_id, role=body.role, agent_id=body.agent_id, branches=body.branches, actor=user.name
    )
    return user_dict(changed)
