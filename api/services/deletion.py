"""Deleting a call's stored data (retention, a mistaken upload): its files' records, transcripts, scorecards,
findings, job, review, decisions and appeals go in one transaction (the foreign keys cascade from `calls`).

The audit trail keeps its events (they have no foreign key to the call) and gains a `call.delete` event with what
was deleted, so the hash chain stays whole and verifiable. Recordings stay where the recorder put them: only a file
that callqa itself stored (an upload, in the upload directory) is removed, by the caller, after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.errors import BadInput, NotFound
from api.services.audit import append_event
from api.store.models import Appeal, Call, CallFile, Review, ReviewDecision


@dataclass(frozen=True)
class DeletedCall:
    call_id: int
    sha256: str
    uploads: tuple[Path, ...]  # files callqa stored itself: remove them once the transaction is committed


def delete_call(session: Session, *, call_id: int, actor: str, reason: str, upload_dir: Path) -> DeletedCall:
    """Delete one call's rows and audit it (`call.delete`, before = what it was, after = the reason)."""
    if not reason.strip():
        raise BadInput("say why the call is deleted (retention period, mistaken upload, …)")
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"call {call_id}: no such call")
    paths = list(session.scalars(select(CallFile.path).where(CallFile.call_id == call_id).order_by(CallFile.id)))
    review = session.scalar(select(Review).where(Review.call_id == call_id))
    decisions = 0
    if review is not None:
        decisions = session.scalar(select(func.count()).where(ReviewDecision.review_id == review.id)) or 0
    before = {
        "sha256": call.sha256,
        "size": call.size,
        "agent_id": call.agent_id,
        "branch": call.branch,
        "call_time": call.call_time,
        "paths": paths,
        "review_state": str(review.state) if review is not None else None,
        "decisions": decisions,
        "appeals": session.scalar(select(func.count()).where(Appeal.call_id == call_id)) or 0,
    }
    sha256 = call.sha256
    session.expunge(call)
    session.execute(delete(Call).where(Call.id == call_id))  # ON DELETE CASCADE does the rest, on both databases
    append_event(
        session,
        actor=actor,
        action="call.delete",
        object_type="call",
        object_id=call_id,
        call_id=call_id,
        before=before,
        after={"reason": reason.strip()},
    )
    own = upload_dir.resolve()
    uploads = tuple(Path(p) for p in paths if Path(p).resolve().parent == own)
    return DeletedCall(call_id, sha256, uploads)


def remove_uploads(deleted: DeletedCall) -> None:
    """After the commit: the uploaded recordings callqa stored for the deleted call."""
    for path in deleted.uploads:
        path.unlink(missing_ok=True)
