"""The pages beyond the review queue and call page: an agent's calls, appeals, rules, dashboard, users, and the
language switch. `mount` adds them to the app after `pages.mount`, on the same templates, sessions and CSRF."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import RedirectResponse

from api.http.deps import Router
from api.web.admin import router as admin_router
from api.web.appeals import router as appeals_router
from api.web.dashboard import router as dashboard_router
from api.web.i18n import LANG_COOKIE, LANGUAGES, install
from api.web.my import router as my_router
from api.web.pages import TEMPLATES
from api.web.rules import router as rules_router

router = Router(include_in_schema=False)
ONE_YEAR = 365 * 24 * 3600


@router.get("/lang/{code}", response_class=RedirectResponse)
def switch_language(code: str, back: Annotated[str, Query(alias="next", max_length=2000)] = "/") -> RedirectResponse:
    """A preference, not an action on data: a plain link sets it, no form or CSRF token needed."""
    # Only a path on this site: `//host` or `/\host` would send the person elsewhere.
    target = back if back.startswith("/") and not back.startswith(("//", "/\\")) else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, code if code in LANGUAGES else "zh", max_age=ONE_YEAR, samesite="lax", path="/")
    return response


def mount(app: FastAPI) -> None:
    install(TEMPLATES)
    for module_router in (router, my_router, appeals_router, rules_router, dashboard_router, admin_router):
        app.include_router(module_router)
