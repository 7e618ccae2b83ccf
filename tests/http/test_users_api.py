"""User management over HTTP for the admin role, on SQLite and PostgreSQL: every role × route, the whole life of
an account (add, log in, role change, disable, enable), the guard on the last admin, and the audit trail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.services.audit import verify_chain
from api.store.models import AuditEvent, User
from tests.http.conftest import PASSWORD, USERS, login

NEW_USER = {"name": "wang", "role": "supervisor", "branches": ["sh"], "password": "a long password"}


def _id(sessions: sessionmaker[Session], name: str) -> int:
    with sessions() as session:
        return session.scalars(select(User.id).where(User.name == name)).one()


@pytest.mark.parametrize("role_user", [name for name in USERS if name != "admin"])
def test_only_an_admin_manages_users(client: TestClient, sessions: sessionmaker[Session], role_user: str) -> None:
    headers = login(client, role_user)
    target = _id(sessions, "sup2")
    for method, path, body in (
        ("GET", "/api/users", None),
        ("POST", "/api/users", NEW_USER),
        ("POST", f"/api/users/{target}/disable", None),
        ("POST", f"/api/users/{target}/enable", None),
        ("POST", f"/api/users/{target}/role", {"role": "senior_supervisor"}),
    ):
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "forbidden"
    assert client.get("/api/users").status_code == 401
    with sessions() as session:
        assert session.scalar(select(User).where(User.name == "wang")) is None
        assert session.get_one(User, target).disabled is False


def test_an_admin_adds_changes_disables_and_enables_a_user(client: TestClient, sessions: sessionmaker[Session]) -> None:
    admin = login(client, "admin")
    added = client.post("/api/users", headers=admin, json=NEW_USER)
    assert added.status_code == 201, added.text
    wang = added.json()
    assert {k: wang[k] for k in ("name", "role", "branches", "disabled")} == {
        "name": "wang",
        "role": "supervisor",
        "branches": ["sh"],
        "disabled": False,
    }
    assert "wang" in [u["name"] for u in client.get("/api/users", headers=admin).json()]
    token = client.post("/api/auth/token", data={"username": "wang", "password": "a long password"})
    wang_headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/queue", headers=wang_headers).status_code == 200

    promoted = client.post(f"/api/users/{wang['id']}/role", headers=admin, json={"role": "trainer", "branches": []})
    assert promoted.status_code == 200 and promoted.json()["role"] == "trainer" and promoted.json()["branches"] == []
    assert client.post("/api/queue/claim", headers=wang_headers).status_code == 403  # the new role, at once

    assert client.post(f"/api/users/{wang['id']}/disable", headers=admin).json()["disabled"] is True
    assert client.get("/api/me", headers=wang_headers).status_code == 401  # the token dies with the account
    relogin = client.post("/api/auth/token", data={"username": "wang", "password": "a long password"})
    assert relogin.status_code == 401
    assert client.post(f"/api/users/{wang['id']}/enable", headers=admin).json()["disabled"] is False
    assert client.get("/api/me", headers=wang_headers).status_code == 200

    with sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(wang["id"]))).all()
        trail = [(e.actor, e.action) for e in events if e.object_type == "user"]
        actions = ["user.add", "user.role", "user.disable", "user.enable"]
        assert trail == [("admin", action) for action in actions]
        role_change = next(e for e in events if e.action == "user.role")
        assert role_change.before is not None and role_change.before["role"] == "supervisor"
        assert role_change.after is not None and role_change.after["role"] == "trainer"
        assert verify_chain(session)[1] == []


def test_bad_user_requests_are_clear_errors(client: TestClient, sessions: sessionmaker[Session]) -> None:
    admin = login(client, "admin")
    duplicate = client.post("/api/users", headers=admin, json={**NEW_USER, "name": "sup"})
    assert duplicate.status_code == 409 and "exists already" in duplicate.json()["detail"]
    agent = client.post("/api/users", headers=admin, json={"name": "li", "role": "agent"})
    assert agent.status_code == 422 and "agent" in agent.json()["detail"]
    short = client.post("/api/users", headers=admin, json={**NEW_USER, "password": "short"})
    assert short.status_code == 422 and short.json()["error"] == "bad_input"
    assert client.post("/api/users/999999/disable", headers=admin).status_code == 404
    demote = client.post(f"/api/users/{_id(sessions, 'sup')}/role", headers=admin, json={"role": "agent"})
    assert demote.status_code == 422  # an agent needs an agent id

    me = _id(sessions, "admin")
    last = client.post(f"/api/users/{me}/disable", headers=admin)
    assert last.status_code == 409 and "last active admin" in last.json()["detail"]
    assert client.post(f"/api/users/{me}/role", headers=admin, json={"role": "supervisor"}).status_code == 409
    second = client.post("/api/users", headers=admin, json={"name": "root2", "role": "admin", "password": PASSWORD})
    assert second.status_code == 201
    assert client.post(f"/api/users/{me}/disable", headers=admin).status_code == 200  # another admin remains
