"""What a stored result was made with: equal versions mean the stored result is still the current one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from scoring import PhrasebookError
from transcribe import TranscribeOptions

CASES_SUFFIX = ".cases.yaml"  # example dialogues for the rules' tests: they change no score


@dataclass(frozen=True)
class Versions:
    transcription: str  # model + the options that change a transcript's text
    phrasebook: str  # the content of the phrasebooks (rules and scorecard thresholds)


def transcription_version(options: TranscribeOptions) -> str:
    identity = json.dumps(options.text_identity(), sort_keys=True, ensure_ascii=True)
    return "t-" + hashlib.sha256(identity.encode("ascii")).hexdigest()[:16]


def phrasebook_version(directory: Path) -> str:
    """SHA-256 over the phrasebook files `load_phrasebooks` reads, by name in sorted order: editing, adding or
    removing one changes it; touching a file without changing it does not."""
    digest = hashlib.sha256()
    try:
        for path in sorted(p for p in directory.glob("*.yaml") if not p.name.endswith(CASES_SUFFIX)):
            digest.update(path.name.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    except OSError as exc:
        raise PhrasebookError(f"{directory}: cannot read the phrasebooks ({exc.strerror or exc})") from None
    return "p-" + digest.hexdigest()[:16]


def current_versions(options: TranscribeOptions, phrasebooks_dir: Path) -> Versions:
    return Versions(transcription_version(options), phrasebook_version(phrasebooks_dir))
