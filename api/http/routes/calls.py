from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.config import Settings
from api.errors import BadInput, NotFound
from api.http.deps import CallId, CurrentUser, Router, SessionDep, SettingsDep, sync_queue
from api.http.routes.queue import QueueItem
from api.http.upload import Received, receive_upload
from api.services.appeals import file_appeal
from api.services.audit import call_events, event_dict
from api.services.calls import check_audio
from api.services.deletion import delete_call, remove_uploads
from api.services.history import review_state
from api.services.peaks import call_peaks
from api.services.queries import show_call
from api.services.reviews import (
    FindingDecision,
    NewFinding,
    acknowledge,
    queue_item,
    submit_review,
)
from api.services.scope import READERS, REVIEWERS, require_role, visible_call
from api.services.uploads import call_metadata, store_upload
from api.store.models import Call, Job, UserRole

router = Router(prefix="/api/calls", tags=["calls"])
Text = Annotated[str, Field(max_length=5000)]


class FindingDecisionIn(BaseModel):
    finding_id: int = Field(ge=1, le=2_147_483_647)
    verdict: Literal["confirm", "reject"]
    reason: Text = ""


class AddedFindingIn(BaseModel):
    category: Annotated[str, Field(min_length=1, max_length=50)]
    note: Text = ""
    rule_id: Annotated[str | None, Field(max_length=200)] = None
    start: Annotated[float | None, Field(ge=0, le=86_400)] = None
    end: Annotated[float | None, Field(ge=0, le=86_400)] = None


class ReviewIn(BaseModel):
    version: int = Field(ge=0, le=2_147_483_647, description="the `version` you read; a stale one is a 409")
    decision: Literal["pass", "fail"]
    comment: Text = ""
    findings: list[FindingDecisionIn] = Field(default_factory=list, max_length=1000)
    added: list[AddedFindingIn] = Field(default_factory=list, max_length=200)


class AppealIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=5000)]
    finding_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(default_factory=list, max_length=1000)


UPLOADERS = frozenset({UserRole.SUPERVISOR, UserRole.SENIOR_SUPERVISOR})


_UPLOAD_FORM = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        **{name: {"type": "string", "maxLength": 200} for name in ("agent_id", "agent_name", "branch", "call_time")},
        "direction": {"type": "string", "enum": ["inbound", "outbound"]},
    },
}


@router.post(
    "",
    status_code=202,
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _UPLOAD_FORM}}}},
)
async def upload_call(request: Request, settings: SettingsDep, user: CurrentUser) -> dict[str, Any]:
    """A recording (multipart field `file`, plus metadata fields agent_id, agent_name, branch, call_time,
    direction), streamed to disk with a size limit; processed like a batch's file. The same audio twice is one call."""
    require_role(user, UPLOADERS, "upload calls")
    received = await receive_upload(request, directory=settings.upload_dir, limit=settings.upload_max_bytes)
    assert received.path is not None
    call_id = await run_in_threadpool(_store, request, received, settings, user.name)
    # A broker round trip (or its retries when the broker is slow) must not hold up the event loop.
    await run_in_threadpool(request.app.state.processor.submit, call_id)
    return {"call_id": call_id, "status_url": f"/api/calls/{call_id}/status"}


def _store(request: Request, received: Received, settings: Settings, actor: str) -> int:
    assert received.path is not None
    try:
        metadata = call_metadata(received.fields)
    except BadInput:
        received.path.unlink(missing_ok=True)
        raise
    with request.app.state.sessions.begin() as session:
        return store_upload(
            session,
            received=received.path,
            original_name=received.filename,
            directory=settings.upload_dir,
            metadata=metadata,
            actor=actor,
        )


@router.get("/{call_id}/status")
def get_status(session: SessionDep, user: CurrentUser, call_id: CallId) -> dict[str, Any]:
    """Processing state of a call (pending, running, done, failed, quarantined)."""
    visible_call(session, user=user, call_id=call_id)
    job = session.scalars(select(Job).where(Job.call_id == call_id)).one()
    return {"call_id": call_id, "status": str(job.status), "attempts": job.attempts, "error": job.last_error}


@router.get("/{call_id}")
def get_call(request: Request, session: SessionDep, user: CurrentUser, call_id: CallId) -> dict[str, Any]:
    """Metadata, transcript segments, the machine's findings, score, review state and history, `version`."""
    visible_call(session, user=user, call_id=call_id)
    sync_queue(request, session)
    data = show_call(session, call_id=call_id, files=False).to_dict()
    data.pop("files")  # server paths are the operator's business, not the reviewer's
    review = review_state(session, call_id=call_id)
    return {**data, "review": review, "version": review["version"] if review else 0}


