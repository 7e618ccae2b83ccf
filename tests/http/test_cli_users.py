"""`callqa users add|list|disable` and `callqa apikeys create` on a real store, and the keys they make working."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.http import create_app
from tests.http.conftest import SECRET

CALLQA = [str(Path(sys.executable).parent / "callqa")]


def _callqa(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALLQA_DATABASE_URL": url}
    return subprocess.run([*CALLQA, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_users_and_api_keys_from_the_command_line(
    db_url: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    added = _callqa(
        db_url,
        "users",
        "add",
        "wang",
        "--role",
        "supervisor",
        "--branch",
        "bj",
        "--password-stdin",
        stdin="a long enough secret\n",
    )
    assert added.returncode == 0, added.stderr
    agent = _callqa(db_url, "users", "add", "li", "--role", "agent", "--password-stdin", stdin="another secret 1\n")
    assert agent.returncode == 1 and "--agent-id" in agent.stderr and len(agent.stderr.splitlines()) == 1
    short = _callqa(db_url, "users", "add", "zhao", "--role", "trainer", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "shorter than" in short.stderr
    twice = _callqa(db_url, "users", "add", "wang", "--role", "admin", "--password-stdin", stdin="whatever 123\n")
    assert twice.returncode == 1 and "exists already" in twice.stderr
    bad_role = _callqa(db_url, "users", "add", "x", "--role", "boss")
    assert bad_role.returncode == 2

    key = _callqa(db_url, "apikeys", "create", "--user", "wang", "--label", "dashboard")
    assert key.returncode == 0 and key.stdout.startswith("cqa_")
    listed = _callqa(db_url, "users", "list")
    assert "wang" in listed.stdout and "supervisor" in listed.stdout and "bj" in listed.stdout

    client = TestClient(create_app(settings=settings, sessions=sessions, secret=SECRET))
    token = client.post("/api/auth/token", data={"username": "wang", "password": "a long enough secret"})
    assert token.status_code == 200
    assert client.get("/api/me", headers={"X-API-Key": key.stdout.strip()}).json()["branches"] == ["bj"]
    assert _callqa(db_url, "users", "disable", "wang").returncode == 0
    assert client.get("/api/me", headers={"X-API-Key": key.stdout.strip()}).status_code == 401
    assert _callqa(db_url, "users", "disable", "nobody").returncode == 1
    verified = _callqa(db_url, "audit", "verify")
    assert verified.returncode == 0 and "3 events" in verified.stdout  # add, apikey, disable
