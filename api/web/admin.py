"""/admin: users and their roles: list, add, disable (the same services as `callqa users`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.errors import BadInput
from api.http.deps import Router, SessionDep
from api.services.scope import require_role
from api.services.users import add_user, disable_user, list_users
from api.store.models import UserRole
from api.web.pages import check_csrf, page_user, render

router = Router(include_in_schema=False)
ADMINS = frozenset({UserRole.ADMIN})
Name = Annotated[str, Form(max_length=200)]


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, session: SessionDep) -> HTMLResponse:
    user = page_user(request)
    require_role(user, ADMINS, "manage users")
    return render(request, "admin.html", user=user, users=list_users(session), roles=list(UserRole))


@router.post("/admin/users", response_class=RedirectResponse)
def admin_add(
    request: Request,
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=200)],
    name: Name,
    role: Annotated[str, Form(max_length=30)],
    password: Annotated[str, Form(max_length=1000)],
    agent_id: Name = "",
    branches: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = page_user(request)
    require_role(user, ADMINS, "manage users")
    if role not in set(UserRole):
        raise BadInput(f"{role!r} is not a role: one of {', '.join(UserRole)}")
    add_user(
        session,
        name=name,
        role=UserRole(role),
        password=password,
        agent_id=agent_id.strip() or None,
        branches=[b.strip() for b in branches.replace(",", ",").split(",") if b.strip()],
        actor=user.name,
    )
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/disable", response_class=RedirectResponse)
def admin_disable(
    request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=200)], name: Name
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = page_user(request)
    require_role(user, ADMINS, "manage users")
    if name == user.name:
        raise BadInput("you cannot disable yourself: another admin must")
    disable_user(session, name=name, actor=user.name)
    return RedirectResponse("/admin", status_code=303)
