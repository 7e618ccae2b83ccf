"""The agent, appeal, rules, dashboard and admin pages and the English switch, without a browser: who may open
which page, CSRF on every form, and that the numbers and lists come from the store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.web.i18n import EN
from scoring import load_phrasebooks
from tests.http.conftest import PASSWORD, Seed, finding, login, scorecard

TEMPLATES = Path(__file__).parents[2] / "api" / "web" / "templates"
PHRASEBOOKS = Path(__file__).parents[2] / "phrasebooks"


def page_login(client: TestClient, name: str) -> str:
    """Log `client` in through the form (as a browser would); returns the CSRF token its forms carry."""
    client.cookies.clear()
    client.get("/login")
    token = client.cookies["callqa_csrf"]
    response = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    landing = {"agent7": "/my", "agent8": "/my", "admin": "/admin"}.get(name, "/queue")  # each role: its own page
    assert response.headers["location"] == landing
    return token


def reviewed(client: TestClient, seed: Seed, agent_id: str = "7") -> tuple[int, int]:
    """A call of `agent_id` claimed and reviewed (fail) by `sup` through the API: (call id, its finding's id)."""
    call_id = seed(scorecard(40, finding("greeting.opening")), agent_id=agent_id)
    sup = login(client, "sup")
    claimed = client.post("/api/queue/claim", headers=sup).json()
    assert claimed["call_id"] == call_id
    finding_id = client.get(f"/api/calls/{call_id}", headers=sup).json()["findings"][0]["id"]
    confirmed = [{"finding_id": finding_id, "verdict": "confirm"}]
    body = {"version": claimed["version"], "decision": "fail", "findings": confirmed}
    assert client.post(f"/api/calls/{call_id}/review", headers=sup, json=body).status_code == 200
    return call_id, finding_id


def test_an_agent_sees_only_their_own_calls(client: TestClient, seed: Seed) -> None:
    mine = seed(scorecard(40, finding("greeting.opening")), agent_id="7")
    theirs = seed(scorecard(30, finding("greeting.opening")), agent_id="8")
    page_login(client, "agent7")
    page = client.get("/my")
    assert page.status_code == 200
    assert f'href="/my/{mine}"' in page.text and f'href="/my/{theirs}"' not in page.text
    assert client.get(f"/my/{mine}").status_code == 200
    assert client.get(f"/my/{theirs}").status_code == 404
    assert client.get(f"/calls/{theirs}").status_code == 404


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("agent7", {"/my", "/rules"}),
        ("trainer", {"/rules", "/dashboard", "/dashboard/calls"}),
        ("sup", {"/rules", "/dashboard", "/dashboard/calls"}),
        ("senior", {"/rules", "/dashboard", "/dashboard/calls", "/appeals"}),
        ("admin", {"/admin"}),
    ],
)
def test_each_role_opens_only_its_pages(client: TestClient, name: str, allowed: set[str]) -> None:
    page_login(client, name)
    for path in ("/my", "/appeals", "/rules", "/dashboard", "/dashboard/calls", "/admin"):
        status = client.get(path).status_code
        assert status == (200 if path in allowed else 403), (name, path, status)


