"""Transcript in, scorecard out: the service standards as data-driven rules that survive ASR errors."""

from scoring.engine import score
from scoring.findings import Category, Finding, Verdict
from scoring.phrasebook import Phrasebook, PhrasebookError, load_phrasebooks
from scoring.scorecard import Scorecard

__all__ = ["Category", "Finding", "Phrasebook", "PhrasebookError", "Scorecard", "Verdict", "load_phrasebooks", "score"]
