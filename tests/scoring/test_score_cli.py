"""`callqa score --transcripts`, `callqa rules check|explain`: output contract, sidecars and exit codes (no model)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.config import get_settings
from api.ingest import read_cti
from tests.scoring.factory import PHRASEBOOKS, call

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _transcripts(tmp_path: Path, ending: str = "client") -> Path:
    transcript = call(
        ("agent", "您好,中国银河证券北京营业部,请问有什么可以帮您?"),
        ("client", "我想买基金。"),
        ("agent", "这个产品是保本的。"),
        ("agent", "感谢您的来电,再见!"),
        ending=ending,
    )
    data = {**transcript.to_dict(), "source": str(tmp_path / "call.mp3")}
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_score_json_lines_follow_the_contract(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "--json", "--transcripts", str(_transcripts(tmp_path))])
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout.strip())
    assert list(card) == ["file", "duration", "score", "passed", "needs_review", "hangup", "findings"]
    assert card["file"] == str(tmp_path / "call.mp3")
    failed = {f["rule_id"] for f in card["findings"] if f["verdict"] == "fail"}
    assert {"return.guaranteed", "risk.disclosure_after_product"} <= failed
    assert card["passed"] is False and card["needs_review"] is True
    assert card["hangup"] == {"by": "client", "confidence": 0.95, "source": "audio"}


def test_cti_sidecar_beside_the_audio_is_authoritative(tmp_path: Path) -> None:
    (tmp_path / "call.json").write_text('{"hangup_by": "agent", "agent_id": 7}', encoding="utf-8")
    (tmp_path / "call.labels.json").write_text('{"hangup_by": "client"}', encoding="utf-8")
    result = runner.invoke(app, ["score", "--json", "--transcripts", str(_transcripts(tmp_path))])
    card = json.loads(result.stdout.strip())
    assert card["hangup"] == {"by": "agent", "confidence": 1.0, "source": "cti"}


def test_sidecar_reading_ignores_other_json_and_warns_on_bad_values(tmp_path: Path) -> None:
    audio = tmp_path / "call.mp3"
    assert read_cti(audio) == (None, None)
    (tmp_path / "call.truth.json").write_text('{"hangup_by": "agent"}', encoding="utf-8")
    assert read_cti(audio) == (None, None)  # NAME.truth.json is not the sidecar of NAME.mp3
    (tmp_path / "call.json").write_text('{"segments": []}', encoding="utf-8")
    assert read_cti(audio) == (None, None)  # some other JSON: not CTI data
    (tmp_path / "call.json").write_text('{"hangup_by": "nobody"}', encoding="utf-8")
    party, warning = read_cti(audio)
    assert party is None and warning is not None and "call.json" in warning
    (tmp_path / "call.json").write_text("{", encoding="utf-8")
    assert read_cti(audio)[1] is not None


def test_score_table_without_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "--transcripts", str(_transcripts(tmp_path))], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "call.mp3" in result.stdout and "return.guaranteed" in result.stdout


def test_unreadable_transcript_line_is_exit_1_and_others_still_scored(tmp_path: Path) -> None:
    path = _transcripts(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "{not json}\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--json", "--transcripts", str(path)])
    assert result.exit_code == 1
    assert len(result.stdout.strip().splitlines()) == 1
    assert f"{path}:2: not JSON" in " ".join(result.stderr.split())


def _good_line(tmp_path: Path) -> dict:
    return json.loads(_transcripts(tmp_path).read_text(encoding="utf-8"))


def _set(data: dict, where: tuple, value: object) -> dict:
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return data


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        (("segments", 0, "start"), "abc", "field segments.0.start: Input should be a valid number"),
        (("segments", 0, "start"), "1.5", "field segments.0.start: Input should be a valid number"),
        (("segments", 0, "text"), None, "field segments.0.text: Input should be a valid string"),
        (("segments", 0, "words", 0, "probability"), "x", "field segments.0.words.0.probability: "),
        (("segments", 0, "words", 0, "probability"), 3.0, "field segments.0.words.0.probability: 3.0 is not between"),
        (("duration",), "long", "field duration: Input should be a valid number"),
        (("duration",), -1, "field duration: -1.0 is not a time"),
        (("channels", 0, "speech_spans"), [[1]], "field channels.0.speech_spans.0.1: "),
        (("channels", 0, "speech_spans"), [[2.0, 1.0]], "field channels.0.speech_spans.0: ends (1.0) before"),
        (("segments", 0, "role"), "boss", "field segments.0.role: Input should be 'agent' or 'client'"),
        (("roles_confident",), "yes", "field roles_confident: Input should be a valid boolean"),
        (("segments",), None, "field segments: "),
        (("hangup_by",), "boss", 'field hangup_by: must be "client" or "agent", not \'boss\''),
    ],
)
def test_wrong_typed_field_is_one_line_naming_file_line_and_field_and_the_next_call_is_scored(
    tmp_path: Path, where: tuple, value: object, expected: str
) -> None:
    good = _good_line(tmp_path)
    bad = _set(json.loads(json.dumps(good)), where, value)
    path = tmp_path / "mixed.jsonl"
    lines = [json.dumps(good), json.dumps(bad), json.dumps(good)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--json", "--transcripts", str(path)])
    assert result.exit_code == 1
    assert len(result.stdout.strip().splitlines()) == 2  # lines 1 and 3 still scored
    errors = result.stderr.strip().splitlines()
    assert "Traceback" not in result.output
    assert " ".join(result.stderr.split()).startswith(f"error: {path}:2: {expected}"), result.stderr
    assert len(" ".join(errors).split("error:")) == 2  # exactly one error


def test_nan_time_and_non_object_lines_are_refused(tmp_path: Path) -> None:
    good = json.dumps(_good_line(tmp_path))
    nan = json.dumps({**_good_line(tmp_path), "duration": float("nan")})  # Python writes a bare NaN
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(["[1, 2]", "42", nan, good]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--json", "--transcripts", str(path)])
    stderr = " ".join(result.stderr.split())
    assert result.exit_code == 1
    assert f"{path}:1: not a transcript: a JSON object expected, got list" in stderr
    assert f"{path}:2: not a transcript: a JSON object expected, got int" in stderr
    assert f"{path}:3: field duration: nan is not a time" in stderr
    assert len(result.stdout.strip().splitlines()) == 1


def test_line_that_is_not_utf8_is_one_error_and_the_other_lines_are_scored(tmp_path: Path) -> None:
    good = json.dumps(_good_line(tmp_path), ensure_ascii=False).encode("utf-8")
    path = tmp_path / "binary.jsonl"
    path.write_bytes(b"\xff\xfebad\n" + good + b"\n")
    result = runner.invoke(app, ["score", "--json", "--transcripts", str(path)])
    assert result.exit_code == 1
    assert f"error: {path}:1: not UTF-8 text (byte 0xff at column 1)" in " ".join(result.stderr.split())
    assert len(result.stdout.strip().splitlines()) == 1


def test_unexpected_failure_inside_score_costs_only_that_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.services.process as scoring_step  # where `callqa score` and the workers call scoring

    real_score = scoring_step.score
    calls = []

    def first_call_breaks(transcript: object, *args: object, **kwargs: object) -> object:
        calls.append(transcript)
        if len(calls) == 1:
            raise ZeroDivisionError("division by zero")
        return real_score(transcript, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scoring_step, "score", first_call_breaks)
    line = json.dumps(_good_line(tmp_path))
    path = tmp_path / "two.jsonl"
    path.write_text(line + "\n" + line + "\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--json", "--transcripts", str(path)])
    assert result.exit_code == 1
    assert len(calls) == 2 and len(result.stdout.strip().splitlines()) == 1
    stderr = " ".join(result.stderr.split())
    assert f"error: {tmp_path / 'call.mp3'}: could not be scored (ZeroDivisionError: division by zero)" in stderr
    assert "Traceback" not in result.output


def test_hangup_by_on_the_transcript_line_is_cti_and_beats_the_sidecar(tmp_path: Path) -> None:
    (tmp_path / "call.json").write_text('{"hangup_by": "client"}', encoding="utf-8")
    with_field = {**_good_line(tmp_path), "hangup_by": "agent"}
    without = {**_good_line(tmp_path), "hangup_by": None}
    path = tmp_path / "cti.jsonl"
    path.write_text(json.dumps(with_field) + "\n" + json.dumps(without) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--json", "--transcripts", str(path)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.strip().splitlines())
    assert first["hangup"] == {"by": "agent", "confidence": 1.0, "source": "cti"}
    hangup = next(f for f in first["findings"] if f["rule_id"] == "hangup.client_first")
    assert hangup["verdict"] == "fail"
    assert second["hangup"] == {"by": "client", "confidence": 1.0, "source": "cti"}  # null: the sidecar decides


def test_rules_check_passes_on_the_bundled_phrasebooks() -> None:
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "cases pass" in result.stdout


def test_rules_check_exit_2_names_file_rule_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(PHRASEBOOKS, tmp_path / "books")
    path = tmp_path / "books" / "hangup.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("min_confidence: 0.6", "min_confidence: 2"), "utf-8")
    monkeypatch.setenv("CALLQA_PHRASEBOOKS_DIR", str(tmp_path / "books"))
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 2
    assert "error: hangup.yaml: rule hangup.client_first: field min_confidence:" in " ".join(result.stderr.split())


def test_rules_check_exit_1_when_a_case_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(PHRASEBOOKS, tmp_path / "books")
    path = tmp_path / "books" / "forbidden.cases.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("expect: fail", "expect: pass", 1), "utf-8")
    monkeypatch.setenv("CALLQA_PHRASEBOOKS_DIR", str(tmp_path / "books"))
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 1
    assert "FAIL forbidden.cases.yaml: forbidden.rude_answer::who-are-you: expected pass, got fail" in " ".join(
        result.stderr.split()
    )


def test_rules_explain_known_and_unknown() -> None:
    known = runner.invoke(app, ["rules", "explain", "forbidden.dont_know"])
    assert known.exit_code == 0
    assert "第五十四条" in known.stdout and "不知道您" in known.stdout
    unknown = runner.invoke(app, ["rules", "explain", "forbidden.dont_knw"])
    assert unknown.exit_code == 1
    assert "no rule 'forbidden.dont_knw'; did you mean forbidden.dont_know" in " ".join(unknown.stderr.split())


def test_eval_prints_the_evaluation_then_lists_failed_calls_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.cli.score as score_command
    from api.ingest import Call
    from transcribe import TranscribeError

    labels = {"passed": False, "hangup_by": "client", "categories": {"return_promise": "fail"}}
    for name in ("good", "broken"):
        (tmp_path / f"{name}.mp3").write_bytes(b"")
        (tmp_path / f"{name}.labels.json").write_text(json.dumps(labels), encoding="utf-8")
    transcript = call(("agent", "您好,中国银河证券。"), ("agent", "这个产品是保本的。"))

    def fake_transcripts(files: list[Path], transcripts: object, workers: object) -> Iterator[Call]:
        assert sorted(f.name for f in files) == ["broken.mp3", "good.mp3"]
        yield Call(tmp_path / "broken.mp3", TranscribeError(f"{tmp_path / 'broken.mp3'}: no speech heard"))
        yield Call(tmp_path / "good.mp3", transcript)

    monkeypatch.setattr(score_command, "_calls", fake_transcripts)
    result = runner.invoke(app, ["eval", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "over 1 labelled calls" in result.stdout  # the evaluation of the call that worked is still printed
    assert "return_promise" in result.stdout
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'broken.mp3'}: no speech heard"]


def test_eval_exits_0_when_every_call_is_evaluated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.cli.score as score_command
    from api.ingest import Call

    (tmp_path / "good.mp3").write_bytes(b"")
    (tmp_path / "good.labels.json").write_text('{"categories": {"return_promise": "fail"}}', encoding="utf-8")
    transcript = call(("agent", "您好,中国银河证券。"), ("agent", "这个产品是保本的。"))
    monkeypatch.setattr(score_command, "_calls", lambda *_: iter([Call(tmp_path / "good.mp3", transcript)]))
    result = runner.invoke(app, ["eval", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