def test_without_a_session_every_page_asks_to_log_in(client: TestClient) -> None:
    for path in ("/my", "/appeals", "/appeals/1", "/rules", "/dashboard", "/dashboard/calls", "/admin"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_trainer_pages_have_no_decision_buttons(client: TestClient, seed: Seed) -> None:
    seed(scorecard(40, finding("greeting.opening")))
    page_login(client, "trainer")
    for path in ("/dashboard", "/dashboard/calls", "/rules"):
        forms = re.findall(r'<form method="post" action="([^"]+)"', client.get(path).text)
        assert forms == ["/logout"], (path, forms)


def test_agent_appeals_within_the_period_and_a_senior_rules(client: TestClient, seed: Seed) -> None:
    call_id, finding_id = reviewed(client, seed)
    token = page_login(client, "agent7")
    page = client.get(f"/my/{call_id}")
    assert 'id="appeal-form"' in page.text and 'id="acknowledge"' in page.text
    assert "greeting.opening 确认" in page.text  # the review's verdict, named by its rule

    forged = client.post(f"/my/{call_id}/appeal", data={"csrf": "forged", "reason": "unfair"})
    assert forged.status_code == 403
    filed = client.post(
        f"/my/{call_id}/appeal",
        data={"csrf": token, "reason": "the greeting was there", "finding_ids": [str(finding_id)]},
        follow_redirects=False,
    )
    assert filed.status_code == 303 and filed.headers["location"] == f"/my/{call_id}?filed=true"
    page = client.get(f"/my/{call_id}?filed=true")
    assert 'id="appeal-form"' not in page.text and "the greeting was there" in page.text
    assert client.post(f"/my/{call_id}/appeal", data={"csrf": token, "reason": "again"}).status_code == 409

    token8 = page_login(client, "agent8")  # another agent can neither see nor appeal the call
    assert client.post(f"/my/{call_id}/appeal", data={"csrf": token8, "reason": "mine?"}).status_code == 404

    token = page_login(client, "senior")
    assert client.get("/appeals/999").status_code == 404
    listing = client.get("/appeals").text
    appeal_id = int(re.search(r'href="/appeals/(\d+)"', listing).group(1))  # type: ignore[union-attr]
    appeal = client.get(f"/appeals/{appeal_id}").text
    assert "the greeting was there" in appeal and 'id="submit-ruling"' in appeal
    ruling = {"csrf": token, "finding_id": [str(finding_id)], "outcome": ["overturn"], "comment": "greeting heard"}
    assert client.post(f"/appeals/{appeal_id}/ruling", data={**ruling, "csrf": "forged"}).status_code == 403
    assert client.post(f"/appeals/{appeal_id}/ruling", data=ruling).status_code == 200
    after = client.get(f"/appeals/{appeal_id}").text
    assert 'id="submit-ruling"' not in after and "推翻" in after
    assert client.post(f"/appeals/{appeal_id}/ruling", data=ruling).status_code == 409  # final

    token = page_login(client, "agent7")
    assert "推翻" in client.get(f"/my/{call_id}").text
    assert client.post(f"/my/{call_id}/acknowledge", data={"csrf": token}).status_code == 200
    assert 'id="acknowledge"' not in client.get(f"/my/{call_id}").text


def test_no_appeal_form_before_the_review_or_after_the_period(client: TestClient, seed: Seed) -> None:
    fresh = seed(scorecard(40, finding("greeting.opening")))
    token = page_login(client, "agent7")
    assert 'id="appeal-form"' not in client.get(f"/my/{fresh}").text
    assert client.post(f"/my/{fresh}/appeal", data={"csrf": token, "reason": "x"}).status_code == 409

    call_id, _ = reviewed(client, seed)
    client.app.state.settings.appeal_days = 0  # type: ignore[attr-defined]
    page_login(client, "agent7")
    assert 'id="appeal-form"' not in client.get(f"/my/{call_id}").text


def test_rules_page_shows_every_rule_with_its_clause_text_and_cases(client: TestClient) -> None:
    page_login(client, "trainer")
    page = client.get("/rules").text
    for rule in load_phrasebooks(PHRASEBOOKS).rules:
        assert f'id="{rule.id}"' in page and rule.message in page
    rude = page[page.index('id="forbidden.rude_answer"') : page.index('id="forbidden.dont_know"')]
    assert "讲话,你是谁?" in rude  # the words of 第五十三条 服务忌语 in the standard
    assert "who-are-you" in rude and "应不通过" in rude and "polite-answer" in rude
    assert "未在标准中找到该条款" not in page


def test_dashboard_numbers_link_to_the_calls_they_count(client: TestClient, seed: Seed) -> None:
    failing = {seed(scorecard(40, finding("greeting.opening")), branch="bj") for _ in range(2)}
    seed(scorecard(95, needs_review=False), branch="sh")
    seed(scorecard(30, finding("forbidden.dont_know")), branch="sh")
    page_login(client, "sup")
    page = client.get("/dashboard").text
    assert re.search(r'id="n-scored" href="/dashboard/calls">.*?<strong>4</strong>', page, re.S)
    assert re.search(r'href="/dashboard/calls\?rule_id=greeting.opening">2</a>', page)
    listed = client.get("/dashboard/calls?rule_id=greeting.opening").text
    assert set(map(int, re.findall(r'href="/calls/(\d+)"', listed))) == failing
    assert len(re.findall(r'href="/calls/\d+"', client.get("/dashboard/calls?passed=false").text)) == 3
    assert len(re.findall(r'href="/calls/\d+"', client.get("/dashboard/calls?branch=sh").text)) == 2
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert {key: sum(s["scored"]) for key, s in charts["per_branch"]["series"].items()} == {"bj": 2, "sh": 2}
    assert sum(d["scored"] for d in charts["per_day"]) == 4

    page_login(client, "bj_sup")  # a supervisor of one branch counts only its calls
    page = client.get("/dashboard").text
    assert re.search(r'id="n-scored" href="/dashboard/calls">.*?<strong>2</strong>', page, re.S)
    assert "forbidden.dont_know" not in page


def test_admin_adds_and_disables_users_with_csrf(client: TestClient) -> None:
    token = page_login(client, "admin")
    new = {"csrf": token, "name": "agent9", "role": "agent", "password": PASSWORD, "agent_id": "9", "branches": ""}
    assert client.post("/admin/users", data={**new, "csrf": "forged"}).status_code == 403
    assert client.post("/admin/users", data=new).status_code == 200
    assert client.post("/admin/users", data={**new, "role": "king"}).status_code == 422
    assert client.post("/admin/users", data={**new, "name": "agent10", "agent_id": ""}).status_code == 422
    assert "agent9" in client.get("/admin").text
    assert client.post("/admin/users/disable", data={"csrf": token, "name": "agent9"}).status_code == 200
    assert client.post("/admin/users/disable", data={"csrf": token, "name": "admin"}).status_code == 422
    client.cookies.clear()
    client.get("/login")
    refused = client.post(
        "/login", data={"username": "agent9", "password": PASSWORD, "csrf": client.cookies["callqa_csrf"]}
    )
    assert refused.status_code == 401


def test_english_switch_and_no_redirect_off_site(client: TestClient) -> None:
    page_login(client, "trainer")
    assert "质检规则" in client.get("/rules").text
    assert "Log in" in client.get("/lang/en?next=/login").text  # followed: the login form in English
    switched = client.get("/lang/en?next=/rules", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/rules"
    page = client.get("/rules").text
    assert "Scoring rules" in page and 'lang="en"' in page and "Dashboard" in page
    for target in ("//evil.example", "/\\evil.example", "https://evil.example"):
        response = client.get("/lang/zh", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"
    assert "质检规则" in client.get("/rules").text


def test_every_label_in_the_templates_has_an_english_text() -> None:
    labels = {
        label
        for path in TEMPLATES.glob("*.html")
        for label in re.findall(r't\("([^"]+)"\)', path.read_text(encoding="utf-8"))
    }
    assert labels and sorted(labels - set(EN)) == []


def test_the_shared_tables_follow_the_english_switch_too(client: TestClient, seed: Seed) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening")))
    page_login(client, "agent7")
    client.cookies.set("lang", "en")
    listing = client.get("/my").text
    assert "<th>Call</th>" in listing and "<th>通话</th>" not in listing  # the macro sees the request's language
    page = client.get(f"/my/{call_id}").text
    assert "<th>Machine verdict</th>" in page and ">Failed</td>" in page
