"""Every example dialogue beside the phrasebooks gets the verdict it names; every rule has both kinds."""

from __future__ import annotations

import pytest

from scoring.cases import Case, coverage_problems, load_cases, run_case
from tests.scoring.factory import PHRASEBOOKS, book

CASES = load_cases(PHRASEBOOKS)


@pytest.mark.parametrize(("file", "case"), CASES, ids=[c.id for _, c in CASES])
def test_case(file: str, case: Case) -> None:
    result = run_case(book(), case, file)
    assert result.got == case.expect, f"{file}: {case.id}: {result.evidence}"


def test_every_active_rule_has_a_passing_and_a_failing_case() -> None:
    assert coverage_problems(book(), CASES) == []


def test_case_ids_are_unique() -> None:
    ids = [c.id for _, c in CASES]
    assert len(ids) == len(set(ids))
