"""/dashboard: calls scored, pass rate, needing review, top failing rules, per branch and per agent (totals and
over time, charted with the vendored uPlot); every number links to /dashboard/calls filtered to the calls it counts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from api.http.deps import Router, SessionDep
from api.services.browse import CallFilter, daily_series, scored_calls, totals
from api.services.scope import READERS, require_role
from api.services.stats import stats
from api.web.pages import page_user, render

router = Router(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, session: SessionDep) -> HTMLResponse:
    user = page_user(request)
    require_role(user, READERS, "see the dashboard")
    numbers = stats(session, user=user)
    charts: dict[str, Any] = {
        "per_day": list(reversed(numbers["per_day"])),
        "per_branch": daily_series(session, user=user, by="branch"),
        "per_agent": daily_series(session, user=user, by="agent_id"),
    }
    return render(
        request, "dashboard.html", user=user, numbers=numbers, totals=totals(session, user=user), charts=charts
    )


@router.get("/dashboard/calls", response_class=HTMLResponse)
def dashboard_calls(
    request: Request,
    session: SessionDep,
    branch: Text = None,
    agent_id: Text = None,
    rule_id: Text = None,
    day: date | None = None,
    passed: bool | None = None,
    needs_review: bool | None = None,
) -> HTMLResponse:
    user = page_user(request)
    require_role(user, READERS, "see the dashboard")
    filters = CallFilter(branch, agent_id, rule_id, day, passed, needs_review)
    shown = {key: value for key, value in filters.__dict__.items() if value is not None}
    calls = scored_calls(session, user=user, filters=filters)
    return render(request, "calls.html", user=user, calls=calls, shown=shown)
