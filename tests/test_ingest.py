"""Transcript lines for `callqa score --transcripts`: any line is either a valid transcript or one line of error.

A property test mutates valid lines (fields replaced, shifted, deleted, swapped, nested, bytes cut) and checks that
`parse_transcript_line` raises nothing but a one-line ValueError and accepts only transcripts that hold the
invariants scoring relies on; named tests cover each case of issue 8; the reader is tested on real files, FIFOs,
pipes and devices.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.ingest import MAX_LINE_BYTES, Call, bounded_lines, parse_transcript_line, read_cti, read_transcripts
from scoring import score
from tests.scoring.factory import book, call
from transcribe import Transcript

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "04_forbidden_phrases.mp3"
ROUNDING_S = 0.001

_TURNS = (
    ("agent", "您好,中国银河证券北京营业部,请问有什么可以帮您?"),
    ("client", "我想买基金。"),
    ("agent", "这个产品是保本的。"),
    ("agent", "感谢您的来电,再见!"),
)
# Real Whisper output for samples/04_forbidden_phrases.mp3, stereo and downmixed to mono (roles guessed).
REAL = ROOT / "tests" / "fixtures" / "real_transcripts.jsonl"
BASES: dict[str, Any] = {
    "stereo": call(*_TURNS, ending="client").to_dict(),
    "stereo-agent-hangs-up": call(*_TURNS, ending="agent").to_dict(),
    "mono": call(*_TURNS, mono=True).to_dict(),
    **{
        f"real-{kind}": json.loads(line)
        for kind, line in zip(("stereo", "mono"), REAL.read_text("utf-8").splitlines(), strict=True)
    },
}


def _line(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _good(kind: str = "stereo") -> dict[str, Any]:
    return {**json.loads(json.dumps(BASES[kind])), "source": "/calls/call.mp3"}


# --- what every accepted transcript must satisfy, written independently of transcribe/types.py -----------------


def assert_invariants(t: Transcript) -> None:
    within = t.duration + ROUNDING_S
    assert math.isfinite(t.duration) and t.duration >= 0
    assert Path(t.source).name not in ("", ".", "..")
    assert t.channel_count in (1, 2) and t.sample_rate > 0
    assert [c.channel for c in t.channels] == list(range(t.channel_count))
    if t.channel_count == 2:
        assert {c.role for c in t.channels} == {"agent", "client"}
    for c in t.channels:
        assert 0 <= c.audio_end <= within and math.isfinite(c.rms_dbfs) and math.isfinite(c.peak_dbfs)
        for start, end in (*c.speech_spans, *c.tone_spans):
            assert 0 <= start <= end <= within
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts)
    for s in t.segments:
        assert 0 <= s.start <= s.end <= within
        assert 0 <= s.channel < t.channel_count
        assert t.channel_count == 1 or s.role == t.channels[s.channel].role
        assert math.isfinite(s.avg_logprob) and 0 <= s.no_speech_prob <= 1
        for w in s.words:
            assert 0 <= w.start <= w.end <= within and 0 <= w.probability <= 1


# --- mutations ---------------------------------------------------------------------------------------------------

DEEP = "<deeply nested lists>"
ODD_VALUES = st.sampled_from(
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        -1,
        -0.0,
        0,
        1,
        2,
        3,
        1e308,
        10**30,
        "",
        ".",
        "/",
        "..",
        "a" * 300,
        "x\0y",
        "\ud800",
        "line\nbreak",
        "agent",
        "client",
        None,
        True,
        [],
        {},
        [1],
        [2.0, 1.0],
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def _nodes(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _nodes(child, (*path, key))


def _mutate(data: dict[str, Any], draw: st.DataObject) -> None:
    path = draw.draw(st.sampled_from([p for p in _nodes(data) if p]), label="path")
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key, value = path[-1], parent[path[-1]]
    how = draw.draw(st.sampled_from(["odd", "json", "shift", "delete", "swap", "deep"]), label="how")
    if how == "deep":  # spliced in as bytes after dumping: json.dumps itself cannot write thousands of levels
        parent[key] = DEEP
    if how == "shift" and isinstance(value, int | float) and not isinstance(value, bool):
        parent[key] = value + draw.draw(st.sampled_from([-100, -5, -0.5, -0.01, 0.01, 0.5, 5, 100]))
    elif how == "delete":
        del parent[key]
    elif how == "swap" and isinstance(parent, list) and len(parent) > 1:
        other = draw.draw(st.integers(0, len(parent) - 1))
        parent[key], parent[other] = parent[other], parent[key]
    elif how != "deep":
        parent[key] = draw.draw(JSON_VALUES if how == "json" else ODD_VALUES)


def _mutated_line(draw: st.DataObject) -> bytes:
    data = copy.deepcopy(_good(draw.draw(st.sampled_from(sorted(BASES)), label="base")))
    for _ in range(draw.draw(st.integers(1, 3), label="mutations")):
        _mutate(data, draw)
    raw = json.dumps(data, ensure_ascii=draw.draw(st.booleans())).encode("utf-8", "surrogatepass")
    levels = draw.draw(st.sampled_from([1, 6, 11, 999, 3000]), label="levels")
    raw = raw.replace(json.dumps(DEEP).encode(), b"[" * levels + b"]" * levels)
    if draw.draw(st.integers(0, 9)) == 0:  # byte-level damage: cut the line or splice a byte in
        at = draw.draw(st.integers(0, len(raw)))
        raw = raw[:at] + (draw.draw(st.binary(max_size=2)) if draw.draw(st.booleans()) else b"")
    return raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_lines_are_a_valid_transcript_or_one_line_of_error(data: st.DataObject) -> None:
    raw = _mutated_line(data)
    try:
        transcript, hangup_by = parse_transcript_line(raw)
    except ValueError as exc:
        message = str(exc)
        assert message and len(message.splitlines()) == 1 and len(message) < 400, message
        return
    assert hangup_by in (None, "agent", "client")
    assert_invariants(transcript)
    assert Transcript.from_dict(transcript.to_dict()) == transcript
    score(transcript, book())  # an accepted transcript must score without surprises


@pytest.mark.parametrize("kind", sorted(BASES))
def test_the_unmutated_bases_are_accepted(kind: str) -> None:
    transcript, _ = parse_transcript_line(_line(_good(kind)))
    assert_invariants(transcript)
    assert transcript.channel_count == (1 if "mono" in kind else 2)


def test_real_transcripts_are_scored_from_the_cli() -> None:
    result = _callqa("score", "--json", "--transcripts", str(REAL))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2


# --- each case the issue lists -----------------------------------------------------------------------------------


def _with(kind: str, where: tuple[Any, ...], value: Any) -> bytes:
    data = _good(kind)
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return json.dumps(data).encode("utf-8")


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("kind", "where", "value", "expected"),
    [
        ("stereo", ("source",), "", "field source: empty"),
        ("stereo", ("source",), ".", "field source: '.' does not name a file"),
        ("stereo", ("source",), "/", "field source: '/' does not name a file"),
        ("stereo", ("source",), "/calls/" + "长" * 100 + ".mp3", "field source: a name in it is longer than 255"),
        ("stereo", ("source",), "a\0b.mp3", "field source: contains a NUL character"),
        ("stereo", ("segments", 1, "text"), "\ud800", "field segments.1.text: not Unicode text"),
        ("stereo", ("segments", 1, "end"), 0.0, "field segments.1: ends (0.0) before it starts"),
        ("stereo", ("segments", 1, "words", 0, "end"), 0.0, "field segments.1.words.0: ends (0.0) before"),
        ("stereo", ("segments", 1, "start"), INF, "field segments.1.start: inf is not a time"),
        ("stereo", ("segments", 1, "end"), -INF, "field segments.1.end: -inf is not a time"),
        ("stereo", ("segments", 1, "words", 0, "start"), NAN, "field segments.1.words.0.start: nan is not a time"),
        ("stereo", ("segments", 1, "avg_logprob"), NAN, "field segments.1.avg_logprob: must be a finite number"),
        ("stereo", ("segments", 1, "no_speech_prob"), NAN, "field segments.1.no_speech_prob: nan is not between"),
        ("stereo", ("segments", 1, "words", 0, "probability"), INF, "field segments.1.words.0.probability: inf"),
        ("stereo", ("channels", 0, "rms_dbfs"), -INF, "field channels.0.rms_dbfs: must be a finite number"),
        ("stereo", ("channels", 1, "audio_end"), NAN, "field channels.1.audio_end: nan is not a time"),
        ("stereo", ("channels", 1, "tone_spans"), [[1.0, INF]], "field channels.1.tone_spans.0.1: inf is not a time"),
        ("stereo", ("duration",), 1e12, "field duration: 1000000000000.0 is not a time"),
        ("stereo", ("segments", 3, "end"), 1e5, "field segments.3.end: 100000.0 is past the end of the call"),
        ("stereo", ("segments", 3, "words", 0, "end"), 1e5, "field segments.3.words.0.end: 100000.0 is past the end"),
        ("stereo", ("channels", 0, "speech_spans"), [[1, 1e5]], "field channels.0.speech_spans.0.1: 100000.0 is past"),
        ("stereo", ("channels", 0, "audio_end"), 1e5, "field channels.0.audio_end: 100000.0 is past the end"),
        ("mono", ("segments", 1, "channel"), 1, "field segments.1.channel: 1 on a call with channel_count 1"),
        ("stereo", ("segments", 1, "channel"), 2, "field segments.1.channel: 2 on a call with channel_count 2"),
        ("stereo", ("segments", 1, "channel"), -1, "field segments.1.channel: -1 on a call with channel_count 2"),
        ("stereo", ("segments", 1, "role"), "agent", "field segments.1.role: agent on channel 1, the client's"),
        ("stereo", ("segments", 0, "channel"), 1, "field segments.0.role: agent on channel 1, the client's"),
        ("stereo", ("channels", 1, "role"), "agent", "field channels.1.role: agent on both channels"),
        ("stereo", ("channel_count",), 1, "field channels: 2 entries for channel_count 1"),
        ("mono", ("channel_count",), 2, "field channels: 1 entries for channel_count 2"),
        ("stereo", ("channel_count",), 3, "field channel_count: 3 (1 for mono or 2 for stereo)"),
        ("stereo", ("channels", 1, "channel"), 0, "field channels.1.channel: 0, expected 1"),
        ("stereo", ("sample_rate",), 0, "field sample_rate: 0 is not a sample rate"),
        ("stereo", ("dropped",), {"repetition": -2}, "field dropped.repetition: -2 is not a count"),
    ],
)
def test_each_listed_problem_is_refused_naming_the_field(kind: str, where: tuple, value: Any, expected: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_transcript_line(_with(kind, where, value))
    assert str(raised.value).startswith(expected), str(raised.value)
    assert len(str(raised.value).splitlines()) == 1


def _swapped() -> bytes:
    data = _good()
    data["segments"][0], data["segments"][1] = data["segments"][1], data["segments"][0]
    return _line(data)


def test_segments_out_of_time_order_are_refused() -> None:
    data = json.loads(_swapped())
    first, second = data["segments"][0]["start"], data["segments"][1]["start"]
    with pytest.raises(ValueError, match=rf"^field segments.1.start: {second} is before segments.0 \({first}\)"):
        parse_transcript_line(_swapped())


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (10, r"^field x\.0\.0\.0\.0\.0\.0\.0\.0\.0: nested deeper than 10 levels$"),
        (2000, r"^not a transcript: JSON nested too deep to parse$"),
        (100_000, r"^not a transcript: JSON nested too deep to parse$"),
    ],
)
def test_deep_nesting_is_one_error_not_a_recursion_error(levels: int, expected: str) -> None:
    line = _line(_good())[:-1] + b', "x": ' + b"[" * levels + b"]" * levels + b"}"
    with pytest.raises(ValueError, match=expected):
        parse_transcript_line(line)


def test_mono_segments_may_take_either_role_on_channel_0() -> None:
    data = _good("mono")
    assert {s["role"] for s in data["segments"]} == {"agent", "client"}
    assert parse_transcript_line(_line(data))[0].channel_count == 1


def test_a_sidecar_lookup_for_an_unusable_name_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    party, warning = read_cti(tmp_path / ("a" * 300 + ".mp3"))
    assert party is None and warning is not None and "File name too long" in warning
    assert read_cti(Path(".")) == (None, None)  # no file name to put .json on
    (tmp_path / "deep.json").write_text('{"hangup_by": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    party, warning = read_cti(tmp_path / "deep.mp3")
    assert party is None and warning is not None and "unreadable CTI sidecar" in warning


# --- the reader --------------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=8), st.data())
def test_bounded_lines_splits_like_splitlines_whatever_the_chunking(lines: list[bytes], data: st.DataObject) -> None:
    stream = b"\n".join(lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    expected = [line if len(line) <= 5 else None for line in stream.split(b"\n")]
    if stream.endswith(b"\n") or not stream:
        expected = expected[:-1]
    assert list(bounded_lines(chunks, 5)) == expected


def test_a_line_over_the_limit_is_one_error_and_the_next_line_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as out:
        out.write(b'{"source": "' + b"x" * (MAX_LINE_BYTES + 1) + b'"}\n')
        out.write(_line(_good()) + b"\n")
    calls = list(read_transcripts(path))
    assert str(calls[0].outcome) == f"{path}:1: line longer than 16 MB"
    assert isinstance(calls[1].outcome, Transcript) and len(calls) == 2


def _read_in_thread(path: Path, **kwargs: float) -> list[Call]:
    """read_transcripts, but a hang fails the test instead of stalling the suite."""
    calls: list[Call] = []
    thread = threading.Thread(target=lambda: calls.extend(read_transcripts(path, **kwargs)), daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), f"reading {path} hung"
    return calls


def test_a_fifo_nobody_writes_to_is_an_error_after_the_wait_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "calls.fifo"
    os.mkfifo(fifo)
    began = time.monotonic()
    calls = _read_in_thread(fifo, writer_wait_s=0.3)
    assert [str(c.outcome) for c in calls] == [f"{fifo}: cannot read (a FIFO nobody wrote to within 0.3 s)"]
    assert time.monotonic() - began < 5


def test_a_fifo_whose_writer_comes_late_and_writes_slowly_is_streamed(tmp_path: Path) -> None:
    fifo = tmp_path / "calls.fifo"
    os.mkfifo(fifo)
    line = _line(_good()).decode()
    # The writer opens after 0.5 s and pauses 1 s between lines, like `callqa transcribe --json … > fifo`.
    script = (
        "import sys, time\n"
        "time.sleep(0.5)\n"
        f"with open({str(fifo)!r}, 'w') as fifo:\n"
        "    for _ in range(2):\n"
        f"        print({line!r}, file=fifo, flush=True)\n"
        "        time.sleep(1)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script])
    try:
        calls = _read_in_thread(fifo, writer_wait_s=10)
    finally:
        writer.wait(timeout=20)
    assert [type(c.outcome) for c in calls] == [Transcript, Transcript]


def _callqa(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-c", "from api.cli import main; main()", *args]
    return subprocess.run(command, input=stdin, capture_output=True, env={**os.environ, "COLUMNS": "200"}, timeout=600)


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_transcripts_piped_in_on_stdin_are_scored(name: str) -> None:
    result = _callqa("score", "--json", "--transcripts", name, stdin=_line(_good()) + b"\n" + b"{oops\n")
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1 and json.loads(result.stdout)["file"] == "/calls/call.mp3"
    assert result.stderr.decode().startswith(f"error: {name}:2: not JSON")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_at_once_instead_of_read_forever(device: str) -> None:
    calls = _read_in_thread(Path(device))
    assert [str(c.outcome) for c in calls] == [f"{device}: cannot read (not a regular file or a pipe)"]


@pytest.mark.parametrize("unreadable", ["dir", "parent-is-a-file/x.jsonl", "absent.jsonl"])
def test_an_unreadable_transcripts_file_is_one_error_exit_1(tmp_path: Path, unreadable: str) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "parent-is-a-file").write_text("", encoding="utf-8")
    path = tmp_path / unreadable
    result = _callqa("score", "--json", "--transcripts", str(path))
    reasons = {"dir": "Is a directory", "absent.jsonl": "No such file or directory"}
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"error: {path}: cannot read ({reasons.get(unreadable, 'Not a directory')})"
    ]


@pytest.mark.slow
def test_an_unreadable_transcripts_file_does_not_stop_the_audio_given_with_it(tmp_path: Path) -> None:
    result = _callqa("score", "--json", "--workers", "1", "--transcripts", str(tmp_path), str(SAMPLE))
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [f"error: {tmp_path}: cannot read (Is a directory)"]
    assert json.loads(result.stdout)["file"] == str(SAMPLE)


def test_every_bad_line_of_a_file_is_its_own_error_and_the_good_lines_are_scored(tmp_path: Path) -> None:
    good = _line(_good())
    bad = {
        2: _with("stereo", ("source",), ""),
        3: b'{"x": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        4: _with("stereo", ("segments", 1, "end"), NAN),
        5: _with("mono", ("segments", 1, "channel"), 1),
        7: _swapped(),
    }
    lines = [bad.get(n, good) for n in range(1, 9)]
    path = tmp_path / "day.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = _callqa("score", "--json", "--transcripts", str(path))
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 3  # lines 1, 6 and 8
    errors = result.stderr.decode().splitlines()
    assert [e.split(": ")[1] for e in errors] == [f"{path}:{n}" for n in bad], errors
    assert all(e.startswith("error: ") for e in errors) and "Traceback" not in result.stderr.decode()
    assert errors[2] == f"error: {path}:4: field segments.1.end: nan is not a time (finite seconds, 0 to 604800)"
