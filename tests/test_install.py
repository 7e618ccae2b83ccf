"""An installed callqa (a wheel, not this checkout) finds its phrasebooks, their standards and its migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.store import head_revision

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_carries_the_phrasebooks_and_the_standards(tmp_path: Path) -> None:
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "cwd"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("callqa-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    environment = {**os.environ, "PYTHONPATH": str(target), "COLUMNS": "400"}
    environment.pop("CALLQA_PHRASEBOOKS_DIR", None)
    environment.pop("CALLQA_SEEDS_DIR", None)
    script = "import api; print(api.__file__); from api.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", script, "rules", "check"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(target))  # the installed copy ran, not this checkout
    assert " cases pass" in result.stdout
    assert f"rule sources checked against {target / 'phrasebooks' / 'standards'}: 0 problems" in result.stdout
    # The installed copy also migrates a database: its Alembic scripts are package data.
    database = tmp_path / "store.db"
    result = subprocess.run(
        [sys.executable, "-c", script, "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={**environment, "CALLQA_DATABASE_URL": f"sqlite:///{database}"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()} (current)" in result.stdout and database.is_file()
