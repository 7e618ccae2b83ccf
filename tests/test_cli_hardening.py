"""The command line as a careless or hostile user drives it: odd names, odd settings, closed pipes.

Each test runs a real `callqa` process (no model unless it says so) and checks the exit code and that every
problem is one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scoring.factory import call

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "01_account_query_good.mp3"


def _callqa(
    *args: str, cwd: Path = ROOT, stdout: int | None = subprocess.PIPE, **env: str
) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from api.cli import main; main()", *args]
    environment = {**os.environ, "COLUMNS": "250", **env}
    return subprocess.run(
        command, stdout=stdout, stderr=subprocess.PIPE, text=True, env=environment, timeout=300, cwd=cwd
    )


def _transcripts(folder: Path, source: str) -> Path:
    transcript = call(("agent", "您好,中国银河证券北京营业部,请问有什么可以帮您?"), ("agent", "感谢您的来电,再见!"))
    path = folder / "calls.jsonl"
    path.write_text(json.dumps({**transcript.to_dict(), "source": source}, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _assert_one_line_each(stderr: str) -> None:
    assert "Traceback" not in stderr and "╭" not in stderr, stderr
    for line in stderr.splitlines():
        assert line.startswith(("error: ", "warning: ")), stderr


def test_file_names_and_sidecar_values_are_never_read_as_markup(tmp_path: Path) -> None:
    source = tmp_path / "rec[vip]zhang[b].mp3"
    (tmp_path / "rec[vip]zhang[b].json").write_text('{"hangup_by": "[/x][bold]"}', encoding="utf-8")
    result = _callqa("score", "--transcripts", str(_transcripts(tmp_path, str(source))))
    assert result.returncode == 0, result.stderr
    assert "rec[vip]zhang[b].mp3" in result.stdout
    _assert_one_line_each(result.stderr)
    assert """"hangup_by" must be "client" or "agent", not '[/x][bold]'""" in result.stderr


def test_a_newline_in_a_file_name_keeps_the_error_on_one_line(tmp_path: Path) -> None:
    odd = tmp_path / "bad\nname\x1b[31m.jsonl"
    odd.write_text("not json\n", encoding="utf-8")
    result = _callqa("score", "--transcripts", str(odd))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path}/bad\\nname\\x1b[31m.jsonl:1: not JSON (Expecting value at column 1)"
    ]


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0, reason="needs root and setpriv")
def test_an_unreadable_file_is_its_own_error_and_the_others_are_scored(tmp_path: Path) -> None:
    # Root reads everything; without CAP_DAC_OVERRIDE it is refused a mode-000 file like any user.
    secret = tmp_path / "secret.mp3"
    shutil.copyfile(SAMPLE, secret)
    secret.chmod(0)
    lines = tmp_path / "unreadable.jsonl"
    lines.write_text("{}\n", encoding="utf-8")
    lines.chmod(0)
    good = _transcripts(tmp_path, str(tmp_path / "good.mp3"))
    command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-c"]
    command += ["from api.cli import main; main()", "score", str(secret), "--transcripts", str(lines), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"error: {lines}: cannot read (Permission denied)",
        f"error: {secret}: not a readable audio file (Permission denied)",
    ]
    assert good.exists()


def test_transcripts_and_audio_given_together_score_both_after_an_unreadable_transcripts_file(tmp_path: Path) -> None:
    folder = tmp_path / "a_folder.jsonl"
    folder.mkdir()
    result = _callqa("score", "--transcripts", str(folder))
    assert result.returncode == 1
    _assert_one_line_each(result.stderr)
    assert str(folder) in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CALLQA_MAX_DURATION_S", "inf", "CALLQA_MAX_DURATION_S: Input should be a finite number"),
        ("CALLQA_MAX_DURATION_S", "nan", "CALLQA_MAX_DURATION_S: Input should be a finite number"),
        ("CALLQA_MAX_DURATION_S", "1e9", "CALLQA_MAX_DURATION_S: Input should be less than or equal to 86400"),
        ("CALLQA_VAD_THRESHOLD", "nan", "CALLQA_VAD_THRESHOLD: Input should be a finite number"),
    ],
)
def test_settings_that_cannot_work_are_refused_before_anything_runs(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = _callqa("score", "--transcripts", str(_transcripts(tmp_path, "x.mp3")), **{variable: value})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: configuration error: {expected}"]


def test_a_dot_env_that_is_not_utf8_is_one_configuration_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"CALLQA_WORKERS=\xff\xfe\n")
    result = _callqa("score", "--transcripts", str(_transcripts(tmp_path, "x.mp3")), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: configuration error: .env is not UTF-8 text (byte 0xff)"]


def test_closed_stdout_is_one_error_not_a_traceback(tmp_path: Path) -> None:
    path = _transcripts(tmp_path, "x.mp3")
    command = [sys.executable, "-c", "from api.cli import main; main()", "score", "--json", "--transcripts", str(path)]
    result = subprocess.run(
        ["bash", "-c", '"$@" >&-', "bash", *command], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: standard output is closed; nothing was processed"]


def test_a_reader_that_goes_away_stops_the_run_quietly(tmp_path: Path) -> None:
    line = _transcripts(tmp_path, "x.mp3").read_text(encoding="utf-8")
    many = tmp_path / "many.jsonl"
    many.write_text(line * 400, encoding="utf-8")
    command = [sys.executable, "-c", "from api.cli import main; main()", "score", "--json", "--transcripts", str(many)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # `| head -1`
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 1
    assert stderr == ""
