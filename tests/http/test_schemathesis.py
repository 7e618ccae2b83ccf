"""Schemathesis against the app's own OpenAPI: generated requests (a bounded number per operation) never get a
5xx, and every response matches the schema the app publishes. Run as a senior supervisor, who can reach the most,
on a store holding one scored call."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.testclient import TestClient

from api.config import Settings
from api.http import create_app
from api.ingest import CallMetadata
from api.services.calls import audio_digest, claim_call, record_result, register_file
from api.services.users import add_user
from api.store import make_engine, make_sessionmaker, upgrade
from api.store.models import UserRole
from tests.http.conftest import PASSWORD, SECRET, TURNS, V1, call_transcript, finding, scorecard

EXAMPLES = 20
FOLDER = Path(tempfile.mkdtemp(prefix="callqa-fuzz-"))


def _app() -> tuple[object, dict[str, str]]:
    engine = make_engine(f"sqlite:///{FOLDER / 'fuzz.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        add_user(session, name="senior", role=UserRole.SENIOR_SUPERVISOR, password=PASSWORD)
    audio = FOLDER / "call.wav"
    audio.write_bytes(b"RIFF" * 1000)
    sha256, size = audio_digest(audio)
    with sessions.begin() as session:  # call 1, scored with findings 1 and 2: the id routes reach real objects
        register_file(session, path=str(audio), sha256=sha256, size=size, metadata=CallMetadata(), cti=None)
        claim_call(session, call_id=1, worker="fuzz")
        card = scorecard(40, finding("greeting.opening"), finding("closing.thanks", severity="fatal"))
        record_result(session, call_id=1, worker="fuzz", versions=V1, card=card, transcript=call_transcript(*TURNS))
    limits = Settings(upload_dir=FOLDER / "uploads", upload_max_bytes=10_000, database_url="sqlite://")
    app = create_app(settings=limits, sessions=sessions, secret=SECRET)
    token = TestClient(app).post("/api/auth/token", data={"username": "senior", "password": PASSWORD})
    return app, {"Authorization": f"Bearer {token.json()['access_token']}"}


APP, HEADERS = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_response_matches_the_schema(case: schemathesis.Case) -> None:
    # An upload's file name must end in an audio suffix, which OpenAPI cannot say: a schema-valid `file.png` is
    # rightly refused there, so only that operation skips the "valid data is accepted" check.
    skip = [positive_data_acceptance] if case.operation.path == "/api/calls" else []
    case.call_and_validate(headers=HEADERS, excluded_checks=skip)
