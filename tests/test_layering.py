"""Data flows one way: transcribe knows nothing of ours, scoring knows only transcribe, api knows all."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"transcribe": {"scoring", "api"}, "scoring": {"api"}}
FRONT_DOORS = ("scoring", "transcribe")
OUTER = sorted(str(p.relative_to(ROOT)) for d in ("api", "bench") for p in (ROOT / d).rglob("*.py"))
# The transcription bench's naive baseline runs faster-whisper itself, so it needs transcribe's internals.
PAST_FRONT_DOORS = {
    "bench/transcribe.py": {
        "from transcribe.audio import ...",
        "from transcribe.cer import ...",
        "from transcribe.model_files import ...",
    },
    # The memory bench measures the decode and acoustics stages one by one, without the model.
    "bench/memory.py": {"from transcribe import acoustics", "from transcribe import audio"},
    # The profile bench times each stage of a call (decode, acoustics, encoder, beam search) on its own.
    "bench/profile.py": {
        "from transcribe import acoustics",
        "from transcribe import audio",
        "from transcribe import transcriber",
        "from transcribe.cer import ...",
    },
}


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


def _api_imports() -> dict[str, set[str]]:
    """Each `api` module's imports of other `api` modules (module names, dotted)."""
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "api").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("api"):
                targets |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("api")}
        graph[module] = targets
    return {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}


def test_api_modules_import_each_other_without_cycles() -> None:
    graph = _api_imports()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for target in graph[module]:
            visit(target, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_only_the_worker_builds_a_transcriber() -> None:
    builders = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "api").rglob("*.py")
        if "Transcriber(" in path.read_text(encoding="utf-8")
    )
    assert all(name.startswith("api/worker/") for name in builders), builders


def _past_front_doors(path: Path) -> list[str]:
    """Imports of `scoring`/`transcribe` submodules, or of names not in the package's `__all__`."""
    offenders = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            offenders += [a.name for a in node.names if a.name.split(".")[0] in FRONT_DOORS and "." in a.name]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            package = node.module.split(".")[0]
            if package not in FRONT_DOORS:
                continue
            if node.module != package:
                offenders.append(f"from {node.module} import ...")
                continue
            public = set(importlib.import_module(package).__all__)
            offenders += [f"from {package} import {a.name}" for a in node.names if a.name not in public]
    return offenders


@pytest.mark.parametrize("module", OUTER)
def test_outer_modules_use_only_front_doors(module: str) -> None:
    """api and bench import `from scoring import X` / `from transcribe import X` with X in `__all__`, never a
    submodule: what a package exports is all that others may lean on."""
    assert set(_past_front_doors(ROOT / module)) <= PAST_FRONT_DOORS.get(module, set())


def test_front_doors_export_what_they_name() -> None:
    for package in FRONT_DOORS:
        module = importlib.import_module(package)
        assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_services_know_no_http_or_cli_and_http_builds_no_transcriber() -> None:
    graph = _api_imports()
    for module, targets in graph.items():
        if module.startswith("api.services"):
            assert not {t for t in targets if t.startswith(("api.http", "api.cli"))}, module
    for path in (ROOT / "api" / "http").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "Transcriber(" not in text and "TranscriberPool" not in text, path
