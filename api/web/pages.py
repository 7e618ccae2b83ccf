"""The pages: login/logout, the review queue and a call. Sessions are the API's own JWT in an HttpOnly cookie;
every form carries a CSRF token (double submit: a random cookie the form must echo) checked before anything else."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import BadInput, CallqaError, Conflict, Forbidden, NotFound, Unauthorized
from api.http.deps import SESSION_COOKIE, CallId, Router, SessionDep, SettingsDep, issue_token, user_from_credentials
from api.http.errors import STATUS
from api.http.errors import callqa_error_response as api_error
from api.services.audit import call_events
from api.services.history import review_state
from api.services.queries import show_call
from api.services.queue_view import claimed_calls, queue_facets
from api.services.reviews import (
    FindingDecision,
    NewFinding,
    QueueFilter,
    as_utc,
    claim_next,
    list_queue,
    release,
    renew,
    submit_review,
)
from api.services.scope import READERS, REVIEWERS, require_role, visible_call
from api.services.users import authenticate
from api.store.models import FindingRow, Review, ReviewState, User, utcnow
from api.web.i18n import LABELS, language, translate

HERE = Path(__file__).parent
CSRF_COOKIE = "callqa_csrf"
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
FLAGGED = ("fail", "uncertain")  # the machine's findings a reviewer confirms or rejects

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


def landing(role: str | None) -> str:
    """Each role's own first page: where login, `/` and the error page's back link send a person."""
    if role is None:
        return "/login"
    return {"agent": "/my", "admin": "/admin"}.get(role, "/queue")


def _viewer(request: Request) -> User | None:
    try:
        return page_user(request)
    except (LoginRequired, CallqaError):
        return None


@router.get("/", response_class=RedirectResponse)
def home(request: Request) -> RedirectResponse:
    user = _viewer(request)
    return RedirectResponse(landing(user.role if user else None), status_code=303)


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
    response = RedirectResponse(landing(user.role), status_code=303)
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


CATEGORY_LABELS = LABELS["category"]


def _text(value: str | None) -> str | None:
    # An empty form field means "no filter", never "the empty value".
    value = (value or "").strip()
    return value or None


def _day(value: str | None, field: str) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise BadInput(f"{field}: give a date as YYYY-MM-DD, not {text!r}") from None


def page_filters(
    branch: str | None = None,
    agent_id: str | None = None,
    category: str | None = None,
    rule_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    sampled: str | None = None,
) -> QueueFilter:
    """The queue filters from the page's form (query string or the claim form's hidden fields); `date_to` is a
    day included in full."""
    until = _day(date_to, "date_to")
    choice = _text(sampled)
    if choice not in (None, "yes", "no"):
        raise BadInput(f"sampled: yes or no, not {choice!r}")
    return QueueFilter(
        branch=_text(branch),
        agent_id=_text(agent_id),
        category=_text(category),
        rule_id=_text(rule_id),
        date_from=_day(date_from, "date_from"),
        date_to=until + timedelta(days=1) if until else None,
        sampled=None if choice is None else choice == "yes",
    )


def _filter_fields(filters: QueueFilter) -> dict[str, str]:
    """The filters as the form fields that give them back (for links, the claim form and the inputs)."""
    fields = {
        "branch": filters.branch or "",
        "agent_id": filters.agent_id or "",
        "category": filters.category or "",
        "rule_id": filters.rule_id or "",
        "date_from": filters.date_from.date().isoformat() if filters.date_from else "",
        "date_to": (filters.date_to - timedelta(days=1)).date().isoformat() if filters.date_to else "",
        "sampled": "" if filters.sampled is None else "yes" if filters.sampled else "no",
    }
    return fields


QueryText = Annotated[str | None, Query(max_length=200)]
FormText = Annotated[str | None, Form(max_length=200)]


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    branch: QueryText = None,
    agent_id: QueryText = None,
    category: QueryText = None,
    rule_id: QueryText = None,
    date_from: QueryText = None,
    date_to: QueryText = None,
    sampled: QueryText = None,
    empty: bool = False,
    done: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    user = page_user(request)
    require_role(user, READERS, "see the review queue")
    filters = page_filters(branch, agent_id, category, rule_id, date_from, date_to, sampled)
    request.app.state.review_sync(session)
    queue = list_queue(
        session, user=user, filters=filters, aging_hours=settings.queue_aging_hours, page=1, per_page=100
    )
    fields = _filter_fields(filters)
    return render(
        request,
        "queue.html",
        user=user,
        queue=queue,
        facets=queue_facets(session, user=user, filters=filters),
        claimed=claimed_calls(session, user=user, filters=filters),
        fields=fields,
        query=urlencode({k: v for k, v in fields.items() if v}),
        can_review=user.role in REVIEWERS,
        empty=empty,
        done=done,
    )


@router.post("/queue/claim")
def claim_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf: Annotated[str, Form(max_length=200)],
    branch: FormText = None,
    agent_id: FormText = None,
    category: FormText = None,
    rule_id: FormText = None,
    date_from: FormText = None,
    date_to: FormText = None,
    sampled: FormText = None,
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = page_user(request)
    require_role(user, REVIEWERS, "claim calls")
    filters = page_filters(branch, agent_id, category, rule_id, date_from, date_to, sampled)
    request.app.state.review_sync(session)
    review = claim_next(
        session,
        user=user,
        filters=filters,
        aging_hours=settings.queue_aging_hours,
        lease_minutes=settings.lease_minutes,
    )
    if review is not None:
        return RedirectResponse(f"/calls/{review.call_id}", status_code=303)
    query = urlencode({**{k: v for k, v in _filter_fields(filters).items() if v}, "empty": "true"})
    return RedirectResponse(f"/queue?{query}", status_code=303)


@dataclass(frozen=True)
class Lease:
    holder: str | None
    until: datetime | None
    mine: bool  # the viewer holds it, unexpired

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.until - utcnow()).total_seconds())) if self.until else 0


def _lease(session: Session, *, call_id: int, user: User) -> Lease | None:
    row = session.execute(
        select(Review, User.name).outerjoin(User, User.id == Review.lease_holder).where(Review.call_id == call_id)
    ).first()
    if row is None:
        return None
    review, holder = row
    if review.state != ReviewState.CLAIMED or review.lease_until is None:
        return None
    until = as_utc(review.lease_until)
    if until < utcnow():
        return None  # expired: the call is back in the queue for anyone
    return Lease(holder, until, review.lease_holder == user.id)


def _lanes(call: dict[str, Any], segments: list[dict[str, Any]]) -> list[str]:
    """The role of each audio channel, in channel order: from the transcript's own channel labels."""
    if (call.get("channels") or 1) < 2:
        return ["mixed"]
    by_channel = {s.get("channel"): s.get("role") for s in segments}
    agent = next((channel for channel, role in by_channel.items() if role == "agent"), 0)
    return ["agent", "client"] if agent == 0 else ["client", "agent"]