@router.get("/{call_id}/audio", response_class=FileResponse, responses={206: {"description": "a byte range"}})
def get_audio(session: SessionDep, user: CurrentUser, call_id: CallId) -> FileResponse:
    """The recording (HTTP Range supported), only while a stored path still holds audio with the call's hash."""
    visible_call(session, user=user, call_id=call_id)
    path, state = check_audio(session, call_id=call_id)
    if path is None:
        raise NotFound(f"call {call_id}: its audio is {state} (no stored file holds it any more)")
    return FileResponse(path, filename=f"call-{call_id}{_suffix(path)}")


@router.get("/{call_id}/peaks")
def get_peaks(response: Response, session: SessionDep, user: CurrentUser, call_id: CallId) -> dict[str, Any]:
    """The waveform for a player: `rate` peaks per second per channel, each channel base64 of one byte (0-255)
    per peak; computed from the audio on first request when processing did not store them."""
    visible_call(session, user=user, call_id=call_id)
    response.headers["Cache-Control"] = "private, max-age=86400"  # a call's audio never changes (its SHA-256)
    return call_peaks(session, call_id=call_id).to_dict()


def _suffix(path: str) -> str:
    dot = path.rfind(".")
    return path[dot:] if dot > path.rfind("/") and len(path) - dot <= 6 else ""


@router.post("/{call_id}/review", response_model=QueueItem)
def post_review(session: SessionDep, user: CurrentUser, call_id: CallId, body: ReviewIn) -> dict[str, Any]:
    """Confirm or reject each machine finding, add what it missed, decide pass/fail. Lease holder only."""
    require_role(user, REVIEWERS, "review calls")
    review = submit_review(
        session,
        user=user,
        call_id=call_id,
        version=body.version,
        decision=body.decision,
        comment=body.comment,
        findings=[FindingDecision(**f.model_dump()) for f in body.findings],
        added=[NewFinding(**a.model_dump()) for a in body.added],
    )
    return queue_item(review, session.get_one(Call, call_id))


@router.post("/{call_id}/acknowledge", response_model=QueueItem)
def post_acknowledge(session: SessionDep, user: CurrentUser, call_id: CallId) -> dict[str, Any]:
    require_role(user, frozenset({UserRole.AGENT}), "acknowledge reviews")
    review = acknowledge(session, user=user, call_id=call_id)
    return queue_item(review, session.get_one(Call, call_id))


@router.post("/{call_id}/appeal", status_code=201)
def post_appeal(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, call_id: CallId, body: AppealIn
) -> dict[str, Any]:
    """The call's agent contests its review (within CALLQA_APPEAL_DAYS of it)."""
    appeal = file_appeal(
        session,
        user=user,
        call_id=call_id,
        reason=body.reason,
        finding_ids=body.finding_ids,
        appeal_days=settings.appeal_days,
    )
    return {"id": appeal.id, "call_id": call_id, "state": appeal.state}


@router.get("/{call_id}/audit")
def get_audit(session: SessionDep, user: CurrentUser, call_id: CallId) -> list[dict[str, Any]]:
    require_role(user, READERS, "read the audit trail")
    visible_call(session, user=user, call_id=call_id)
    return [event_dict(event) for event in call_events(session, call_id=call_id)]


DELETERS = frozenset({UserRole.SENIOR_SUPERVISOR})


class DeleteIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000, description="why (retention, mistaken upload, …)")]


class DeletedOut(BaseModel):
    call_id: int
    deleted: bool
    removed_uploads: int


@router.post("/{call_id}/delete", response_model=DeletedOut)
def post_delete(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, call_id: CallId, body: DeleteIn
) -> dict[str, Any]:
    """Delete the call's stored data (a senior supervisor, within their branches); audited. An uploaded recording
    that callqa stored is removed too; a recording found on the recorder's disk never is."""
    require_role(user, DELETERS, "delete calls")
    visible_call(session, user=user, call_id=call_id)
    deleted = delete_call(session, call_id=call_id, actor=user.name, reason=body.reason, upload_dir=settings.upload_dir)
    session.commit()  # the rows are gone for good before their files are
    remove_uploads(deleted)
    return {"call_id": call_id, "deleted": True, "removed_uploads": len(deleted.uploads)}
