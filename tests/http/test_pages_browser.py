"""The pages in a real browser: Debian's Chromium through Playwright against a real `callqa serve`, on a database
holding a scored call whose audio is a sample MP3."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.services.users import add_user
from api.store.models import UserRole
from tests.http.conftest import PASSWORD, Seed, finding, scorecard
from tests.http.test_server import server  # noqa: F401  (fixture: `callqa serve` on a free port)

CHROMIUM = "/usr/bin/chromium"
SAMPLE = Path(__file__).parents[2] / "samples" / "01_account_query_good.mp3"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def call_id(seed: Seed, sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        add_user(session, name="sup", role=UserRole.SUPERVISOR, password=PASSWORD)
        add_user(session, name="trainer", role=UserRole.TRAINER, password=PASSWORD)
    return seed(scorecard(40, finding("greeting.opening")), audio=SAMPLE.read_bytes())


def _log_in(browser: object, base: str, name: str) -> object:
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page.goto(f"{base}/queue")
    assert page.url.endswith("/login")  # no session: the login form
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")
    return page


def test_supervisor_logs_in_claims_seeks_and_sees_the_playing_line(server: str, call_id: int, browser: object) -> None:  # noqa: F811
    page: object = _log_in(browser, server, "sup")
    assert page.locator(f"#queue a[href='/calls/{call_id}']").count() == 1  # type: ignore[attr-defined]
    page.click("#claim-next")  # type: ignore[attr-defined]
    page.wait_for_url(f"{server}/calls/{call_id}")  # type: ignore[attr-defined]
    assert "forbidden phrase" in page.inner_text("#findings")  # type: ignore[attr-defined]
    assert "坐席" in page.inner_text("#transcript")  # type: ignore[attr-defined]
    page.wait_for_function("window.callqaPlayer && window.callqaPlayer.getDuration() > 50")  # type: ignore[attr-defined]

    line = page.locator("#transcript .line").nth(1)  # type: ignore[attr-defined]
    start = float(line.get_attribute("data-start"))
    assert start > 0
    line.click()
    position = page.evaluate("window.callqaPlayer.getCurrentTime()")  # type: ignore[attr-defined]
    assert abs(position - start) < 0.05

    page.locator("#transcript .line").nth(0).click()  # type: ignore[attr-defined]
    page.click("#play")  # type: ignore[attr-defined]
    page.wait_for_function("window.callqaPlayer.getCurrentTime() > 0.3")  # type: ignore[attr-defined]
    page.wait_for_selector("#transcript .line.playing")  # type: ignore[attr-defined]
    assert page.locator("#transcript .line.playing").count() == 1  # type: ignore[attr-defined]
    assert page.locator("#decisions").count() == 1  # type: ignore[attr-defined]


def test_trainer_sees_the_call_without_decision_buttons(server: str, call_id: int, browser: object) -> None:  # noqa: F811
    page: object = _log_in(browser, server, "trainer")
    assert page.locator("#claim-next").count() == 0  # type: ignore[attr-defined]
    page.goto(f"{server}/calls/{call_id}")  # type: ignore[attr-defined]
    assert "forbidden phrase" in page.inner_text("#findings")  # type: ignore[attr-defined]
    assert page.locator("#decisions").count() == 0  # type: ignore[attr-defined]
