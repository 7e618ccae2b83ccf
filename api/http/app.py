"""The FastAPI application: routes, the one error mapping, request metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.http.errors import install as install_errors
from api.http.routes import appeals, auth, calls, ops, queue
from api.worker.local import Processor

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
    app.state.secret = secret
    app.state.registry = CollectorRegistry()  # per app: two apps in one process (tests) do not collide
    _metrics(app)
    install_errors(app)
    for module in (auth, queue, calls, appeals, ops):
        app.include_router(module.router)
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
