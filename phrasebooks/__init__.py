"""The service standards as data: one YAML phrasebook per theme, its cases beside it, and under `standards/` the
source documents the rules cite. A package only so that an installed callqa finds them (`DIRECTORY`)."""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
STANDARDS = DIRECTORY / "standards"
