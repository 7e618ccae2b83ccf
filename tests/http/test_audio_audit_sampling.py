"""Audio with HTTP Range, refused once the file no longer holds the call's audio; the audit chain and its
tampering; the deterministic sample of passed calls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from api.services.audit import append_event, event_hash, verify_chain
from api.services.reviews import sampled, sync_reviews
from api.store.models import AuditEvent, CallFile, Review
from tests.http.conftest import Seed, finding, login, scorecard

CALLQA = [str(Path(sys.executable).parent / "callqa")]


def test_audio_whole_and_by_range_and_refused_once_the_file_changed(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    audio = bytes(range(256)) * 40
    call_id = seed(scorecard(40, finding("greeting.opening")), audio=audio)
    sup = login(client, "sup")
    whole = client.get(f"/api/calls/{call_id}/audio", headers=sup)
    assert whole.status_code == 200 and whole.content == audio and whole.headers["accept-ranges"] == "bytes"
    part = client.get(f"/api/calls/{call_id}/audio", headers={**sup, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == audio[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(audio)}"
    tail = client.get(f"/api/calls/{call_id}/audio", headers={**sup, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == audio[-10:]
    beyond = client.get(f"/api/calls/{call_id}/audio", headers={**sup, "Range": f"bytes={len(audio) + 5}-"})
    assert beyond.status_code == 416

    with sessions() as session:
        path = Path(session.scalars(select(CallFile.path).where(CallFile.call_id == call_id)).one())
    path.write_bytes(b"another recording now" * 10)
    changed = client.get(f"/api/calls/{call_id}/audio", headers=sup)
    assert changed.status_code == 404 and "changed" in changed.json()["detail"]
    path.unlink()
    assert "missing" in client.get(f"/api/calls/{call_id}/audio", headers=sup).json()["detail"]


def _chain(sessions: sessionmaker[Session], count: int) -> None:
    with sessions.begin() as session:
        for number in range(count):
            append_event(session, actor="t", action="test", object_type="call", object_id=number, after={"n": number})


def test_audit_verify_names_the_edited_inserted_and_deleted_events(
    sessions: sessionmaker[Session], db_url: str
) -> None:
    _chain(sessions, 6)
    env = {**os.environ, "CALLQA_DATABASE_URL": db_url}
    intact = subprocess.run([*CALLQA, "audit", "verify"], capture_output=True, text=True, env=env, timeout=120)
    assert intact.returncode == 0 and "6 events" in intact.stdout

    with sessions.begin() as session:  # edit an event's content in place
        session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(actor="mallory"))
    with sessions() as session:
        assert [str(p) for p in verify_chain(session)[1]] == [
            "event 2: edited (its content no longer matches its hash)"
        ]
    with sessions.begin() as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(actor="t"))
        session.execute(delete(AuditEvent).where(AuditEvent.id == 4))
    with sessions() as session:
        assert [(p.event_id, p.kind) for p in verify_chain(session)[1]] == [(5, "deleted")]
    tampered = subprocess.run([*CALLQA, "audit", "verify"], capture_output=True, text=True, env=env, timeout=120)
    assert tampered.returncode == 1 and "event 5: deleted (events 4..4 are missing)" in tampered.stderr


def test_audit_verify_names_an_inserted_event(sessions: sessionmaker[Session]) -> None:
    _chain(sessions, 3)
    with sessions.begin() as session:  # a forged event with a correct hash, squeezed in after event 1
        session.execute(text("UPDATE audit_events SET id = id + 10 WHERE id > 1"))
        first = session.get_one(AuditEvent, 1)
        forged = AuditEvent(
            id=2,
            at=first.at,
            actor="x",
            action="review.submit",
            object_type="call",
            object_id="1",
            call_id=None,
            before=None,
            after=None,
            prev_hash=first.hash,
        )
        forged.hash = event_hash(forged)
        session.add(forged)
    with sessions() as session:
        problems = verify_chain(session)[1]
    assert [(p.event_id, p.kind) for p in problems if p.kind == "inserted"] == [(2, "inserted")]


def test_the_sample_of_passed_calls_is_deterministic_and_near_the_rate(
    seed: Seed, sessions: sessionmaker[Session]
) -> None:
    draws = [sampled(f"{n:064x}", 0.05) for n in range(4000)]
    assert 0.035 < sum(draws) / len(draws) < 0.065
    assert draws == [sampled(f"{n:064x}", 0.05) for n in range(4000)]
    assert not any(sampled(f"{n:064x}", 0.0) for n in range(100)) and all(sampled(f"{n:064x}", 1.0) for n in range(100))

    ids = [seed(scorecard(95, needs_review=False)) for _ in range(6)]
    with sessions.begin() as session:
        assert sync_reviews(session, sample_rate=0.5) == sum(
            sampled(sha, 0.5) for sha in session.scalars(text("SELECT sha256 FROM calls ORDER BY id"))
        )
        states = dict(session.execute(select(Review.call_id, Review.sampled)).all())
    assert set(states) == set(ids)
    with sessions.begin() as session:
        assert sync_reviews(session, sample_rate=0.5) == 0  # already decided: a rerun draws nothing new
