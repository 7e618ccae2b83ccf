"""Uploads (streamed, size-limited, server-named, processed by the batch's engine, the same audio twice = one
call) and the dashboard's statistics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.http import create_app
from api.services.process import Transcribes
from api.services.versions import Versions
from api.store.models import Call
from api.worker.local import LocalProcessor
from tests.http.conftest import SECRET, Seed, finding, login, scorecard
from tests.scoring.factory import book
from tests.store.stand_ins import LoggingTranscriber

AUDIO = b"RIFF" + bytes(range(256)) * 64


@pytest.fixture
def uploading(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> Iterator[TestClient]:
    log = tmp_path / "transcribed.log"

    @contextmanager
    def transcriber() -> Iterator[Transcribes]:
        yield LoggingTranscriber(log)

    processor = LocalProcessor(sessions, transcriber=transcriber, book=book(), versions=Versions("t", "p"))
    limited = settings.model_copy(update={"upload_max_bytes": 100_000})
    app = create_app(settings=limited, sessions=sessions, secret=SECRET, processor=processor)
    with TestClient(app) as test_client:
        yield test_client
    processor.stop()


def _upload(client: TestClient, headers: dict[str, str], content: bytes, name: str = "rec.wav", **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/api/calls", headers=headers, files={"file": (name, content, "audio/wav")}, data=fields)


def test_upload_is_processed_once_and_the_same_audio_twice_is_one_call(
    uploading: TestClient, sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    sup = login(uploading, "sup")
    first = _upload(uploading, sup, AUDIO, "../../etc/passwd.wav", agent_id="7", branch="sh")
    assert first.status_code == 202, first.text
    status_url = first.json()["status_url"]
    for _ in range(100):
        status = uploading.get(status_url, headers=sup).json()
        if status["status"] == "done":
            break
        time.sleep(0.05)
    assert status["status"] == "done", status
    again = _upload(uploading, sup, AUDIO, "copy.wav")
    assert again.status_code == 202 and again.json()["call_id"] == first.json()["call_id"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 1
    stored = sorted(p.name for p in settings.upload_dir.iterdir())
    assert len(stored) == 1 and stored[0].endswith(".wav") and len(stored[0]) == 64 + 4  # sha256.wav, nothing else
    time.sleep(0.2)
    assert (tmp_path / "transcribed.log").read_text().count("\n") == 1
    assert uploading.get(f"/api/calls/{first.json()['call_id']}", headers=sup).json()["status"] == "done"


def test_uploads_too_large_unnamed_or_badly_described_are_refused_and_leave_nothing(
    uploading: TestClient, settings: Settings
) -> None:
    sup = login(uploading, "sup")
    big = _upload(uploading, sup, b"x" * 200_000)
    assert big.status_code == 413 and big.json()["error"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: only counting the stream can stop it
        yield b'--b0\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        for _ in range(100):
            yield b"x" * 10_000
        yield b"\r\n--b0--\r\n"

    streamed = uploading.post(
        "/api/calls", headers={**sup, "Content-Type": "multipart/form-data; boundary=b0"}, content=chunks()
    )
    assert streamed.status_code == 413 and "passed the limit" in streamed.json()["detail"]
    assert _upload(uploading, sup, AUDIO, "notes.txt").status_code == 422
    assert _upload(uploading, sup, AUDIO, direction="sideways").status_code == 422
    no_file = uploading.post("/api/calls", headers=sup, data={"agent_id": "7"}, files={"other": ("a", b"1")})
    assert no_file.status_code == 422
    assert uploading.post("/api/calls", headers=sup, content=b"raw").status_code == 422
    malformed = {**sup, "Content-Type": "multipart/form-data; boundary=b0"}
    broken = uploading.post("/api/calls", headers=malformed, content=b"--b0\r\n[]--b0--\r\n")  # found by Schemathesis
    assert broken.status_code == 422 and "malformed" in broken.json()["detail"]
    assert _upload(uploading, login(uploading, "agent7"), AUDIO).status_code == 403
    assert list(settings.upload_dir.iterdir()) == []


def test_stats_per_day_rule_branch_and_agent_within_scope(client: TestClient, seed: Seed) -> None:
    seed(scorecard(40, finding("greeting.opening"), finding("closing.thanks")), agent_id="7", branch="bj")
    seed(scorecard(60, finding("greeting.opening")), agent_id="8", branch="sh")
    seed(scorecard(95, needs_review=False), agent_id="8", branch="sh")
    everything = client.get("/api/stats", headers=login(client, "sup")).json()
    assert everything["queue_depth"] == 2
    assert everything["per_day"][0]["scored"] == 3 and everything["per_day"][0]["failed"] == 2
    assert everything["top_failing_rules"][0] == {"rule_id": "greeting.opening", "count": 2}
    assert [(b["key"], b["scored"]) for b in everything["per_branch"]] == [("bj", 1), ("sh", 2)]
    beijing = client.get("/api/stats", headers=login(client, "bj_sup")).json()
    assert beijing["queue_depth"] == 1 and [a["key"] for a in beijing["per_agent"]] == ["7"]


def test_stats_count_calls_on_the_day_of_the_call_not_of_scoring(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    last_week = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=7)
    old = seed(scorecard(40, finding("greeting.opening")))
    older = seed(scorecard(95, needs_review=False))
    seed(scorecard(60, finding("greeting.opening")))  # no call time: counted on the day it was found (today)
    with sessions.begin() as session:
        session.execute(update(Call).where(Call.id.in_((old, older))).values(call_time=last_week))
    per_day = client.get("/api/stats", headers=login(client, "sup")).json()["per_day"]
    today = datetime.now(UTC).date().isoformat()
    assert per_day == [
        {"day": today, "scored": 1, "failed": 1, "needs_review": 1},
        {"day": last_week.date().isoformat(), "scored": 2, "failed": 1, "needs_review": 1},
    ]
