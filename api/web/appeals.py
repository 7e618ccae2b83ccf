"""/appeals: a senior supervisor's open appeals; one appeal beside its call's findings and the agent's reason,
with a ruling (uphold or overturn) per appealed finding and one comment. A ruling is final."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.errors import BadInput
from api.http.deps import Router, SessionDep
from api.services.appeals import FindingRuling, list_appeals, rule_on_appeal
from api.services.browse import appeal_for
from api.services.history import review_state
from api.services.queries import show_call
from api.services.scope import require_role
from api.store.models import UserRole
from api.web.pages import check_csrf, page_user, render

router = Router(include_in_schema=False)
JUDGES = frozenset({UserRole.SENIOR_SUPERVISOR})
AppealId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/appeals", response_class=HTMLResponse)
def appeals_page(request: Request, session: SessionDep) -> HTMLResponse:
    user = page_user(request)
    require_role(user, JUDGES, "rule on appeals")
    every = list_appeals(session, user=user)
    open_appeals = [a for a in every if a["state"] == "open"]
    ruled = [a for a in reversed(every) if a["state"] != "open"]
    return render(request, "appeals.html", user=user, open_appeals=open_appeals, ruled=ruled)


@router.get("/appeals/{appeal_id}", response_class=HTMLResponse)
def appeal_page(request: Request, session: SessionDep, appeal_id: AppealId) -> HTMLResponse:
    user = page_user(request)
    require_role(user, JUDGES, "rule on appeals")
    appeal = appeal_for(session, user=user, appeal_id=appeal_id)
    call = show_call(session, call_id=appeal["call_id"]).to_dict()
    # An appeal naming no finding contests them all.
    contested = set(appeal["finding_ids"]) or {f["id"] for f in call["findings"]}
    return render(
        request,
        "appeal.html",
        user=user,
        appeal=appeal,
        call=call,
        contested=contested,
        review=review_state(session, call_id=appeal["call_id"]),
    )


@router.post("/appeals/{appeal_id}/ruling", response_class=RedirectResponse)
def appeal_ruling(
    request: Request,
    session: SessionDep,
    appeal_id: AppealId,
    csrf: Annotated[str, Form(max_length=200)],
    finding_id: Annotated[list[int], Form(max_length=1000)],
    outcome: Annotated[list[Literal["uphold", "overturn"]], Form(max_length=1000)],
    comment: Annotated[str, Form(max_length=5000)] = "",
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = page_user(request)
    if len(finding_id) != len(outcome):
        raise BadInput("give one outcome for each appealed finding")
    rulings = [FindingRuling(f, o) for f, o in zip(finding_id, outcome, strict=True)]
    rule_on_appeal(session, user=user, appeal_id=appeal_id, rulings=rulings, comment=comment)
    return RedirectResponse(f"/appeals/{appeal_id}", status_code=303)
