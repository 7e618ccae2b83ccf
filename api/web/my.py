"""/my: an agent's own calls and scores, each call's findings and review, the appeal form while the appeal
period (CALLQA_APPEAL_DAYS) lasts, and acknowledging a review."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.http.deps import CallId, Router, SessionDep, SettingsDep
from api.services.appeals import file_appeal
from api.services.browse import CallFilter, appeal_deadline, can_acknowledge, scored_calls
from api.services.history import review_state
from api.services.queries import show_call
from api.services.reviews import acknowledge
from api.services.scope import require_role, visible_call
from api.store.models import UserRole
from api.web.pages import check_csrf, page_user, render

router = Router(include_in_schema=False)
AGENTS = frozenset({UserRole.AGENT})


@router.get("/my", response_class=HTMLResponse)
def my_calls(request: Request, session: SessionDep) -> HTMLResponse:
    user = page_user(request)
    require_role(user, AGENTS, "see an agent's own calls")
    calls = scored_calls(session, user=user, filters=CallFilter())
    return render(request, "my.html", user=user, calls=calls)


@router.get("/my/{call_id}", response_class=HTMLResponse)
def my_call(
    request: Request, session: SessionDep, settings: SettingsDep, call_id: CallId, filed: bool = False
) -> HTMLResponse:
    user = page_user(request)
    require_role(user, AGENTS, "see an agent's own calls")
    visible_call(session, user=user, call_id=call_id)  # another agent's call is not found
    call = show_call(session, call_id=call_id).to_dict()
    return render(
        request,
        "my_call.html",
        user=user,
        call=call,
        review=review_state(session, call_id=call_id),
        deadline=appeal_deadline(session, user=user, call_id=call_id, appeal_days=settings.appeal_days),
        can_acknowledge=can_acknowledge(session, user=user, call_id=call_id),
        filed=filed,
    )


@router.post("/my/{call_id}/appeal", response_class=RedirectResponse)
def my_appeal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    call_id: CallId,
    csrf: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=5000)] = "",
    finding_ids: Annotated[list[int], Form(max_length=1000)] = [],  # noqa: B006  (FastAPI copies defaults)
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = page_user(request)
    file_appeal(
        session, user=user, call_id=call_id, reason=reason, finding_ids=finding_ids, appeal_days=settings.appeal_days
    )
    return RedirectResponse(f"/my/{call_id}?filed=true", status_code=303)


@router.post("/my/{call_id}/acknowledge", response_class=RedirectResponse)
def my_acknowledge(
    request: Request, session: SessionDep, call_id: CallId, csrf: Annotated[str, Form(max_length=200)]
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = page_user(request)
    require_role(user, AGENTS, "acknowledge reviews")
    acknowledge(session, user=user, call_id=call_id)
    return RedirectResponse(f"/my/{call_id}", status_code=303)
