"""HTTP tests: the app on a fresh SQLite and PostgreSQL database each (the store tests' fixtures), users of every
role, and scored calls seeded through the same services the batch uses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.http import create_app
from api.ingest import CallMetadata
from api.services.calls import audio_digest, claim_call, record_result, register_file
from api.services.users import add_user
from api.services.versions import Versions
from api.store.models import UserRole
from scoring import Finding, Scorecard
from scoring.findings import Category, Severity, Verdict
from scoring.hangup import Hangup
from tests.scoring.factory import call as call_transcript
from tests.store.conftest import db_url, sessions  # noqa: F401  (fixtures)
from tests.store.stand_ins import TURNS

SECRET = "s" * 40
PASSWORD = "correct horse battery"
V1 = Versions("t-one", "p-one")
USERS = {
    "sup": (UserRole.SUPERVISOR, None, []),
    "sup2": (UserRole.SUPERVISOR, None, []),
    "bj_sup": (UserRole.SUPERVISOR, None, ["bj"]),
    "senior": (UserRole.SENIOR_SUPERVISOR, None, []),
    "trainer": (UserRole.TRAINER, None, []),
    "admin": (UserRole.ADMIN, None, []),
    "agent7": (UserRole.AGENT, "7", []),
    "agent8": (UserRole.AGENT, "8", []),
}


def finding(rule_id: str, verdict: str = "fail", severity: str = "major", points: int = 10) -> Finding:
    return Finding(
        rule_id=rule_id,
        category=Category.FORBIDDEN_PHRASE,
        verdict=Verdict(verdict),
        severity=Severity(severity),
        start=1.0,
        end=2.0,
        evidence="不知道",
        source="seed 第一条",
        points=points,
        message="forbidden phrase",
    )


def scorecard(score: int, *findings: Finding, passed: bool | None = None, needs_review: bool = True) -> Scorecard:
    return Scorecard(
        file="x.wav",
        duration=10.0,
        score=score,
        passed=score >= 80 if passed is None else passed,
        needs_review=needs_review,
        hangup=Hangup(by="client", confidence=1.0, source="cti"),
        findings=findings,
    )


Seed = Callable[..., int]


@pytest.fixture
def seed(sessions: sessionmaker[Session], tmp_path: Path) -> Seed:  # noqa: F811
    """A scored call: its audio file on disk, registered, and recorded with `card`."""
    count = iter(range(1_000_000))

    def make(card: Scorecard, *, agent_id: str = "7", branch: str = "sh", audio: bytes | None = None) -> int:
        path = tmp_path / f"call{next(count):04d}.wav"
        path.write_bytes(audio if audio is not None else path.name.encode() * 100)
        sha256, size = audio_digest(path)
        with sessions.begin() as session:
            metadata = CallMetadata(agent_id=agent_id, branch=branch)
            call_id = register_file(session, path=str(path), sha256=sha256, size=size, metadata=metadata, cti=None)
            assert claim_call(session, call_id=call_id, worker="seed")
            record_result(
                session, call_id=call_id, worker="seed", versions=V1, card=card, transcript=call_transcript(*TURNS)
            )
        return call_id

    return make


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(sample_rate=0.0, upload_dir=tmp_path / "uploads", database_url="sqlite://")


@pytest.fixture
def client(sessions: sessionmaker[Session], settings: Settings) -> Iterator[TestClient]:  # noqa: F811
    with sessions.begin() as session:
        for name, (role, agent_id, branches) in USERS.items():
            add_user(session, name=name, role=role, password=PASSWORD, agent_id=agent_id, branches=branches)
    app = create_app(settings=settings, sessions=sessions, secret=SECRET)
    with TestClient(app) as test_client:
        yield test_client


def login(client: TestClient, name: str) -> dict[str, str]:
    response = client.post("/api/auth/token", data={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
