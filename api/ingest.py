"""Finding calls: audio files with their CTI sidecars, and transcripts given as JSON Lines.

Hang-up CTI data is a `"hangup_by": "client"|"agent"` key on a transcript line or, failing that, a sidecar
`NAME.json` beside `NAME.mp3` (`{"hangup_by": ...}`), read automatically; `NAME.truth.json` and
`NAME.labels.json` are never taken for one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from transcribe import TranscribeError, Transcript
from transcribe.types import Role, TranscriptFormatError

AUDIO_SUFFIXES = (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".amr", ".opus", ".aac", ".wma")


class Call(NamedTuple):
    path: Path  # the audio the call came from
    outcome: Transcript | TranscribeError
    hangup_by: Role | None = None  # CTI metadata given with the transcript itself


def sidecar_path(audio: Path) -> Path:
    """`call.mp3` → `call.json` (never `call.labels.json` or `call.truth.json`)."""
    return audio.with_suffix(".json")


def read_cti(audio: Path) -> tuple[Role | None, str | None]:
    """(hang-up party from the CTI sidecar or None, a warning when a sidecar is there but unusable)."""
    path = sidecar_path(audio)
    if path == audio or not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{path}: unreadable CTI sidecar ({exc}); hang-up order inferred from the audio"
    if not isinstance(data, dict) or "hangup_by" not in data:
        return None, None  # some other JSON that happens to share the name: not CTI data
    party = data["hangup_by"]
    if party not in ("client", "agent"):
        return None, f'{path}: "hangup_by" must be "client" or "agent", not {party!r}; inferred from the audio'
    return party, None


def read_transcripts(path: Path) -> Iterator[Call]:
    """One call per line of a JSON Lines file; a bad line is one error naming `FILE:LINE` and the field."""
    try:
        handle = path.open("rb")  # bytes: a line that is not UTF-8 must not take the others with it
    except OSError as exc:
        yield Call(path, TranscribeError(f"{path}: cannot read ({exc.strerror})"))
        return
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                transcript, hangup_by = parse_transcript_line(raw)
            except ValueError as exc:
                yield Call(path, TranscribeError(f"{path}:{number}: {exc}"))
                continue
            yield Call(Path(transcript.source), transcript, hangup_by)


def parse_transcript_line(raw: bytes) -> tuple[Transcript, Role | None]:
    """A transcript as `callqa transcribe --json` writes it, plus an optional `"hangup_by"` (CTI metadata).
    Raises ValueError with a one-line reason (`field X: problem` when one field is wrong)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a transcript: a JSON object expected, got {type(data).__name__}")
    hangup_by = data.get("hangup_by")
    if hangup_by not in (None, "client", "agent"):
        raise ValueError(f'field hangup_by: must be "client" or "agent", not {hangup_by!r}')
    try:
        return Transcript.from_dict(data), hangup_by
    except TranscriptFormatError as exc:
        raise ValueError(str(exc) if exc.field else f"not a transcript: {exc}") from None