def _finding_channel(finding: dict[str, Any], segments: list[dict[str, Any]], lanes: list[str]) -> int:
    """The lane a finding belongs on: the speaker of the transcript line it overlaps most (the agent's when
    it overlaps none: most rules judge the agent). -1 on a mono call: the whole waveform."""
    if len(lanes) < 2 or finding["start"] is None:
        return -1
    start = finding["start"]
    # A point finding (no end, or end == start) is a 10 ms span, so it overlaps the line it falls in.
    end = max(finding["end"] if finding["end"] is not None else start, start + 0.01)

    def overlap(segment: dict[str, Any]) -> float:
        return float(min(end, segment["end"]) - max(start, segment["start"]))

    best = max(segments, key=overlap, default=None)
    role = best["role"] if best is not None and overlap(best) > 0 else "agent"
    return lanes.index(role) if role in lanes else -1


@dataclass
class ReviewForm:
    """What the reviewer entered: given back on a refused submission, so nothing typed is lost."""

    verdicts: dict[int, str] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)
    decision: str = ""
    comment: str = ""
    added: list[dict[str, str]] = field(default_factory=list)


def _call_page(
    request: Request,
    session: Session,
    *,
    user: User,
    call_id: int,
    status: int = 200,
    message: str | None = None,
    changes: list[dict[str, Any]] | None = None,
    form: ReviewForm | None = None,
) -> HTMLResponse:
    visible_call(session, user=user, call_id=call_id)
    request.app.state.review_sync(session)
    call = show_call(session, call_id=call_id).to_dict()
    segments = (call["transcript"] or {}).get("segments", [])
    lanes = _lanes(call, segments)
    for finding in call["findings"]:
        finding["channel"] = _finding_channel(finding, segments, lanes)
    lease = _lease(session, call_id=call_id, user=user)
    review = review_state(session, call_id=call_id)
    return render(
        request,
        "call.html",
        status=status,
        user=user,
        call=call,
        segments=segments,
        lanes=lanes,
        review=review,
        lease=lease,
        can_review=user.role in REVIEWERS,
        can_decide=user.role in REVIEWERS and lease is not None and lease.mine,
        categories=CATEGORY_LABELS,
        flagged=[f for f in call["findings"] if f["verdict"] in FLAGGED],
        others=[f for f in call["findings"] if f["verdict"] not in FLAGGED],
        rule_ids=sorted({f["rule_id"] for f in call["findings"]}),
        message=message,
        changes=changes or [],
        form=form or ReviewForm(),
    )


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, session: SessionDep, call_id: CallId) -> HTMLResponse:
    user = page_user(request)
    return _call_page(request, session, user=user, call_id=call_id)


