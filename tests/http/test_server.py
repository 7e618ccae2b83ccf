"""`callqa serve` as a real uvicorn process (and as two worker processes): 50 concurrent claimers over HTTP, each
call claimed exactly once, counted once in /metrics; the refusals to serve without a signing key, and to run
several workers without a broker."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from kombu import Connection
from sqlalchemy.orm import Session, sessionmaker

from api.cli.local_server import CALLQA, local_server
from api.services.users import add_user, create_api_key
from api.store.models import UserRole
from tests.http.conftest import SECRET, Seed, finding, scorecard

CLAIMERS = 50
CALLS = 30


REDIS = os.environ.get("CALLQA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(params=[1, 2], ids=["one-process", "two-processes"])
def server(
    request: pytest.FixtureRequest, db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[str]:
    """`callqa serve`, alone or as two uvicorn worker processes (which need a broker for uploads: none are made)."""
    env = {**os.environ, "CALLQA_DATABASE_URL": db_url, "CALLQA_SECRET_KEY": SECRET, "CALLQA_SAMPLE_RATE": "0"}
    if request.param > 1:
        env["CALLQA_BROKER_URL"] = _reachable_or_skip(REDIS)
    log = tmp_path / "server.log"
    with local_server(env, log, args=[f"--workers={request.param}"]) as base:
        yield base
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def test_fifty_concurrent_claimers_get_each_call_exactly_once(
    server: str, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    call_ids = {seed(scorecard(40 + n % 30, finding("greeting.opening"))) for n in range(CALLS)}
    with sessions.begin() as session:
        for n in range(CLAIMERS):
            add_user(session, name=f"claimer{n}", role=UserRole.SUPERVISOR, password=None)
        keys = [create_api_key(session, user_name=f"claimer{n}").key for n in range(CLAIMERS)]

    def claim_all(key: str) -> list[int]:
        won = []
        with httpx.Client(base_url=server, headers={"X-API-Key": key}, timeout=60) as http:
            while (response := http.post("/api/queue/claim")).status_code == 200:
                won.append(response.json()["call_id"])
            assert response.status_code == 204, response.text
        return won

    with ThreadPoolExecutor(CLAIMERS) as pool:
        results = list(pool.map(claim_all, keys))
    claimed = Counter(call_id for won in results for call_id in won)
    assert set(claimed) == call_ids and set(claimed.values()) == {1}
    metrics = httpx.get(f"{server}/metrics").text
    assert 'callqa_http_requests_total{method="POST",route="/api/queue/claim",status="200"} 30.0' in metrics


def _reachable_or_skip(url: str) -> str:
    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception:  # kombu raises the transport's own errors
        pytest.skip(f"no broker at CALLQA_TEST_REDIS_URL ({url}): start Redis or set the variable")
    return url


def test_several_workers_need_a_broker(db_url: str, sessions: sessionmaker[Session]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CALLQA_BROKER_URL"}
    result = subprocess.run(
        [CALLQA, "serve", "--workers", "2", "--port", "1"],
        env={**env, "CALLQA_DATABASE_URL": db_url, "CALLQA_SECRET_KEY": SECRET},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "CALLQA_BROKER_URL" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_to_start_without_a_signing_key(db_url: str, sessions: sessionmaker[Session]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CALLQA_SECRET_KEY"}
    result = subprocess.run(
        [CALLQA, "serve", "--port", "1"],
        env={**env, "CALLQA_DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "CALLQA_SECRET_KEY is not set" in result.stderr
    short = subprocess.run(
        [CALLQA, "serve"],
        env={**env, "CALLQA_DATABASE_URL": db_url, "CALLQA_SECRET_KEY": "short"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        short.returncode == 2 and "CALLQA_SECRET_KEY" in short.stderr and "short" not in short.stderr.split(":", 2)[-1]
    )
