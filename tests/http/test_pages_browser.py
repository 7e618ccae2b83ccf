"""The review pages in a real browser: Debian's Chromium through Playwright against a real `callqa serve`, on a
store filled by a real `callqa batch` over sample calls (the Whisper model runs: these are slow tests too).

One store and one server for the whole module (batching costs a minute or more), so the tests share its queue:
each finds its calls from the queue's state, never by a fixed id.

The store is `callqa batch samples/`, as a newcomer's `make demo` fills it: all 10 sample calls, 7 of which need
review (sampling off). Batching them costs ~1 CPU minute (2 min wall on a loaded 2-core machine).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright
from sqlalchemy import func, select

from api.cli.local_server import CALLQA, local_server
from api.services.users import add_user
from api.store import make_engine, make_sessionmaker, upgrade
from api.store.models import UserRole, WaveformPeaks
from tests.http.conftest import PASSWORD, SECRET

CHROMIUM = "/usr/bin/chromium"
SAMPLES = Path(__file__).parents[2] / "samples"
BATCHED = sorted(SAMPLES.glob("*.mp3"))
NEEDING_REVIEW = 7
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`callqa batch` over the samples into a fresh SQLite store, the users, then `callqa serve` on it."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'callqa.db'}"
    env = {**os.environ, "CALLQA_DATABASE_URL": url, "CALLQA_SECRET_KEY": SECRET, "CALLQA_SAMPLE_RATE": "0"}
    engine = make_engine(url)
    upgrade(engine)
    batch = subprocess.run(
        [CALLQA, "batch", str(SAMPLES), "--json"], env=env, capture_output=True, text=True, timeout=600
    )
    assert batch.returncode == 0, batch.stderr[-3000:]
    assert f'"needing_review": {NEEDING_REVIEW}' in batch.stdout, batch.stdout
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        # the batch precomputed every call's waveform: no page has to decode a recording to draw one
        assert session.scalar(select(func.count()).select_from(WaveformPeaks)) == len(BATCHED)
        for name, role in (("sup", "supervisor"), ("sup2", "supervisor"), ("trainer", "trainer")):
            add_user(session, name=name, role=UserRole(role), password=PASSWORD)
    engine.dispose()

    log = folder / "server.log"
    with local_server(env, log) as base:
        yield base
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def _log_in(browser: Browser, base: str, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{base}/queue")
    assert page.url.endswith("/login")  # no session: the login form
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")
    return page


def _claim_next(page: Page, base: str) -> int:
    page.click("#claim-next")
    page.wait_for_url(re.compile(r".*/(calls/\d+|queue\?.*empty=true)$"))
    match = re.search(r"/calls/(\d+)$", page.url)
    return int(match[1]) if match else 0


def _queued(page: Page) -> list[str]:
    return [row.get_attribute("data-call") or "" for row in page.locator("#queue tbody tr[data-call]").all()]


def test_supervisor_claims_plays_seeks_rejects_a_finding_and_submits(server: str, browser: Browser) -> None:
    page = _log_in(browser, server, "sup")
    before = _queued(page)
    assert len(before) == NEEDING_REVIEW
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no layout break at 1280×800
    audio_requests: list[Request] = []
    page.on("request", lambda r: audio_requests.append(r) if r.url.endswith("/audio") else None)

    call_id = _claim_next(page, server)
    assert str(call_id) == before[0]  # the head of the queue (the fatal call)
    page.wait_for_function("window.callqaPlayer && window.callqaPlayer.getDecodedData()")
    lanes = page.evaluate("window.callqaPlayer.getDecodedData().numberOfChannels")
    assert lanes == 2 and page.inner_text(".lane-labels").split() == ["坐席", "客户"]
    # drawn from the stored peaks; the audio streams by byte ranges instead of being fetched whole to decode
    assert page.evaluate("window.callqaPlayer.getDecodedData().sampleRate") == pytest.approx(100, abs=1)
    assert audio_requests and all(r.headers.get("range", "").startswith("bytes=") for r in audio_requests)
    assert page.locator("#player >> [part~='region']").count() >= page.locator("#findings .finding").count() > 0
    assert "锁定剩余" in page.inner_text("#lease")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.locator("#transcript .line").nth(0).click()
    page.click("#play")
    page.wait_for_function("window.callqaPlayer.getCurrentTime() > 0.3")
    page.wait_for_selector("#transcript .line.playing")
    assert page.locator("#transcript .line.playing").count() == 1
    page.click("#play")  # pause

    finding = page.locator("#findings .finding").nth(1)
    start = float(finding.get_attribute("data-start") or "nan")
    finding.locator(".detail").first.click()
    assert page.evaluate("window.callqaPlayer.getCurrentTime()") == pytest.approx(start, abs=0.05)
    assert "selected" in (finding.get_attribute("class") or "")

    page.keyboard.press("x")  # reject the selected finding: the reason field takes the focus
    page.keyboard.type("录音中已有风险提示")
    assert finding.locator("select.verdict").input_value() == "reject"
    page.check("input[name=decision][value=fail]")
    page.fill("textarea[name=comment]", "复核确认不合格")
    page.click("#submit-review")
    page.wait_for_url(f"{server}/queue?done={call_id}")
    assert f"已提交通话 #{call_id}" in page.inner_text("#done")
    assert _queued(page) == before[1:] and page.inner_text("#total") == str(NEEDING_REVIEW - 1)

    page.goto(f"{server}/calls/{call_id}")
    assert "录音中已有风险提示" in page.inner_text("#history") and page.locator("#review-form").count() == 0


def test_a_second_supervisor_cannot_claim_a_call_already_claimed(server: str, browser: Browser) -> None:
    first, second = _log_in(browser, server, "sup"), _log_in(browser, server, "sup2")
    open_calls = set(_queued(first))
    mine = _claim_next(first, server)
    theirs = _claim_next(second, server)
    assert mine in {int(c) for c in open_calls} and theirs != mine
    while theirs:  # the second takes everything left; never the first's call
        second.goto(f"{server}/queue")
        theirs = _claim_next(second, server)
        assert theirs != mine
    assert "没有可领取的通话" in second.inner_text("main")
    claimed = second.locator(f"#claimed tr[data-call='{mine}'] .holder")
    assert claimed.inner_text() == "sup"
    second.goto(f"{server}/calls/{mine}")
    assert "sup 正在复核此通话" in second.inner_text("#lease")
    assert second.locator("#review-form").count() == 0


def test_trainer_sees_calls_without_decision_buttons(server: str, browser: Browser) -> None:
    page = _log_in(browser, server, "trainer")
    assert page.locator("#claim-next").count() == 0
    link = page.locator("#queue a, #claimed a").first
    link.click()
    page.wait_for_url(re.compile(r".*/calls/\d+$"))
    assert page.locator("#findings .finding").count() > 0
    assert page.locator("#review-form, select.verdict, #renew, #release").count() == 0
    assert "x" not in page.inner_text("#shortcuts")  # no confirm/reject shortcuts offered
    page.keyboard.press("j")  # navigating still works
    assert page.locator("#findings .finding.selected").count() == 1
