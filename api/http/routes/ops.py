from __future__ import annotations

import os
from typing import Any

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text

from api.http.deps import CurrentUser, Router, SessionDep, sync_queue
from api.services.scope import READERS, require_role
from api.services.stats import stats

router = Router(tags=["operations"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Liveness and the store: 200 when the database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus exposition: request counts and latencies per route template."""
    registry = request.app.state.registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # `callqa serve --workers N`: every worker's counts, summed
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/stats")
def get_stats(request: Request, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Queue depth, calls scored/failed/needing review per day, top failing rules, per branch and agent."""
    require_role(user, READERS, "read statistics")
    sync_queue(request, session)
    return stats(session, user=user)
