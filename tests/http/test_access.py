"""Who may do what: logins, tokens, API keys, and the role × route matrix (a call outside the caller's scope is a
404, exactly like a call that does not exist)."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.services.users import create_api_key, disable_user
from api.store.models import utcnow
from tests.http.conftest import SECRET, Seed, finding, login, scorecard


def test_login_me_wrong_password_expired_token_api_key_and_disabled_user(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    sup = login(client, "sup")
    assert client.get("/api/me", headers=sup).json()["role"] == "supervisor"
    wrong = client.post("/api/auth/token", data={"username": "sup", "password": "not it at all"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    assert client.post("/api/auth/token", data={"username": "nobody", "password": "x" * 9}).status_code == 401
    assert client.get("/api/me").status_code == 401
    expired = jwt.encode({"sub": "1", "exp": utcnow().timestamp() - 5}, SECRET, algorithm="HS256")
    response = client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    forged = jwt.encode({"sub": "1", "exp": utcnow().timestamp() + 60}, "another key " * 4, algorithm="HS256")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    unsigned = jwt.encode({"sub": "1", "exp": utcnow().timestamp() + 60}, None, algorithm="none")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401

    with sessions.begin() as session:
        key = create_api_key(session, user_name="trainer", label="dashboard")
    assert key.key.startswith(key.prefix)
    assert client.get("/api/me", headers={"X-API-Key": key.key}).json()["name"] == "trainer"
    assert client.get("/api/me", headers={"X-API-Key": key.key + "x"}).status_code == 401
    with sessions.begin() as session:
        disable_user(session, name="sup")
        disable_user(session, name="trainer")
    assert client.get("/api/me", headers=sup).status_code == 401  # a token issued before is dead at once
    assert client.get("/api/me", headers={"X-API-Key": key.key}).status_code == 401
    assert (
        client.post("/api/auth/token", data={"username": "sup", "password": "correct horse battery"}).status_code == 401
    )


# (method, path template, body) → status per role; {own} is agent7's call, {other} agent8's in branch sh.
ROUTES = [
    ("GET", "/api/calls/{own}", None),
    ("GET", "/api/calls/{other}", None),
    ("GET", "/api/calls/{other}/audio", None),
    ("GET", "/api/calls/{other}/audit", None),
    ("POST", "/api/calls/{other}/appeal", {"reason": "unfair"}),
    ("POST", "/api/calls/{other}/review", {"version": 1, "decision": "pass"}),
    ("POST", "/api/calls/{other}/release", None),
    ("POST", "/api/calls/{other}/acknowledge", None),
    ("GET", "/api/queue", None),
    ("POST", "/api/queue/claim", None),
    ("GET", "/api/stats", None),
    ("GET", "/api/appeals", None),
]
EXPECTED = {
    #                 own  other audio audit appeal review release ack  queue claim stats appeals
    "agent7": (200, 404, 404, 403, 404, 403, 403, 404, 403, 403, 403, 200),
    "agent8": (404, 200, 200, 403, 409, 403, 403, 409, 403, 403, 403, 200),
    "sup": (200, 200, 200, 200, 403, 409, 409, 403, 200, 200, 200, 200),
    "bj_sup": (404, 404, 404, 404, 403, 404, 404, 403, 200, 204, 200, 200),
    "senior": (200, 200, 200, 200, 403, 409, 409, 403, 200, 200, 200, 200),
    "trainer": (200, 200, 200, 200, 403, 403, 403, 403, 200, 403, 200, 200),
    "admin": (404, 404, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_role_by_route_matrix(client: TestClient, seed: Seed, name: str) -> None:
    ids = {
        "own": seed(scorecard(40, finding("greeting.opening")), agent_id="7"),
        "other": seed(scorecard(60, finding("greeting.opening")), agent_id="8"),
    }
    headers = login(client, name)
    got = []
    for method, template, body in ROUTES:
        response = client.request(method, template.format(**ids), headers=headers, json=body)
        assert response.status_code < 500 and (response.status_code in (200, 201, 204) or "error" in response.json())
        got.append(response.status_code)
    assert tuple(got) == EXPECTED[name], list(zip([r[1] for r in ROUTES], got, strict=True))


def test_unknown_call_and_silly_ids_are_404_or_422_never_500(client: TestClient) -> None:
    sup = login(client, "sup")
    assert client.get("/api/calls/999999", headers=sup).status_code == 404
    assert client.get("/api/calls/99999999999999999999", headers=sup).status_code == 422
    assert client.get("/api/calls/abc", headers=sup).status_code == 422
    assert client.get("/api/nowhere", headers=sup).json()["error"] == "not_found"
