"""Plain factory functions for scoring tests: short calls written as (role, text) turns."""

from __future__ import annotations

from pathlib import Path

from scoring import Phrasebook, load_phrasebooks
from scoring.cases import Case, Turn, case_transcript
from transcribe.types import Transcript

ROOT = Path(__file__).resolve().parents[2]
PHRASEBOOKS = ROOT / "phrasebooks"
# The standards the rules cite, as bundled; the shared originals sit beside a checkout (not beside a CI clone).
SEEDS = PHRASEBOOKS / "standards"
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"

_book: Phrasebook | None = None


def book() -> Phrasebook:
    global _book
    if _book is None:
        _book = load_phrasebooks(PHRASEBOOKS)
    return _book


def call(*turns: tuple[str, str] | Turn, ending: str = "client", mono: bool = False) -> Transcript:
    parsed = [t if isinstance(t, Turn) else Turn(role=t[0], text=t[1]) for t in turns]  # type: ignore[arg-type]
    return case_transcript(Case(rule="x.y", name="t", expect="pass", turns=parsed, ending=ending, mono=mono))  # type: ignore[arg-type]
