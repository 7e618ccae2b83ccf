"""The review service over HTTP, on SQLite and PostgreSQL: the whole lifecycle, leases, stale writes, scopes."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from api.services.audit import verify_chain
from api.store.models import Review, utcnow
from tests.http.conftest import Seed, finding, login, scorecard


def test_queue_lifecycle_claim_review_appeal_ruling_acknowledge(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    fatal = seed(scorecard(90, finding("forbidden.fatal", severity="fatal"), passed=False))
    low = seed(scorecard(50, finding("greeting.opening")))
    seed(scorecard(98, needs_review=False))  # passed, not sampled (rate 0): never queued
    sup, agent, senior = login(client, "sup"), login(client, "agent7"), login(client, "senior")

    queue = client.get("/api/queue", headers=sup).json()
    assert [item["call_id"] for item in queue["items"]] == [fatal, low]
    assert queue["counts"] == {"total": 2, "fatal": 1, "sampled": 0}

    claimed = client.post("/api/queue/claim", headers=sup)
    assert claimed.status_code == 200 and claimed.json()["call_id"] == fatal
    detail = client.get(f"/api/calls/{fatal}", headers=sup).json()
    assert detail["review"]["state"] == "claimed" and detail["version"] == claimed.json()["version"]
    finding_id = detail["findings"][0]["id"]

    review = {
        "version": detail["version"],
        "decision": "pass",
        "comment": "the customer said it, not the agent",
        "findings": [{"finding_id": finding_id, "verdict": "reject", "reason": "client's words"}],
        "added": [{"category": "civility", "start": 3.0, "end": 4.5, "note": "sighed at the customer"}],
    }
    stale = client.post(f"/api/calls/{fatal}/review", headers=sup, json={**review, "version": detail["version"] - 1})
    assert stale.status_code == 409 and "changed since you read it" in stale.json()["detail"]
    assert stale.json()["error"] == "conflict"
    done = client.post(f"/api/calls/{fatal}/review", headers=sup, json=review)
    assert done.status_code == 200, done.text
    again = client.post(f"/api/calls/{fatal}/review", headers=sup, json={**review, "version": done.json()["version"]})
    assert again.status_code == 409  # no lease any more

    after = client.get(f"/api/calls/{fatal}", headers=agent).json()
    assert after["findings"][0]["verdict"] == "fail"  # the machine's verdict stands beside the human one
    assert after["review"]["history"][0]["findings"][0]["verdict"] == "reject"
    assert after["review"]["history"][0]["added"][0]["note"] == "sighed at the customer"

    appeal = client.post(f"/api/calls/{fatal}/appeal", headers=agent, json={"reason": "unfair", "finding_ids": []})
    assert appeal.status_code == 201, appeal.text
    appeal_id = appeal.json()["id"]
    assert [a["id"] for a in client.get("/api/appeals?state=open", headers=senior).json()] == [appeal_id]
    ruling = {"rulings": [{"finding_id": finding_id, "outcome": "overturn"}], "comment": "agreed"}
    assert client.post(f"/api/appeals/{appeal_id}/ruling", headers=sup, json=ruling).status_code == 403
    assert client.post(f"/api/appeals/{appeal_id}/ruling", headers=senior, json=ruling).status_code == 200
    assert client.post(f"/api/appeals/{appeal_id}/ruling", headers=senior, json=ruling).status_code == 409
    assert client.post(f"/api/calls/{fatal}/acknowledge", headers=agent).status_code == 200

    events = client.get(f"/api/calls/{fatal}/audit", headers=sup).json()
    actions = [event["action"] for event in events]
    assert actions == [
        "call.ingest",
        "call.score",
        "review.queue",
        "review.claim",
        "review.submit",
        "appeal.file",
        "appeal.rule",
        "review.acknowledge",
    ]
    with sessions() as session:
        assert verify_chain(session)[1] == []


def test_claim_gives_204_when_empty_and_an_expired_lease_goes_to_the_next_claimer(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening")))
    first, second = login(client, "sup"), login(client, "sup2")
    held = client.post("/api/queue/claim", headers=first).json()
    assert client.post("/api/queue/claim", headers=second).status_code == 204
    assert client.post(f"/api/calls/{call_id}/renew", headers=second).status_code == 409
    assert client.post(f"/api/calls/{call_id}/renew", headers=first).status_code == 200
    with sessions.begin() as session:
        session.execute(update(Review).values(lease_until=utcnow() - timedelta(seconds=1)))
    taken = client.post("/api/queue/claim", headers=second)
    assert taken.status_code == 200 and taken.json()["call_id"] == call_id
    late = {"version": held["version"], "decision": "fail"}
    refused = client.post(f"/api/calls/{call_id}/review", headers=first, json=late)
    assert refused.status_code == 409  # the first holder's lease ran out and the call moved on
    assert client.post(f"/api/calls/{call_id}/release", headers=second).status_code == 200
    assert client.post("/api/queue/claim", headers=first).json()["call_id"] == call_id


def test_queue_order_filters_and_aging(client: TestClient, seed: Seed, sessions: sessionmaker[Session]) -> None:
    fresh_low = seed(scorecard(30, finding("greeting.opening")), branch="bj")
    old_high = seed(scorecard(75, finding("closing.thanks")), agent_id="8")
    sup = login(client, "sup")
    assert [i["call_id"] for i in client.get("/api/queue", headers=sup).json()["items"]] == [fresh_low, old_high]
    with sessions.begin() as session:  # waiting longer than CALLQA_QUEUE_AGING_HOURS (48 h): it climbs
        session.execute(update(Review).where(Review.call_id == old_high).values(queued_at=utcnow() - timedelta(days=3)))
    assert [i["call_id"] for i in client.get("/api/queue", headers=sup).json()["items"]] == [old_high, fresh_low]
    assert [i["call_id"] for i in client.get("/api/queue?branch=bj", headers=sup).json()["items"]] == [fresh_low]
    assert [i["call_id"] for i in client.get("/api/queue?agent_id=8", headers=sup).json()["items"]] == [old_high]
    by_rule = client.get("/api/queue?rule_id=closing.thanks", headers=sup).json()
    assert [i["call_id"] for i in by_rule["items"]] == [old_high] and by_rule["counts"]["total"] == 1
    paged = client.get("/api/queue?per_page=1&page=2", headers=sup).json()
    assert [i["call_id"] for i in paged["items"]] == [fresh_low] and paged["counts"]["total"] == 2
    claimed = client.post("/api/queue/claim?branch=bj", headers=sup).json()
    assert claimed["call_id"] == fresh_low
    assert [i["call_id"] for i in client.get("/api/queue?status=claimed", headers=sup).json()["items"]] == [fresh_low]
    bad = client.get("/api/queue?status=nonsense&per_page=0", headers=sup)
    assert bad.status_code == 422 and bad.json()["error"] == "bad_input"


def test_a_senior_supervisor_reassigns_a_claimed_call(client: TestClient, seed: Seed) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening")), branch="sh")
    first, senior = login(client, "sup"), login(client, "senior")
    client.post("/api/queue/claim", headers=first)
    url = f"/api/calls/{call_id}/reassign"
    assert client.post(url, headers=first, json={"user": "sup2"}).status_code == 403
    assert client.post(url, headers=senior, json={"user": "bj_sup"}).status_code == 409  # not that branch
    assert client.post(url, headers=senior, json={"user": "agent7"}).status_code == 404
    moved = client.post(url, headers=senior, json={"user": "sup2"})
    assert moved.status_code == 200, moved.text
    review = {"version": moved.json()["version"], "decision": "fail"}
    assert client.post(f"/api/calls/{call_id}/review", headers=first, json=review).status_code == 409
    assert client.post(f"/api/calls/{call_id}/review", headers=login(client, "sup2"), json=review).status_code == 200
