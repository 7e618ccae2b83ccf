"""An agent in a real browser (Debian's Chromium through Playwright, against a real `callqa serve`): logs in, sees
only their own calls, and appeals a reviewed one."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.services.reviews import QueueFilter, claim_next, submit_review, sync_reviews
from api.services.users import add_user
from api.store.models import UserRole
from tests.http.conftest import PASSWORD, Seed, finding, scorecard
from tests.http.test_pages_browser import CHROMIUM, browser  # noqa: F401  (fixture: Chromium, once per module)
from tests.http.test_server import server  # noqa: F401  (fixture: `callqa serve` on a free port)

# Seeded through the services, not batched: no model runs, so this one is not `slow`.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


def test_agent_sees_only_their_own_calls_and_appeals(
    server: str,  # noqa: F811
    seed: Seed,
    sessions: sessionmaker[Session],
    browser: object,  # noqa: F811
) -> None:
    mine = seed(scorecard(40, finding("greeting.opening")), agent_id="7")
    theirs = seed(scorecard(35, finding("greeting.opening")), agent_id="8")
    with sessions.begin() as session:
        sup = add_user(session, name="sup", role=UserRole.SUPERVISOR, password=PASSWORD)
        add_user(session, name="agent7", role=UserRole.AGENT, password=PASSWORD, agent_id="7")
        sync_reviews(session, sample_rate=0.0)
        review = claim_next(session, user=sup, filters=QueueFilter(agent_id="7"), aging_hours=24, lease_minutes=30)
        assert review is not None and review.call_id == mine
        submit_review(
            session, user=sup, call_id=mine, version=review.version, decision="fail", comment="", findings=[], added=[]
        )

    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page.goto(f"{server}/my")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", "agent7")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/my")  # an agent lands on their own calls
    assert page.locator(f"#calls a[href='/my/{mine}']").count() == 1
    assert page.locator(f"a[href='/my/{theirs}']").count() == 0
    assert page.goto(f"{server}/my/{theirs}").status == 404

    page.goto(f"{server}/my")
    page.click(f"#calls a[href='/my/{mine}']")
    page.wait_for_url(f"{server}/my/{mine}")
    page.check("#appeal-form input[name=finding_ids]")
    page.fill("#appeal-form textarea[name=reason]", "开场白说了,录音第一秒就有")
    page.click("#file-appeal")
    page.wait_for_url(f"{server}/my/{mine}?filed=true")
    assert page.locator("#appeal-form").count() == 0
    assert "开场白说了" in page.inner_text(".appeals")
    assert page.inner_text("#review-state") == "申诉中"
