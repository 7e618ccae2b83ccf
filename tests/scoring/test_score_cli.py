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
from api.score_cli import read_cti
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
    assert "line 2: not a transcript" in result.stderr


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
