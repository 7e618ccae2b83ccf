"""Screenshots of the main pages (`make screenshots`): the samples, given CTI sidecars (agents, branches, times),
go through `callqa batch` into a temporary database; `callqa serve` shows them; Debian's Chromium (Playwright,
headless) logs in as each role and saves each page at 1280×800 under docs/screenshots/. One call is reviewed and
appealed through the API first, so that the agent and appeal pages have something to show."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from api.cli.local_server import CALLQA, ServerDidNotStart, local_server

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "screenshots only"
AGENTS = [("1001", "王敏", "上海浦东营业部"), ("1002", "李强", "上海浦东营业部"), ("2001", "张丽", "北京朝阳营业部")]
USERS = [
    ("zhou", "supervisor", None),
    ("chen", "senior_supervisor", None),
    ("liu", "trainer", None),
    ("admin", "admin", None),
    ("wangmin", "agent", "1001"),
]
VIEWPORT = {"width": 1280, "height": 800}


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    result = subprocess.run([CALLQA, *args], env=env, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"callqa {' '.join(args)} failed: {result.stderr.strip()[-2000:]}")


def calls_with_sidecars(directory: Path) -> None:
    """Each sample MP3 with a CTI sidecar: agents and branches in turn, one call a day over the last ten days."""
    directory.mkdir()
    for n, sample in enumerate(sorted((ROOT / "samples").glob("*.mp3"))):
        shutil.copy(sample, directory / sample.name)
        agent_id, agent_name, branch = AGENTS[n % len(AGENTS)]
        sidecar = {"agent_id": agent_id, "agent_name": agent_name, "branch": branch, "direction": "inbound"}
        sidecar["call_time"] = f"2026-11-{20 + n:02d}T{9 + n % 8:02d}:15:00"
        (directory / sample.with_suffix(".json").name).write_text(json.dumps(sidecar, ensure_ascii=False))


def review_and_appeal(base: str) -> int:
    """A supervisor reviews one of agent 1001's calls (fail), and the agent appeals it: its id."""

    def token(name: str) -> dict[str, str]:
        response = httpx.post(f"{base}/api/auth/token", data={"username": name, "password": PASSWORD})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    sup, agent = token("zhou"), token("wangmin")
    claimed = httpx.post(f"{base}/api/queue/claim", params={"agent_id": "1001"}, headers=sup, timeout=60)
    if claimed.status_code != 200:
        sys.exit(f"no call of agent 1001 to review: {claimed.status_code} {claimed.text}")
    call_id = claimed.json()["call_id"]
    call = httpx.get(f"{base}/api/calls/{call_id}", headers=sup, timeout=60).json()
    failing = [f for f in call["findings"] if f["verdict"] == "fail"]
    body = {
        "version": claimed.json()["version"],
        "decision": "fail",
        "comment": "开场白不完整",
        "findings": [{"finding_id": f["id"], "verdict": "confirm"} for f in failing],
    }
    httpx.post(f"{base}/api/calls/{call_id}/review", json=body, headers=sup, timeout=60).raise_for_status()
    appeal = {"reason": "客户抢先说话,我随后补了问候语,请复听 0:05 处。", "finding_ids": [f["id"] for f in failing[:1]]}
    httpx.post(f"{base}/api/calls/{call_id}/appeal", json=appeal, headers=agent, timeout=60).raise_for_status()
    return call_id


def shoot(base: str, appealed: int) -> list[str]:
    from playwright.sync_api import Page, sync_playwright

    saved: list[str] = []

    def save(page: Page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / f"{name}.png")
        saved.append(name)

    def log_in(browser: Any, name: str) -> Page:
        page: Page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{base}/login")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    with sync_playwright() as playwright:
        args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{base}/login")
        save(page, "login")

        page = log_in(browser, "zhou")
        page.goto(f"{base}/queue")
        save(page, "queue")
        page.click("#claim-next")  # the call page as its reviewer sees it: with the lease and the decisions
        page.wait_for_url(re.compile(r".*/calls/\d+$"))
        page.wait_for_timeout(1500)  # the waveform draws after the audio's peaks arrive
        save(page, "call")
        page.goto(f"{base}/dashboard")
        page.wait_for_function("window.callqaChartsDrawn === true")
        save(page, "dashboard")
        page.click("#top-rules a[href^='/dashboard/calls']")
        save(page, "dashboard-calls")
        page.goto(f"{base}/rules")
        save(page, "rules")
        page.goto(f"{base}/lang/en?next=/dashboard")
        page.wait_for_function("window.callqaChartsDrawn === true")
        save(page, "dashboard-en")

        page = log_in(browser, "wangmin")
        page.goto(f"{base}/my")
        save(page, "my")
        page.goto(f"{base}/my/{appealed}")
        save(page, "my-call")

        page = log_in(browser, "chen")
        page.goto(f"{base}/appeals")
        save(page, "appeals")
        page.click("#open-appeals a[href^='/appeals/']")
        save(page, "appeal")

        page = log_in(browser, "admin")
        page.goto(f"{base}/admin")
        save(page, "admin")
        browser.close()
    return saved


def main() -> None:
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="callqa-screenshots-") as scratch:
        work = Path(scratch)
        env = {
            **os.environ,
            "CALLQA_DATABASE_URL": f"sqlite:///{work / 'callqa.db'}",
            "CALLQA_SECRET_KEY": "screenshots-" + "x" * 40,
            "CALLQA_SAMPLE_RATE": "0",
        }
        calls_with_sidecars(work / "calls")
        run("db", "upgrade", env=env)
        print("scoring the samples (callqa batch): a few minutes on a small machine", flush=True)
        run("batch", str(work / "calls"), env=env)
        for name, role, agent_id in USERS:
            extra = ["--agent-id", agent_id] if agent_id else []
            run("users", "add", name, "--role", role, *extra, "--password-stdin", env=env, stdin=PASSWORD + "\n")
        try:
            with local_server(env, work / "serve.log") as base:
                saved = shoot(base, review_and_appeal(base))
        except ServerDidNotStart as exc:
            sys.exit(str(exc))
    print(f"saved {len(saved)} screenshots in {OUT.relative_to(ROOT)}: {', '.join(saved)}")


if __name__ == "__main__":
    main()
