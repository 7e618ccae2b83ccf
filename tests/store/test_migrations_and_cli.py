"""Migrations on both databases, a database newer than the code refused in one line, the configuration of the
store and of file-name metadata, and `callqa calls` / `callqa db` on a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from api.config import Settings
from api.ingest import read_metadata
from api.store import DatabaseState, check_revision, current_revision, head_revision, upgrade
from api.store.migrate import downgrade
from api.store.models import Base

CALLQA = [str(Path(sys.executable).parent / "callqa")]
TABLES = {"calls", "call_files", "transcripts", "scorecards", "findings", "jobs"}
REVIEW_TABLES = {
    "users",
    "api_keys",
    "reviews",
    "review_decisions",
    "finding_verdicts",
    "added_findings",
    "appeals",
    "rulings",
    "audit_events",
}


def _callqa(*args: str, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CALLQA, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CALLQA_DATABASE_URL": url, **env},
        timeout=120,
    )


def test_upgrade_from_empty_then_downgrade_one_step(engine: Engine) -> None:
    assert check_revision(engine) == DatabaseState.BEHIND
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES | REVIEW_TABLES | {"waveform_peaks"}
    downgrade(engine, "-1")  # 0004: the re-score columns and the claim indexes go, the rest stays
    columns = {c["name"] for c in inspect(engine).get_columns("reviews")}
    assert "requeue_reason" not in columns and "state" in columns
    assert "scorecard_id" not in {c["name"] for c in inspect(engine).get_columns("review_decisions")}
    assert "ix_reviews_claim" not in {i["name"] for i in inspect(engine).get_indexes("reviews")}
    assert "waveform_peaks" in inspect(engine).get_table_names()
    downgrade(engine, "-1")  # 0003: the player's waveform peaks go, the rest stays
    assert "waveform_peaks" not in inspect(engine).get_table_names()
    assert set(inspect(engine).get_table_names()) >= TABLES | REVIEW_TABLES
    upgrade(engine)
    assert "requeue_reason" in {c["name"] for c in inspect(engine).get_columns("reviews")}
    assert "ix_reviews_claim" in {i["name"] for i in inspect(engine).get_indexes("reviews")}
    downgrade(engine, "0001")  # the review service's tables go, the store's stay
    assert not REVIEW_TABLES & set(inspect(engine).get_table_names())
    assert set(inspect(engine).get_table_names()) >= TABLES
    downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert check_revision(engine) == DatabaseState.CURRENT


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_database_newer_than_the_code_is_refused_in_one_line(engine: Engine, db_url: str) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    for args in (["calls", "list"], ["db", "upgrade"], ["db", "current"]):
        result = _callqa(*args, url=db_url)
        assert result.returncode == 2, (args, result.stderr)
        assert "newer than this callqa" in result.stderr or "ahead" in result.stdout
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 1


def test_a_configured_database_is_migrated_only_on_request(db_url: str) -> None:
    result = _callqa("calls", "list", url=db_url)
    assert result.returncode == 2 and "run `callqa db upgrade`" in result.stderr
    assert _callqa("db", "upgrade", url=db_url).returncode == 0
    listed = _callqa("calls", "list", "--json", url=db_url)
    assert listed.returncode == 0 and listed.stdout == ""


def test_the_embedded_default_database_migrates_itself(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CALLQA_DATABASE_URL"}
    result = subprocess.run(
        [*CALLQA, "calls", "list", "--json"],
        capture_output=True,
        text=True,
        env={**env, "XDG_DATA_HOME": str(tmp_path)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "callqa" / "callqa.db").is_file()


def test_an_unusable_database_url_is_one_line_exit_2(tmp_path: Path) -> None:
    for url in ("mysql://x/y", "not a url", "postgresql+psycopg://nobody@127.0.0.1:1/none"):
        result = _callqa("calls", "list", url=url)
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, (url, result.stderr)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(?P<branch>[^_]+", "not a valid RE2"),
        ("(?P<agent>\\d+)", "unknown group name(s) agent"),
        ("(?=x)(?P<branch>a)", "not a valid RE2"),
        ("\\d+", "no named group"),
    ],
)
def test_a_bad_filename_pattern_is_refused_at_load(pattern: str, problem: str) -> None:
    with pytest.raises(ValueError, match="filename_pattern") as caught:
        Settings(filename_pattern=pattern)
    assert problem in str(caught.value)


def test_metadata_from_the_file_name_and_the_sidecar_with_bad_fields_named(tmp_path: Path) -> None:
    pattern = Settings(
        filename_pattern=r"(?P<branch>[^_]+)_(?P<agent_id>\d+)_(?P<call_time>\d{8}-\d{6})"
    ).filename_regex()
    audio = tmp_path / "bj01_1234_20240105-093000.mp3"
    found = read_metadata(audio, pattern)
    assert (found.fields.branch, found.fields.agent_id, found.fields.call_time.isoformat()) == (  # type: ignore[union-attr]
        "bj01",
        "1234",
        "2024-01-05T09:30:00",
    )
    audio.with_suffix(".json").write_text(
        json.dumps({"agent_name": "王芳", "direction": "sideways", "hangup_by": "agent", "agent_id": 99}),
        encoding="utf-8",
    )
    found = read_metadata(audio, pattern)
    assert (found.fields.agent_name, found.fields.agent_id, found.fields.hangup_by) == ("王芳", "99", "agent")
    assert found.fields.direction is None
    assert len(found.warnings) == 1 and 'field "direction"' in found.warnings[0]
    # A pathological name costs linear time under RE2 (Python's re would backtrack for ages on (a+)+b).
    slow = Settings(filename_pattern=r"(?P<branch>(a+)+b)").filename_regex()
    assert read_metadata(tmp_path / ("a" * 200 + ".mp3"), slow).fields.branch is None


def test_batch_walks_folders_and_since_keeps_newer_files_only(sessions: object, db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "night" / "deeper"
    folder.mkdir(parents=True)
    (folder / "old.mp3").write_bytes(b"not audio")
    (folder / "notes.txt").write_text("not a recording")
    os.utime(folder / "old.mp3", (0, 0))  # 1970: before any --since
    result = _callqa("batch", str(tmp_path / "night"), "--since", "2020-01-01", "--json", url=db_url)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["found"], summary["calls"], summary["scored"]) == (0, 0, 0)
    missing = _callqa("batch", str(tmp_path / "nowhere"), "--json", url=db_url)
    assert missing.returncode == 1 and "nowhere: no such file or folder" in missing.stderr
    assert json.loads(missing.stdout)["unreadable"] == 1
