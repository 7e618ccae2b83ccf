"""Data flows one way: transcribe knows nothing of ours, scoring knows only transcribe, api knows all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"transcribe": {"scoring", "api"}, "scoring": {"api"}}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_downstream(package: str) -> None:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN[package]]
    assert offenders == []


def test_transcribe_reads_no_environment() -> None:
    for path in (ROOT / "transcribe").rglob("*.py"):
        assert "os.environ" not in path.read_text(encoding="utf-8") and "getenv" not in path.read_text(encoding="utf-8")
