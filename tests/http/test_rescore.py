"""A re-score (the phrasebooks changed) that changes the machine's findings sends a decided call back to the queue,
keeping the old review in its history and saying why; one that changes nothing a person looked at does not."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.services.audit import verify_chain
from api.services.calls import claim_call, record_result
from api.services.versions import Versions
from scoring import Scorecard
from tests.http.conftest import Seed, finding, login, scorecard

V2 = Versions("t-one", "p-two")  # same transcription, new phrasebooks: a re-score of the stored transcript


def rescore(sessions: sessionmaker[Session], call_id: int, card: Scorecard) -> None:
    with sessions.begin() as session:
        assert claim_call(session, call_id=call_id, worker="rescore")
        record_result(session, call_id=call_id, worker="rescore", versions=V2, card=card)


def review_it(client: TestClient, headers: dict[str, str], call_id: int) -> dict[str, object]:
    claimed = client.post("/api/queue/claim", headers=headers)
    assert claimed.status_code == 200 and claimed.json()["call_id"] == call_id
    detail = client.get(f"/api/calls/{call_id}", headers=headers).json()
    body = {
        "version": detail["version"],
        "decision": "fail",
        "comment": "rude",
        "findings": [{"finding_id": detail["findings"][0]["id"], "verdict": "confirm", "reason": ""}],
    }
    done = client.post(f"/api/calls/{call_id}/review", headers=headers, json=body)
    assert done.status_code == 200, done.text
    return detail


def test_findings_changed_by_a_rescore_put_a_reviewed_call_back_in_the_queue(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    call = seed(scorecard(60, finding("forbidden.dont_know")))
    sup = login(client, "sup")
    first = review_it(client, sup, call)
    assert client.get("/api/queue", headers=sup).json()["counts"]["total"] == 0

    rescore(sessions, call, scorecard(70, finding("forbidden.dont_know"), finding("greeting.opening")))

    queue = client.get("/api/queue", headers=sup).json()
    assert [item["call_id"] for item in queue["items"]] == [call]
    detail = client.get(f"/api/calls/{call}", headers=sup).json()
    review = detail["review"]
    assert review["state"] == "queued" and review["decision"] is None
    assert "+greeting.opening (fail)" in review["requeue_reason"] and "p-two" in review["requeue_reason"]
    assert {f["rule_id"] for f in detail["findings"]} == {"forbidden.dont_know", "greeting.opening"}
    old = review["history"][0]  # the first review stays, tied to the findings it was about
    assert old["decision"] == "fail" and old["findings"][0]["finding_id"] == first["findings"][0]["id"]  # type: ignore[index]
    assert old["scorecard_id"] != review["scorecard_id"]

    review_it(client, sup, call)  # reviewed again, against the new findings
    history = client.get(f"/api/calls/{call}", headers=sup).json()["review"]["history"]
    assert len(history) == 2 and history[1]["scorecard_id"] == review["scorecard_id"]
    events = client.get(f"/api/calls/{call}/audit", headers=sup).json()
    assert [e["action"] for e in events][-4:] == ["call.rescore", "review.requeue", "review.claim", "review.submit"]
    requeue = next(e for e in events if e["action"] == "review.requeue")
    assert requeue["before"]["state"] == "reviewed" and requeue["after"]["reason"] == review["requeue_reason"]
    with sessions() as session:
        assert verify_chain(session)[1] == []


def test_a_rescore_with_the_same_flagged_findings_leaves_the_decision_standing(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    call = seed(scorecard(60, finding("forbidden.dont_know")))
    sup = login(client, "sup")
    review_it(client, sup, call)

    rescore(sessions, call, scorecard(65, finding("forbidden.dont_know"), finding("greeting.opening", "pass")))

    assert client.get("/api/queue", headers=sup).json()["counts"]["total"] == 0
    review = client.get(f"/api/calls/{call}", headers=sup).json()["review"]
    assert review["state"] == "reviewed" and review["decision"] == "fail" and review["requeue_reason"] is None


def test_a_rescore_flags_a_call_that_had_passed_and_updates_an_open_one(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    clean = seed(scorecard(98, needs_review=False))
    open_call = seed(scorecard(60, finding("forbidden.dont_know")))
    sup = login(client, "sup")
    claimed = client.post("/api/queue/claim", headers=sup).json()
    assert claimed["call_id"] == open_call

    rescore(sessions, clean, scorecard(70, finding("greeting.opening")))
    rescore(sessions, open_call, scorecard(60, finding("forbidden.other")))

    items = client.get("/api/queue?status=queued", headers=sup).json()["items"]
    assert [item["call_id"] for item in items] == [clean]
    held = client.get(f"/api/calls/{open_call}", headers=sup).json()
    assert held["review"]["state"] == "claimed" and held["version"] > claimed["version"]
    stale = client.post(
        f"/api/calls/{open_call}/review", headers=sup, json={"version": claimed["version"], "decision": "pass"}
    )
    assert stale.status_code == 409  # reviewed against the old findings: reload
    assert {f["rule_id"] for f in held["findings"]} == {"forbidden.other"}
