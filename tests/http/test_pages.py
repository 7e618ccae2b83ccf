"""The pages' session and CSRF rules, without a browser."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.http.deps import SESSION_COOKIE
from tests.http.conftest import PASSWORD, Seed, finding, scorecard


def _csrf(client: TestClient) -> str:
    client.get("/login")
    return client.cookies["callqa_csrf"]


def test_login_without_the_csrf_token_is_refused(client: TestClient) -> None:
    _csrf(client)
    response = client.post("/login", data={"username": "sup", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 403 and SESSION_COOKIE not in response.cookies


def test_session_cookie_reads_the_api_but_cannot_act_on_it(client: TestClient, seed: Seed) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening")))
    token = _csrf(client)
    response = client.post(
        "/login", data={"username": "sup", "password": PASSWORD, "csrf": token}, follow_redirects=False
    )
    assert response.status_code == 303 and "httponly" in response.headers["set-cookie"].lower()
    assert client.get(f"/api/calls/{call_id}").status_code == 200
    assert client.post("/api/queue/claim").status_code == 401  # a cross-site form could send the cookie
    page = client.get(f"/calls/{call_id}")
    assert page.status_code == 200 and "forbidden phrase" in page.text
