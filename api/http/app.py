"""The FastAPI application: routes, the one error mapping, request metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings
from api.http.deps import ReviewSync
from api.http.errors import install as install_errors
from api.http.routes import appeals, auth, calls, ops, queue, users
from api.store.engine import read_only
from api.web import mount as mount_pages
from api.worker.local import Processor


class ErrorOut(BaseModel):
    """Every error: a stable code and a one-line message for the person."""

    error: str
    detail: str


# Documented on every route, replacing FastAPI's own 422 shape: the schema says what the handlers really send.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "the body cannot be parsed (not JSON, not UTF-8)"),
        (401, "not logged in, or the credentials are wrong, expired or disabled"),
        (403, "the caller's role may not do this"),
        (404, "no such object within the caller's scope"),
        (409, "stale version, a lease held by someone else, or a state that does not allow this"),
        (413, "the upload is too large"),
        (422, "the request is malformed"),
        (503, "the store is unavailable or misconfigured"),
    )
}
DESCRIPTION = "Supervisors' review of scored calls: queue, claim, review, appeal, audit trail."


class _Pending:
    """No processor: uploads stay pending until a `callqa batch` over the upload folder (or a worker) takes them."""

    def submit(self, call_id: int) -> None:
        pass


def create_app(
    *, settings: Settings, sessions: sessionmaker[Session], secret: str, processor: Processor | None = None
) -> FastAPI:
    """`secret` signs the access tokens (`callqa serve` refuses to start without a good one); `processor` takes
    uploaded calls (`callqa serve` gives the local process pool)."""
    app = FastAPI(title="callqa", version="1", description=DESCRIPTION)
    app.state.processor = processor or _Pending()
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.read_sessions = read_only(sessions)  # the per-request credential check
    app.state.secret = secret
    app.state.review_sync = ReviewSync(settings.sample_rate)
    app.state.registry = CollectorRegistry()  # per app: two apps in one process (tests) do not collide
    _metrics(app)
    install_errors(app)
    for module in (auth, queue, calls, appeals, ops, users):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    mount_pages(app)
    return app


def _metrics(app: FastAPI) -> None:
    requests = Counter(
        "callqa_http_requests", "HTTP requests", ["method", "route", "status"], registry=app.state.registry
    )
    latency = Histogram(
        "callqa_http_request_seconds", "HTTP request latency", ["method", "route"], registry=app.state.registry
    )
    app.add_middleware(RequestMetrics, requests=requests, latency=latency)


class RequestMetrics:
    """Counts and times every HTTP request by route template (never the id: bounded label values). Plain ASGI:
    Starlette's `BaseHTTPMiddleware` adds a task and a stream per request (6-11 % of a claim's CPU in py-spy)."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before it starts a response

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(scope["method"], path, str(status)).inc()
            self.latency.labels(scope["method"], path).observe(time.perf_counter() - started)
