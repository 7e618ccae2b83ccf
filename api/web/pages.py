"""The pages: login/logout, the review queue and a call. Sessions are the API's own JWT in an HttpOnly cookie;
every form carries a CSRF token (double submit: a random cookie the form must echo) checked before anything else."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader

from api.errors import CallqaError, Forbidden, NotFound, Unauthorized
from api.http.deps import SESSION_COOKIE, CallId, Router, SessionDep, SettingsDep, issue_token, user_from_credentials
from api.http.errors import STATUS
from api.http.errors import callqa_error_response as api_error
from api.services.history import review_state
from api.services.queries import show_call
from api.services.reviews import QueueFilter, claim_next, list_queue
from api.services.scope import READERS, REVIEWERS, require_role, visible_call
from api.services.users import authenticate
from api.store.models import User

HERE = Path(__file__).parent
CSRF_COOKIE = "callqa_csrf"
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
ROLE_LABELS = {"agent": "坐席", "client": "客户"}
VERDICT_LABELS = {"fail": "不合格", "pass": "合格", "uncertain": "待定", "not_applicable": "不适用"}

router = Router(include_in_schema=False)


class LoginRequired(Exception):
    """A page asked for without a valid session: the person goes to the login form."""


def _csrf(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE) or request.state.__dict__.setdefault("csrf", secrets.token_urlsafe(32))


def check_csrf(request: Request, token: str) -> None:
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, token):
        raise Forbidden("the form has expired or came from another site: reload the page and try again")


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    csrf = _csrf(request)
    html = TEMPLATES.get_template(name).render(request=request, csrf=csrf, **context)
    response = HTMLResponse(html, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="lax", path="/")
    return response


def page_user(request: Request) -> User:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    with request.app.state.sessions() as session:
        try:
            return user_from_credentials(request, session, token, None)
        except Unauthorized:
            raise LoginRequired from None


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/queue", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(max_length=200)],
) -> Response:
    check_csrf(request, csrf)
    try:
        user = authenticate(session, name=username, password=password)
    except Unauthorized:
        return render(request, "login.html", status=401, error="用户名或密码错误")
    response = RedirectResponse({"agent": "/my", "admin": "/admin"}.get(user.role, "/queue"), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issue_token(request, user),
        max_age=settings.token_minutes * 60,
        httponly=True,
        samesite="lax",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)]) -> RedirectResponse:
    check_csrf(request, csrf)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, settings: SettingsDep, empty: bool = False) -> HTMLResponse:
    user = page_user(request)
    require_role(user, READERS, "see the review queue")
    request.app.state.review_sync(session)
    queue = list_queue(
        session, user=user, filters=QueueFilter(), aging_hours=settings.queue_aging_hours, page=1, per_page=100
    )
    return render(request, "queue.html", user=user, queue=queue, can_review=user.role in REVIEWERS, empty=empty)


@router.post("/queue/claim")
def claim_page(
    request: Request, session: SessionDep, settings: SettingsDep, csrf: Annotated[str, Form(max_length=200)]
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = page_user(request)
    require_role(user, REVIEWERS, "claim calls")
    request.app.state.review_sync(session)
    review = claim_next(
        session,
        user=user,
        filters=QueueFilter(),
        aging_hours=settings.queue_aging_hours,
        lease_minutes=settings.lease_minutes,
    )
    target = f"/calls/{review.call_id}" if review is not None else "/queue?empty=true"
    return RedirectResponse(target, status_code=303)


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, session: SessionDep, call_id: CallId) -> HTMLResponse:
    user = page_user(request)
    visible_call(session, user=user, call_id=call_id)
    request.app.state.review_sync(session)
    call = show_call(session, call_id=call_id).to_dict()
    segments = (call["transcript"] or {}).get("segments", [])
    return render(
        request,
        "call.html",
        user=user,
        call=call,
        segments=segments,
        review=review_state(session, call_id=call_id),
        can_review=user.role in REVIEWERS,
        roles=ROLE_LABELS,
        verdicts=VERDICT_LABELS,
    )


def _page_error(request: Request, exc: Exception) -> Response:
    """API paths keep their JSON errors; a page gets a page (or the login form)."""
    if request.url.path.startswith("/api"):
        return api_error(request, exc)
    if isinstance(exc, LoginRequired | Unauthorized):
        return RedirectResponse("/login", status_code=303)
    status = next((STATUS[kind][0] for kind in type(exc).__mro__ if kind in STATUS), 400)
    if isinstance(exc, NotFound):
        status = 404
    return render(request, "error.html", status=status, message=str(exc))


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(CallqaError, _page_error)
    app.add_exception_handler(LoginRequired, _page_error)
