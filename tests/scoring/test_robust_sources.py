"""Every rule's `source` must cite a seed document and a clause that is in it; `callqa rules check` verifies that
against the bundled standards (or CALLQA_SEEDS_DIR), which must equal the shared seed documents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import phrasebooks
from api.cli import app
from api.config import get_settings
from scoring.sources import clause_problems, source_problems
from tests.scoring.factory import SEEDS, SHARED_SEEDS, book

runner = CliRunner()

DOCUMENT = """第一条 总则
1.第一条的第一项
2.第一条的第二项
第二条 服务用语
1.您好
第三条
3.别处的第三项
"""


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CALLQA_SEEDS_DIR", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("citation", "expected"),
    [
        ("第一条", []),
        ("第一条 第2项", []),
        ("第二条 服务用语", []),  # words after the heading describe the clause
        ("第一条 第1项、第2项;第二条 第1项", []),
        ("第四条", ["'第四条' does not occur in doc.txt"]),
        ("第一条 第3项", ["第一条 of doc.txt has no item 3"]),  # item 3 is in 第三条, not in 第一条
        ("第二条 第1项;第五条", ["'第五条' does not occur in doc.txt"]),
        ("总则", []),  # a section title, not an article
    ],
)
def test_clause_problems(citation: str, expected: list[str]) -> None:
    assert clause_problems("doc.txt", DOCUMENT, citation) == expected


def test_bundled_rules_cite_what_the_real_seeds_contain() -> None:
    assert source_problems(book(), SEEDS) == []


def _seeds_for_every_source(directory: Path) -> Path:
    """Seed documents made from the bundled rules' own citations: every heading, each with items 1–30."""
    directory.mkdir()
    texts: dict[str, list[str]] = {}
    for rule in book().rules:
        file, _, citation = rule.source.partition(" ")
        for clause in re.split(r"[;；]", citation):
            heading = clause.split()[0]
            texts.setdefault(file, []).append(heading + "\n" + "".join(f"{n}.条目\n" for n in range(1, 31)))
    for file, sections in texts.items():
        (directory / file).write_text("".join(sections), encoding="utf-8")
    return directory


def test_rules_check_verifies_sources_in_the_seeds_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = _seeds_for_every_source(tmp_path / "seeds")
    monkeypatch.setenv("CALLQA_SEEDS_DIR", str(seeds))
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert f"rule sources checked against {seeds}: 0 problems" in " ".join(result.stdout.split())


def test_rules_check_fails_on_a_clause_missing_from_its_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = _seeds_for_every_source(tmp_path / "seeds")
    seed = seeds / "003_eda5909ba40dd7a1.txt"
    seed.write_text(seed.read_text(encoding="utf-8").replace("第五十四条", "第五十肆条"), encoding="utf-8")
    citing = [r for r in book().rules if "第五十四条" in r.source]
    assert citing
    monkeypatch.setenv("CALLQA_SEEDS_DIR", str(seeds))
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 1
    stderr = " ".join(result.stderr.split())
    for rule in citing:
        expected = (
            f"error: {book().files[rule.id]}: rule {rule.id}: field source: '第五十四条' does not occur in {seed.name}"
        )
        assert expected in stderr
    assert f"{len(citing)} problems" in " ".join(result.stdout.split())  # Rich wraps long temporary paths


def test_rules_check_fails_on_a_missing_seed_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = _seeds_for_every_source(tmp_path / "seeds")
    (seeds / "004_07c9336514c1f004.txt").unlink()
    monkeypatch.setenv("CALLQA_SEEDS_DIR", str(seeds))
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 1
    assert f"field source: 004_07c9336514c1f004.txt is not a readable seed document in {seeds}" in " ".join(
        result.stderr.split()
    )


def test_sources_are_checked_against_the_bundled_standards_by_default() -> None:
    assert get_settings().seeds_dir == phrasebooks.STANDARDS
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert f"rule sources checked against {phrasebooks.STANDARDS}: 0 problems" in " ".join(result.stdout.split())


def test_the_bundled_standards_are_the_shared_seed_documents_unchanged() -> None:
    if not SHARED_SEEDS.is_dir():
        pytest.skip(f"{SHARED_SEEDS} not present")
    shared = {p.name: p.read_bytes() for p in SHARED_SEEDS.iterdir() if p.is_file()}
    bundled = {p.name: p.read_bytes() for p in phrasebooks.STANDARDS.iterdir() if p.is_file()}
    assert bundled == shared


def test_seeds_dir_that_does_not_exist_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLQA_SEEDS_DIR", str(tmp_path / "nope"))
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: CALLQA_SEEDS_DIR={tmp_path / 'nope'}: not a directory"
