"""Deleting a call's stored data, on SQLite and PostgreSQL: a senior supervisor over HTTP or an operator with
`callqa calls delete`; every row of the call goes, the audit trail keeps its events plus a call.delete and still
verifies, a recording on the recorder's disk stays, an upload callqa stored is removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.ingest import CallMetadata
from api.services.audit import verify_chain
from api.services.calls import audio_digest, claim_call, record_result, register_file
from api.store.models import (
    Appeal,
    AuditEvent,
    Call,
    CallFile,
    FindingRow,
    FindingVerdict,
    Job,
    Review,
    ReviewDecision,
    ScorecardRow,
    TranscriptRow,
)
from tests.http.conftest import V1, Seed, finding, login, scorecard
from tests.scoring.factory import call as call_transcript
from tests.store.stand_ins import TURNS

CALLQA = str(Path(sys.executable).parent / "callqa")
TABLES = (Call, CallFile, TranscriptRow, ScorecardRow, FindingRow, Job, Review, ReviewDecision, FindingVerdict, Appeal)


def _rows(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def _reviewed_and_appealed(client: TestClient, call_id: int) -> None:
    sup, agent = login(client, "sup"), login(client, "agent7")
    assert client.post("/api/queue/claim", headers=sup).json()["call_id"] == call_id
    detail = client.get(f"/api/calls/{call_id}", headers=sup).json()
    verdicts = [{"finding_id": detail["findings"][0]["id"], "verdict": "confirm", "reason": ""}]
    body = {"version": detail["version"], "decision": "fail", "findings": verdicts}
    assert client.post(f"/api/calls/{call_id}/review", headers=sup, json=body).status_code == 200
    assert client.post(f"/api/calls/{call_id}/appeal", headers=agent, json={"reason": "no"}).status_code == 201


def test_a_senior_supervisor_deletes_a_call_and_everything_stored_about_it(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    doomed = seed(scorecard(50, finding("greeting.opening")))
    kept = seed(scorecard(60, finding("greeting.opening")))
    _reviewed_and_appealed(client, doomed)
    with sessions() as session:
        recording = Path(session.scalars(select(CallFile.path).where(CallFile.call_id == doomed)).one())
    senior = login(client, "senior")
    url = f"/api/calls/{doomed}/delete"
    for name in ("sup", "trainer", "admin", "agent7"):
        refused = client.post(url, headers=login(client, name), json={"reason": "retention"})
        assert refused.status_code == 403, name
    assert client.post(url, headers=senior, json={"reason": ""}).status_code == 422
    assert client.post("/api/calls/999999/delete", headers=senior, json={"reason": "x"}).status_code == 404
    before = _rows(sessions)

    done = client.post(url, headers=senior, json={"reason": "retention: older than 3 years"})
    assert done.status_code == 200, done.text
    assert done.json() == {"call_id": doomed, "deleted": True, "removed_uploads": 0}
    after = _rows(sessions)
    assert after["calls"] == before["calls"] - 1 and after["reviews"] == 1 and after["appeals"] == 0
    assert after["review_decisions"] == 0 and after["finding_verdicts"] == 0
    assert after["transcripts"] == 1 and after["scorecards"] == 1 and after["jobs"] == 1
    assert client.get(f"/api/calls/{doomed}", headers=senior).status_code == 404
    assert client.get(f"/api/calls/{kept}", headers=senior).status_code == 200
    assert recording.exists()  # the recorder's file is not callqa's to delete
    with sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "call.delete")).one()
        assert event.actor == "senior" and event.call_id == doomed and event.before is not None
        assert event.before["review_state"] == "appealed" and event.before["decisions"] == 1
        assert event.after == {"reason": "retention: older than 3 years"}
        assert session.scalar(select(func.count()).where(AuditEvent.call_id == doomed)) > 3  # history kept
        assert verify_chain(session)[1] == []


def test_callqa_calls_delete_removes_an_upload_it_stored_but_never_a_recording(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    upload_dir = tmp_path / "uploads"
    upload_dir.mkdir()
    uploaded, found = upload_dir / "a.wav", tmp_path / "recorder" / "b.wav"
    found.parent.mkdir()
    uploaded.write_bytes(b"upload" * 100)
    found.write_bytes(b"recorder" * 100)
    ids = []
    for path in (uploaded, found):
        sha256, size = audio_digest(path)
        with sessions.begin() as session:
            call_id = register_file(
                session, path=str(path), sha256=sha256, size=size, metadata=CallMetadata(), cti=None
            )
            assert claim_call(session, call_id=call_id, worker="seed")
            card = scorecard(50, finding("greeting.opening"))
            record_result(
                session, call_id=call_id, worker="seed", versions=V1, card=card, transcript=call_transcript(*TURNS)
            )
        ids.append((call_id, sha256))
    env = {**os.environ, "CALLQA_DATABASE_URL": db_url, "CALLQA_UPLOAD_DIR": str(upload_dir)}

    def callqa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CALLQA, "calls", "delete", *args], capture_output=True, text=True, env=env, timeout=120)

    missing = callqa("999999", "--reason", "x", "--yes")
    assert missing.returncode != 0 and "no such call" in missing.stderr and "Traceback" not in missing.stderr
    assert callqa(str(ids[0][0]), "--reason", " ", "--yes").returncode != 0
    by_id = callqa(str(ids[0][0]), "--reason", "mistaken upload", "--yes")
    assert by_id.returncode == 0, by_id.stderr
    by_sha = callqa(ids[1][1][:12], "--reason", "retention", "--yes")
    assert by_sha.returncode == 0, by_sha.stderr
    assert not uploaded.exists() and found.exists()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 0
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions.count("call.delete") == 2
        assert verify_chain(session)[1] == []
