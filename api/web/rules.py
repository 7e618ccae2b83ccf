"""/rules: every rule as the supervisors and agents read it, with the words of the standard it cites and the cases
that pin down what passes and what fails."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.http.deps import Router, SettingsDep
from api.services.scope import READERS, require_role
from api.store.models import UserRole
from api.web.pages import page_user, render
from scoring import clause_texts, load_cases, load_phrasebooks

router = Router(include_in_schema=False)
RULE_READERS = READERS | {UserRole.AGENT}  # agents are scored by these rules: they may read them


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    user = page_user(request)
    require_role(user, RULE_READERS, "read the rules")
    return render(request, "rules.html", user=user, rules=rule_sheets(settings.phrasebooks_dir, settings.seeds_dir))


@functools.cache
def rule_sheets(phrasebooks_dir: Path, seeds_dir: Path) -> list[dict[str, Any]]:
    """Read once per process: the phrasebooks change only with a deployment (a restart)."""
    book = load_phrasebooks(phrasebooks_dir)
    cases: dict[str, list[dict[str, Any]]] = {}
    for file, case in load_cases(phrasebooks_dir):
        cases.setdefault(case.rule, []).append(
            {
                "file": file,
                "name": case.name,
                "expect": str(case.expect),
                "why": case.why,
                "turns": [(str(turn.role), turn.text) for turn in case.turns],
            }
        )
    texts: dict[str, str | None] = {}
    sheets = []
    for rule in book.rules:
        seed, _, citation = rule.source.partition(" ")
        if seed not in texts:
            texts[seed] = _read(seeds_dir / seed)
        text = texts[seed]
        sheets.append(
            {
                "id": rule.id,
                "file": book.files.get(rule.id, ""),
                "kind": str(rule.kind),
                "category": str(rule.category),
                "severity": str(rule.severity),
                "points": rule.points,
                "active": rule.active,
                "message": rule.message,
                "why": rule.why,
                "source": rule.source,
                "clauses": clause_texts(text, citation) if text is not None else [(citation, None)],
                "cases": cases.get(rule.id, []),
            }
        )
    return sheets


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
