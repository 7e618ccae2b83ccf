"""The pages' forms without a browser: session and CSRF, the review form (verdicts, missed findings, the 409
page), roles, queue filters and the lease buttons; and the player's precomputed peaks."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.http.deps import SESSION_COOKIE
from api.ingest import CallMetadata
from api.services.calls import audio_digest, register_file
from api.services.peaks import compute_peaks, stored_peaks
from api.services.process import Outcome, process_call
from api.store.models import WaveformPeaks
from api.web.pages import _finding_channel, _lanes
from tests.http.conftest import PASSWORD, V1, Seed, finding, login, scorecard
from tests.scoring.factory import book
from tests.store.stand_ins import LoggingTranscriber

SAMPLE = Path(__file__).parents[2] / "samples" / "01_account_query_good.mp3"


def _csrf(client: TestClient) -> str:
    client.get("/login")
    return client.cookies["callqa_csrf"]


def _log_in(client: TestClient, name: str) -> str:
    """A browser-like session (cookie jar) for `name`; the CSRF token its forms carry."""
    token = _csrf(client)
    response = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
    assert response.status_code == 200 and response.url.path == "/queue", response.text
    return token


def _claim(client: TestClient, token: str, **filters: str) -> int:
    response = client.post("/queue/claim", data={"csrf": token, **filters}, follow_redirects=False)
    assert response.status_code == 303
    match = re.fullmatch(r"/calls/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match[1])


def _form_version(page: str) -> int:
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, "no review form on the page"
    return int(match[1])


def _finding_ids(client: TestClient, call_id: int, headers: dict[str, str]) -> list[int]:
    return [f["id"] for f in client.get(f"/api/calls/{call_id}", headers=headers).json()["findings"]]


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


def test_reviewer_rejects_a_finding_adds_a_missed_one_and_decides(client: TestClient, seed: Seed) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening"), finding("forbidden.dont_know")))
    token = _log_in(client, "sup")
    assert _claim(client, token) == call_id
    page = client.get(f"/calls/{call_id}").text
    assert 'id="review-form"' in page and 'id="renew"' in page and "锁定剩余" in page
    first, second = _finding_ids(client, call_id, login(client, "senior"))
    form = {
        "csrf": token,
        "version": str(_form_version(page)),
        "decision": "fail",
        "comment": "开场不规范",
        "finding_id": [str(first), str(second)],
        "verdict": ["reject", "confirm"],
        "reason": ["", ""],
        "added_category": ["dead_air", "", ""],
        "added_rule_id": ["", "forbidden.dont_know", ""],
        "added_start": ["12.5", "3", ""],
        "added_end": ["15", "", ""],
        "added_note": ["长时间静音", "又说了一次", ""],
    }
    refused = client.post(f"/calls/{call_id}/review", data=form)
    assert refused.status_code == 422 and "rejecting a finding needs a reason" in refused.text
    assert "开场不规范" in refused.text and "长时间静音" in refused.text  # nothing typed is lost

    form["reason"] = ["客户先问候了", ""]
    done = client.post(f"/calls/{call_id}/review", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/queue?done={call_id}"
    review = client.get(f"/api/calls/{call_id}", headers=login(client, "senior")).json()["review"]
    assert review["state"] == "reviewed" and review["decision"] == "fail"
    (decided,) = review["history"]
    assert {(v["finding_id"], v["verdict"], v["reason"]) for v in decided["findings"]} == {
        (first, "reject", "客户先问候了"),
        (second, "confirm", ""),
    }
    assert decided["added"] == [
        {"rule_id": None, "category": "dead_air", "start": 12.5, "end": 15.0, "note": "长时间静音"},
        {
            "rule_id": "forbidden.dont_know",
            "category": "forbidden_phrase",
            "start": 3.0,
            "end": None,
            "note": "又说了一次",
        },
    ]
    queue = client.get(f"/queue?done={call_id}").text
    assert f"已提交通话 #{call_id}" in queue and f'href="/calls/{call_id}"' not in queue


def test_review_form_needs_its_csrf_token(client: TestClient, seed: Seed) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening")))
    token = _log_in(client, "sup")
    _claim(client, token)
    version = _form_version(client.get(f"/calls/{call_id}").text)
    forged = client.post(f"/calls/{call_id}/review", data={"csrf": "forged", "version": version, "decision": "pass"})
    assert forged.status_code == 403
    assert client.post("/queue/claim", data={"csrf": "forged"}).status_code == 403
    assert client.post(f"/calls/{call_id}/release", data={"csrf": ""}).status_code in (403, 422)
    review = client.get(f"/api/calls/{call_id}", headers=login(client, "senior")).json()["review"]
    assert review["state"] == "claimed" and review["history"] == []


def test_a_stale_form_shows_the_conflict_what_changed_and_keeps_the_input(client: TestClient, seed: Seed) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening")))
    token = _log_in(client, "sup")
    _claim(client, token)
    stale = _form_version(client.get(f"/calls/{call_id}").text)
    senior = login(client, "senior")
    assert client.post(f"/api/calls/{call_id}/release", headers=senior).status_code == 200
    assert _claim(client, token) == call_id  # the same reviewer holds it again, but the form is from before
    form = {"csrf": token, "version": str(stale), "decision": "pass", "comment": "我的意见"}
    response = client.post(f"/calls/{call_id}/review", data=form)
    assert response.status_code == 409
    changes = re.search(r'<ul id="changes">(.*?)</ul>', response.text, re.S)
    assert changes and "senior · 释放" in changes[1] and "sup · 领取" in changes[1]
    assert "我的意见" in response.text and _form_version(response.text) == stale + 2
    form["version"] = str(_form_version(response.text))  # submitting again from the fresh page works
    assert client.post(f"/calls/{call_id}/review", data=form, follow_redirects=False).status_code == 303


def test_only_the_lease_holder_decides_a_trainer_never_and_an_agent_sees_only_their_calls(
    client: TestClient, seed: Seed
) -> None:
    mine = seed(scorecard(40, finding("greeting.opening")), agent_id="7")
    other = seed(scorecard(40, finding("greeting.opening")), agent_id="8")
    sup = _log_in(client, "sup")
    _claim(client, sup)
    held = mine if "review-form" in client.get(f"/calls/{mine}").text else other

    with TestClient(client.app) as second:
        token = _log_in(second, "sup2")
        page = second.get(f"/calls/{held}").text
        assert "review-form" not in page and "sup 正在复核此通话" in page
        response = second.post(f"/calls/{held}/review", data={"csrf": token, "version": "2", "decision": "pass"})
        assert response.status_code == 409 and "only the holder of its lease" in response.text
    with TestClient(client.app) as trainer:
        token = _log_in(trainer, "trainer")
        page = trainer.get(f"/calls/{held}").text
        assert "review-form" not in page and 'id="claim-next"' not in trainer.get("/queue").text
        assert trainer.post("/queue/claim", data={"csrf": token}).status_code == 403
        response = trainer.post(f"/calls/{held}/review", data={"csrf": token, "version": "2", "decision": "pass"})
        assert response.status_code == 403
    with TestClient(client.app) as agent:
        agent.post("/login", data={"username": "agent7", "password": PASSWORD, "csrf": _csrf(agent)})
        assert agent.get(f"/calls/{mine}").status_code == 200
        assert agent.get(f"/calls/{other}").status_code == 404
        assert "review-form" not in agent.get(f"/calls/{mine}").text


def test_queue_filters_count_each_value_claim_within_them_and_show_the_holders(client: TestClient, seed: Seed) -> None:
    sh_fatal = seed(scorecard(20, finding("return.guaranteed", severity="fatal")), branch="sh")
    bj_a = seed(scorecard(60, finding("greeting.opening")), branch="bj", agent_id="8")
    bj_b = seed(scorecard(70, finding("greeting.opening")), branch="bj")
    token = _log_in(client, "sup")
    page = client.get("/queue").text
    assert re.search(r'<option value="bj" >bj\(2\)</option>', page) and re.search(r"sh\(1\)", page)
    assert re.search(r'<option value="8" >8\(1\)</option>', page) and re.search(r"return.guaranteed\(1\)", page)

    filtered = client.get("/queue?branch=bj&agent_id=&date_from=&sampled=").text
    assert re.search(r'id="total">2<', filtered) and f'href="/calls/{sh_fatal}"' not in filtered
    assert re.search(r'<option value="bj" selected>bj\(2\)', filtered) and re.search(r"sh\(1\)", filtered)
    assert _claim(client, token, branch="bj") == bj_a  # the lowest score within the filter, not the fatal sh call

    with TestClient(client.app) as second:
        _log_in(second, "sup2")
        page = second.get("/queue").text
        claimed = re.search(r'<table id="claimed">(.*?)</table>', page, re.S)
        assert claimed and f'href="/calls/{bj_a}"' in claimed[1] and '<td class="holder">sup</td>' in claimed[1]
        assert re.search(r'id="total">2<', page) and f'href="/calls/{bj_b}"' in page
    empty = client.post("/queue/claim", data={"csrf": token, "branch": "nowhere"}, follow_redirects=False)
    assert empty.headers["location"] == "/queue?branch=nowhere&empty=true"
    assert "没有可领取的通话" in client.get(empty.headers["location"]).text
    assert client.get("/queue?date_from=30.11.2026").status_code == 422


def test_renew_through_htmx_gives_the_lease_box_and_release_returns_the_call(client: TestClient, seed: Seed) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening")))
    token = _log_in(client, "sup")
    _claim(client, token)
    box = client.post(f"/calls/{call_id}/renew", data={"csrf": token}, headers={"HX-Request": "true"})
    assert box.status_code == 200 and box.text.startswith('<div id="lease"') and "已续期" in box.text
    plain = client.post(f"/calls/{call_id}/renew", data={"csrf": token}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/calls/{call_id}"
    released = client.post(f"/calls/{call_id}/release", data={"csrf": token}, follow_redirects=False)
    assert released.status_code == 303
    assert "review-form" not in client.get(f"/calls/{call_id}").text
    assert client.post(f"/calls/{call_id}/renew", data={"csrf": token}).status_code == 409


def test_peaks_are_computed_on_first_view_then_read_from_the_store(
    client: TestClient, seed: Seed, sessions: sessionmaker[Session]
) -> None:
    call_id = seed(scorecard(40, finding("greeting.opening")), audio=SAMPLE.read_bytes())
    headers = login(client, "sup")
    first = client.get(f"/api/calls/{call_id}/peaks", headers=headers)
    assert first.status_code == 200 and first.headers["cache-control"].startswith("private")
    body = first.json()
    assert body["rate"] == 100 and 56 < body["duration"] < 58 and len(body["peaks"]) == 2  # stereo: two lanes
    with sessions() as session:
        row = session.scalars(select(WaveformPeaks).where(WaveformPeaks.call_id == call_id)).one()
        assert row.channels == 2 and len(row.data) == 2 * 5682
    assert client.get(f"/api/calls/{call_id}/peaks", headers=headers).json() == body
    unreadable = seed(scorecard(40, finding("greeting.opening")))  # bytes that are not audio
    response = client.get(f"/api/calls/{unreadable}/peaks", headers=headers)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert client.get(f"/api/calls/{call_id}/peaks", headers=login(client, "agent8")).status_code == 404


def test_peaks_keep_each_channel_and_the_loudest_sample_of_each_hundredth_of_a_second(tmp_path: Path) -> None:
    rate = 8000
    t = np.arange(int(1.5 * rate)) / rate
    left = np.where(t < 1.0, 0.5 * np.sin(2 * np.pi * 440 * t), 0.0)  # a tone, then silence
    right = np.where(t >= 1.0, 0.25, 0.0)  # silence, then a constant quarter
    path = tmp_path / "two.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.stack([left, right], axis=1) * 32767).astype("<i2").tobytes())
    peaks = compute_peaks(str(path))
    assert peaks.rate == 100 and peaks.duration == pytest.approx(1.5)
    first, second = (np.frombuffer(channel, dtype=np.uint8) for channel in peaks.channels)
    assert len(first) == len(second) == 150
    assert first[:100].min() >= 125 and first[:100].max() <= 128 and first[101:].max() == 0
    assert second[:100].max() == 0 and set(second[101:]) == {64}


def test_a_finding_goes_on_the_lane_of_the_speaker_it_concerns() -> None:
    segments = [
        {"role": "client", "channel": 0, "start": 0.0, "end": 2.0},
        {"role": "agent", "channel": 1, "start": 2.0, "end": 6.0},
        {"role": "client", "channel": 0, "start": 6.0, "end": 9.0},
    ]
    lanes = _lanes({"channels": 2}, segments)
    assert lanes == ["client", "agent"]  # the agent was recorded on the right channel here
    on = {"start": 5.0, "end": 8.5}  # mostly the client's line
    assert _finding_channel(on, segments, lanes) == 0
    assert _finding_channel({"start": 3.0, "end": None}, segments, lanes) == 1  # a point in the agent's line
    assert _finding_channel({"start": 20.0, "end": 21.0}, segments, lanes) == 1  # no line: the agent's
    assert _finding_channel({"start": None, "end": None}, segments, lanes) == -1
    assert _finding_channel(on, segments, _lanes({"channels": 1}, segments)) == -1  # mono: the whole waveform


def test_processing_a_call_stores_its_peaks_and_unreadable_audio_still_gets_scored(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    audio, junk = tmp_path / "real.mp3", tmp_path / "junk.mp3"
    audio.write_bytes(SAMPLE.read_bytes())
    junk.write_bytes(b"not audio at all" * 50)  # the stand-in transcriber does not mind; the peaks do
    ids = []
    for path in (audio, junk):
        sha256, size = audio_digest(path)
        with sessions.begin() as session:
            ids.append(
                register_file(session, path=str(path), sha256=sha256, size=size, metadata=CallMetadata(), cti=None)
            )
    transcriber = LoggingTranscriber(tmp_path / "log")
    for call_id in ids:
        result = process_call(
            sessions, call_id=call_id, transcriber=transcriber, book=book(), versions=V1, worker_name="w"
        )
        assert result.outcome == Outcome.SCORED
    with sessions() as session:
        stored = stored_peaks(session, call_id=ids[0])
        assert stored is not None and stored.rate == 100 and len(stored.channels) == 2
        assert stored_peaks(session, call_id=ids[1]) is None  # the page computes (or refuses) it on first view


CJK = re.compile(r"[\u4e00-\u9fff]")


def _labels_only(page: str) -> str:
    """The page without its data (transcript lines, evidence and sources, quoted or typed-in comments) or the
    中文 switch: what is left is the templates' own text."""
    page = re.sub(r"<textarea([^>]*)>[^<]*</textarea>", "", page)
    page = re.sub(r'<ol id="transcript">.*?</ol>', "", page, flags=re.S)
    page = re.sub(r'class="detail source">[^<]*<', "", page)
    page = re.sub(r"“[^”]*”", "", page)
    return page.replace('lang="zh-CN">中文</a>', "")


