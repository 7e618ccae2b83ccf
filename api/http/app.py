"""The FastAPI application: routes, the one error mapping, request metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

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

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")  # the template, never the id: bounded label values
        requests.labels(request.method, path, str(response.status_code)).inc()
        latency.labels(request.method, path).observe(time.perf_counter() - started)
        return response
