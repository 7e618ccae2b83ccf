"""`callqa transcribe` as a user runs it: a real process, real files, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.audio_factory import tone, write_wav

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "04_forbidden_phrases.mp3"


def _callqa(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from api.cli import main; main()", *args]
    environment = {**os.environ, "COLUMNS": "200", **env}
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600, cwd=ROOT)


@pytest.mark.slow
def test_bad_files_get_one_line_each_and_the_good_one_still_completes(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.mp3").write_text("这不是音频\n" * 40, encoding="utf-8")
    bad = [str(tmp_path / "empty.wav"), str(tmp_path / "notes.mp3"), str(tmp_path / "absent.flac")]
    result = _callqa("transcribe", bad[0], str(SAMPLE), bad[1], bad[2], "--json", "--workers", "2")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    transcript = json.loads(lines[0])
    assert transcript["source"] == str(SAMPLE) and transcript["channel_count"] == 2
    assert {s["role"] for s in transcript["segments"]} == {"agent", "client"}
    errors = result.stderr.strip().splitlines()
    assert errors == [
        f"error: {bad[0]}: empty file",
        f"error: {bad[1]}: not a readable audio file (Invalid data found when processing input)",
        f"error: {bad[2]}: file not found",
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_table_output_names_each_call() -> None:
    result = _callqa("transcribe", str(SAMPLE), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert SAMPLE.name in result.stdout and "stereo" in result.stdout


def test_a_missing_model_directory_stops_everything_with_exit_2(tmp_path: Path) -> None:
    result = _callqa("transcribe", str(SAMPLE), CALLQA_WHISPER_MODEL=str(tmp_path / "no-such-model"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: speech model directory {tmp_path / 'no-such-model'} does not exist"
    assert result.stdout == ""


def test_a_bad_setting_names_the_variable() -> None:
    result = _callqa("transcribe", str(SAMPLE), CALLQA_WHISPER_BEAM_SIZE="99")
    assert result.returncode == 2
    assert result.stderr.startswith("error: configuration error: CALLQA_WHISPER_BEAM_SIZE: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_model_name_that_is_not_available_offline_is_one_line_and_exit_2() -> None:
    result = _callqa("transcribe", str(SAMPLE), CALLQA_WHISPER_MODEL="small", HF_HUB_OFFLINE="1")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: cannot load speech model 'small' on cpu/int8: not in the local Hugging Face"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_channel_layout_is_one_line_and_the_next_file_still_runs(tmp_path: Path) -> None:
    three = write_wav(tmp_path / "three.wav", [tone(2, 300, -20)] * 3)
    short = write_wav(tmp_path / "short.wav", [np.zeros(8000)])
    result = _callqa("transcribe", str(three), str(short), "--workers", "1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {three}: unsupported channel layout: 3 channels (need 1 or 2)",
        f"error: {short}: no speech found (silence or noise only)",
    ]