def test_queue_and_call_pages_in_english_show_no_chinese_label(client: TestClient, seed: Seed) -> None:
    claimed = seed(scorecard(40, finding("greeting.opening", severity="fatal"), finding("x.ok", verdict="pass")))
    seed(scorecard(60, finding("greeting.opening", verdict="uncertain")), branch="bj")
    token = _log_in(client, "sup")
    assert _claim(client, token) == claimed
    client.cookies.set("lang", "en")

    queue = client.get("/queue?category=forbidden_phrase&sampled=no&done=1&empty=true").text
    assert "Review queue" in queue and 'id="claimed"' in queue and "forbidden phrase(1)" in queue
    assert not CJK.findall(_labels_only(queue)), CJK.findall(_labels_only(queue))

    refused = client.post(f"/calls/{claimed}/review", data={"csrf": token, "version": "0", "comment": "好"})
    assert refused.status_code == 422 and "Choose the call&#39;s result" in refused.text
    for page in (client.get(f"/calls/{claimed}").text, refused.text):
        assert 'id="review-form"' in page and "Transcript" in page and "不知道" in page  # the evidence stays
        assert not CJK.findall(_labels_only(page)), CJK.findall(_labels_only(page))
    renewed = client.post(f"/calls/{claimed}/renew", data={"csrf": token}, headers={"HX-Request": "true"}).text
    assert "renewed" in renewed and not CJK.search(renewed)

    client.cookies.set("lang", "zh")  # and back: the Chinese labels are still the page's own
    assert "待复核队列" in client.get("/queue").text and "转写" in client.get(f"/calls/{claimed}").text


@pytest.mark.parametrize(
    ("name", "home"), [("sup", "/queue"), ("agent7", "/my"), ("admin", "/admin"), (None, "/login")]
)
def test_home_and_the_error_page_send_each_role_to_its_own_page(
    client: TestClient, name: str | None, home: str
) -> None:
    if name is not None:
        token = _csrf(client)
        client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
    assert client.get("/", follow_redirects=False).headers["location"] == home
    if name is not None:
        error = client.get("/calls/999999")
        assert error.status_code == 404 and f'href="{home}" id="back"' in error.text
