"""The audit trail: every state change appends one event, hash-chained to the one before.

Each event's `hash` is the SHA-256 of the canonical JSON (sorted keys, no spaces) of its content, and that content
includes its own id and the previous event's hash. Editing an event changes its hash; inserting or deleting one
breaks the next event's link; `verify_chain` says which. (Someone able to rewrite the whole table from the edit
point on can recompute the chain: keep a copy of the latest hash elsewhere, e.g. `callqa audit verify` in cron
mailing its last line.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.store.models import AuditEvent, utcnow

GENESIS = "0" * 64
# Any constant: PostgreSQL's advisory lock serialises appends so the chain never forks (SQLite's BEGIN IMMEDIATE
# already holds the database's write lock).
_CHAIN_LOCK = 0x63616C6C


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    call_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    event = AuditEvent(
        id=(last.id + 1) if last else 1,
        at=utcnow(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        call_id=call_id,
        before=_plain(before),
        after=_plain(after),
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


def _plain(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # What the JSON column gives back on reading, so that the hash computed now is the one verified later.
    return None if value is None else json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _timestamp(at: datetime) -> str:
    # SQLite gives back naive UTC, PostgreSQL aware times in the session's zone: both hash as naive UTC.
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def event_content(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": _timestamp(event.at),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "call_id": event.call_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: AuditEvent) -> str:
    canonical = json.dumps(event_content(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    kind: str  # edited / inserted / deleted
    detail: str

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.kind} ({self.detail})"


def verify_chain(session: Session) -> tuple[int, list[ChainProblem]]:
    """(events checked, problems found), reading the trail in id order without holding it all."""
    problems: list[ChainProblem] = []
    seen: dict[str, int] = {GENESIS: 0}  # hash -> id, to tell an inserted event from a deleted one
    previous: tuple[int, str] = (0, GENESIS)
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)):
        count += 1
        if event_hash(event) != event.hash:
            problems.append(ChainProblem(event.id, "edited", "its content no longer matches its hash"))
        if event.prev_hash != previous[1]:
            problems.append(_broken_link(event, previous, seen))
        seen[event.hash] = event.id
        previous = (event.id, event.hash)
    return count, problems


def _broken_link(event: AuditEvent, previous: tuple[int, str], seen: dict[str, int]) -> ChainProblem:
    if event.prev_hash in seen:
        first = seen[event.prev_hash] + 1
        return ChainProblem(previous[0], "inserted", f"events {first}..{previous[0]} are not in the chain")
    if event.id != previous[0] + 1:
        return ChainProblem(event.id, "deleted", f"events {previous[0] + 1}..{event.id - 1} are missing")
    return ChainProblem(previous[0], "edited", f"its hash was rewritten: event {event.id} links to another")


def call_events(session: Session, *, call_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.call_id == call_id).order_by(AuditEvent.id)))


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {**event_content(event), "hash": event.hash}