FormList = Annotated[list[str], Form()]


def _seconds(value: str, label: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise BadInput(f"{label}: give seconds as a number, not {text!r}") from None
    if not 0 <= seconds <= 86_400:
        raise BadInput(f"{label}: {text} s is outside the call")
    return seconds


def _review_input(
    form: ReviewForm, finding_id: list[str], rule_categories: dict[str, str]
) -> tuple[list[FindingDecision], list[NewFinding]]:
    """The form's fields as the review service takes them. A missed finding names a rule (its category follows)
    or a category alone; the page always offers one blank row, which is skipped."""
    decisions = []
    for raw in finding_id:
        fid = int(raw) if raw.isdigit() and len(raw) < 10 else 0
        verdict = form.verdicts.get(fid, "")
        if verdict in ("confirm", "reject"):
            decisions.append(FindingDecision(fid, verdict, form.reasons.get(fid, "")))  # type: ignore[arg-type]
        elif verdict:
            raise BadInput(f"finding {raw}: confirm or reject, not {verdict!r}")
    added = []
    for n, row in enumerate(form.added, 1):
        if not row["category"] and row["rule_id"] in rule_categories:
            row["category"] = rule_categories[row["rule_id"]]
        if not row["category"]:
            if row["note"] or row["rule_id"]:
                raise BadInput(f"missed finding {n}: choose its category (or one of this call's rules)")
            continue
        if row["category"] not in CATEGORY_LABELS:
            raise BadInput(f"missed finding {n}: unknown category {row['category']!r}")
        start = _seconds(row["start"], f"missed finding {n} start")
        end = _seconds(row["end"], f"missed finding {n} end")
        added.append(NewFinding(row["category"], row["note"], row["rule_id"] or None, start, end))
    return decisions, added


def _changes(session: Session, *, call_id: int, since_version: int) -> list[dict[str, Any]]:
    """The review's audit events after the version the reviewer had read: what the conflict is about."""
    events = []
    for event in call_events(session, call_id=call_id):
        after = event.after or {}
        if isinstance(after.get("version"), int) and after["version"] > since_version:
            events.append(
                {
                    "at": as_utc(event.at).strftime("%Y-%m-%d %H:%M:%S UTC"),
                    "actor": event.actor,
                    "action": event.action,
                    "decision": after.get("decision"),
                    "comment": after.get("comment"),
                }
            )
    return events


@router.post("/calls/{call_id}/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    session: SessionDep,
    call_id: CallId,
    csrf: Annotated[str, Form(max_length=200)],
    version: Annotated[int, Form(ge=0, le=2_147_483_647)],
    decision: Annotated[str, Form(max_length=10)] = "",
    comment: Annotated[str, Form(max_length=5000)] = "",
    finding_id: FormList = [],  # noqa: B006  (FastAPI copies form defaults)
    verdict: FormList = [],  # noqa: B006
    reason: FormList = [],  # noqa: B006
    added_category: FormList = [],  # noqa: B006
    added_rule_id: FormList = [],  # noqa: B006
    added_start: FormList = [],  # noqa: B006
    added_end: FormList = [],  # noqa: B006
    added_note: FormList = [],  # noqa: B006
) -> Response:
    check_csrf(request, csrf)
    user = page_user(request)
    require_role(user, REVIEWERS, "review calls")
    if len(finding_id) > 1000 or len(added_category) > 200 or not len(verdict) == len(finding_id) == len(reason):
        raise BadInput("the form is malformed: reload the page")
    ids = [int(raw) if raw.isdigit() and len(raw) < 10 else 0 for raw in finding_id]
    rows = zip(added_category, added_rule_id, added_start, added_end, added_note, strict=False)
    form = ReviewForm(
        verdicts=dict(zip(ids, verdict, strict=False)),
        reasons=dict(zip(ids, reason, strict=False)),
        decision=decision,
        comment=comment,
        added=[
            {"category": c.strip(), "rule_id": r.strip(), "start": s, "end": e, "note": n.strip()}
            for c, r, s, e, n in rows
        ],
    )
    try:
        if decision not in ("pass", "fail"):
            raise BadInput(translate(language(request), "请选择通话的复核结论:合格或不合格"))
        rules = session.execute(
            select(FindingRow.rule_id, FindingRow.category)
            .join(Review, Review.scorecard_id == FindingRow.scorecard_id)
            .where(Review.call_id == call_id)
        )
        findings, added = _review_input(form, finding_id, {rule_id: category for rule_id, category in rules})
        submit_review(
            session,
            user=user,
            call_id=call_id,
            version=version,
            decision=decision,  # type: ignore[arg-type]
            comment=comment,
            findings=findings,
            added=added,
        )
    except Conflict as exc:
        session.rollback()
        changes = _changes(session, call_id=call_id, since_version=version)
        message = translate(
            language(request), "提交未保存:该通话在您打开后已被更改({detail})。下面是当前状态,您填写的内容已保留。"
        ).format(detail=exc)
        return _call_page(
            request, session, user=user, call_id=call_id, status=409, message=message, changes=changes, form=form
        )
    except BadInput as exc:
        session.rollback()
        return _call_page(request, session, user=user, call_id=call_id, status=422, message=str(exc), form=form)
    return RedirectResponse(f"/queue?done={call_id}", status_code=303)


@router.post("/calls/{call_id}/renew", response_class=HTMLResponse)
def renew_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    call_id: CallId,
    csrf: Annotated[str, Form(max_length=200)],
) -> Response:
    check_csrf(request, csrf)
    user = page_user(request)
    require_role(user, REVIEWERS, "hold calls")
    renew(session, user=user, call_id=call_id, lease_minutes=settings.lease_minutes)
    if request.headers.get("HX-Request") == "true":  # htmx swaps just the lease box
        lease = _lease(session, call_id=call_id, user=user)
        return render(request, "_lease.html", call_id=call_id, lease=lease, can_review=True, renewed=True)
    return RedirectResponse(f"/calls/{call_id}", status_code=303)


@router.post("/calls/{call_id}/release")
def release_page(
    request: Request, session: SessionDep, call_id: CallId, csrf: Annotated[str, Form(max_length=200)]
) -> RedirectResponse:
    check_csrf(request, csrf)
    user = page_user(request)
    require_role(user, REVIEWERS, "release calls")
    release(session, user=user, call_id=call_id)
    return RedirectResponse("/queue", status_code=303)


def _page_error(request: Request, exc: Exception) -> Response:
    """API paths keep their JSON errors; a page gets a page (or the login form)."""
    if request.url.path.startswith("/api"):
        return api_error(request, exc)
    if isinstance(exc, LoginRequired | Unauthorized):
        return RedirectResponse("/login", status_code=303)
    status = next((STATUS[kind][0] for kind in type(exc).__mro__ if kind in STATUS), 400)
    if isinstance(exc, NotFound):
        status = 404
    user = _viewer(request)
    return render(
        request, "error.html", status=status, message=str(exc), user=user, back=landing(user.role if user else None)
    )


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(CallqaError, _page_error)
    app.add_exception_handler(LoginRequired, _page_error)
