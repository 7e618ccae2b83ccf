"""Storing an uploaded recording: named by its SHA-256 (the server chooses every name), registered as a call like
any file a batch finds, so the same audio uploaded twice is one call."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.errors import BadInput
from api.ingest import AUDIO_SUFFIXES, CallMetadata
from api.services.audit import append_event
from api.services.calls import audio_digest, register_file


def call_metadata(fields: dict[str, str]) -> CallMetadata:
    try:
        return CallMetadata(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BadInput(f"metadata: {problems}") from None


def store_upload(
    session: Session, *, received: Path, original_name: str, directory: Path, metadata: CallMetadata, actor: str
) -> int:
    """Move the received file to DIRECTORY/<sha256><suffix> and register it; returns the call id."""
    suffix = Path(original_name).suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        received.unlink(missing_ok=True)
        raise BadInput(f"{original_name!r}: not an audio file name (use one of {', '.join(AUDIO_SUFFIXES)})")
    sha256, size = audio_digest(received)
    target = directory / f"{sha256}{suffix}"
    if target.exists():
        received.unlink()  # the same audio again: one file, one call
    else:
        os.replace(received, target)
    call_id = register_file(session, path=str(target), sha256=sha256, size=size, metadata=metadata, cti=None)
    append_event(
        session,
        actor=actor,
        action="call.upload",
        object_type="call",
        object_id=call_id,
        call_id=call_id,
        after={
            "sha256": sha256,
            "size": size,
            "name": original_name[:200],
            **metadata.model_dump(mode="json", exclude_none=True),
        },
    )
    return call_id
