"""Users and API keys: passwords hashed with argon2 (pwdlib), API keys stored as SHA-256 with a visible prefix."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import BadInput, Conflict, NotFound, Unauthorized
from api.services.audit import append_event
from api.store.models import ApiKey, User, UserRole

_HASHER = PasswordHash.recommended()
# Verifying against this when the user does not exist takes as long as a real check: names cannot be probed by time.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
KEY_PREFIX = "cqa_"
MIN_PASSWORD_CHARS = 8


def user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": str(user.role),
        "agent_id": user.agent_id,
        "branches": list(user.branches or []),
        "disabled": user.disabled,
    }


def add_user(
    session: Session,
    *,
    name: str,
    role: UserRole,
    password: str | None,
    agent_id: str | None = None,
    branches: list[str] | None = None,
    actor: str = "cli",
) -> User:
    """A new user; `password` None means API keys only (no password login). Audited as user.add by `actor`.
    `BadInput` for a bad name, a short password or an agent without an agent id; `Conflict` for a taken name."""
    name = name.strip()
    if not name or len(name) > 200:
        raise BadInput("a user name is 1 to 200 characters")
    if role == UserRole.AGENT and not agent_id:
        raise BadInput("an agent needs --agent-id: it is how their calls are found")
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        raise BadInput(f"the password is shorter than {MIN_PASSWORD_CHARS} characters")
    user = User(
        name=name,
        role=role,
        agent_id=agent_id,
        branches=sorted(set(branches or [])),
        password_hash=_HASHER.hash(password) if password is not None else None,
        disabled=False,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"a user named {name!r} exists already") from None
    append_event(session, actor=actor, action="user.add", object_type="user", object_id=user.id, after=user_dict(user))
    return user


def list_users(session: Session) -> list[User]:
    """Every user, disabled ones too (they stay for the audit trail), by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def get_user(session: Session, *, user_id: int) -> User:
    """One user by id; `NotFound` when there is none."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id}: no such user")
    return user


def disable_user(session: Session, *, name: str, actor: str = "cli") -> User:
    """Disable a user by login name (the CLI's way): see `set_disabled`."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"{name}: no such user")
    return set_disabled(session, user_id=user.id, disabled=True, actor=actor)


def set_disabled(session: Session, *, user_id: int, disabled: bool, actor: str) -> User:
    """Disable a user (their tokens and API keys stop working at the next request; the row stays for the audit
    trail) or enable them again. The last active admin cannot be disabled: nobody could manage users any more.
    Audited as user.disable / user.enable with the user before and after."""
    user = get_user(session, user_id=user_id)
    if disabled and user.role == UserRole.ADMIN and not user.disabled:
        _keep_an_admin(session, user)
    return _change(session, user, "user.disable" if disabled else "user.enable", actor, disabled=disabled)


def change_role(
    session: Session,
    *,
    user_id: int,
    role: UserRole,
    actor: str,
    agent_id: str | None = None,
    branches: list[str] | None = None,
) -> User:
    """Give a user another role; `agent_id` and `branches` replace the old ones when given (an agent needs an
    agent id, as in `add_user`). The last active admin keeps the admin role. Audited as user.role."""
    user = get_user(session, user_id=user_id)
    agent_id = agent_id if agent_id is not None else user.agent_id
    if role == UserRole.AGENT and not agent_id:
        raise BadInput("an agent needs an agent_id: it is how their calls are found")
    if user.role == UserRole.ADMIN and role != UserRole.ADMIN and not user.disabled:
        _keep_an_admin(session, user)
    values: dict[str, Any] = {"role": role, "agent_id": agent_id}
    if branches is not None:
        values["branches"] = sorted(set(branches))
    return _change(session, user, "user.role", actor, **values)


def _keep_an_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(User.id).where(User.role == UserRole.ADMIN, User.disabled.is_(False), User.id != user.id).limit(1)
    )
    if others is None:
        raise Conflict(f"{user.name} is the last active admin: add another admin first")


def _change(session: Session, user: User, action: str, actor: str, **values: Any) -> User:
    before = user_dict(user)
    for key, value in values.items():
        setattr(user, key, value)
    session.flush()
    append_event(
        session, actor=actor, action=action, object_type="user", object_id=user.id, before=before, after=user_dict(user)
    )
    return user


def authenticate(session: Session, *, name: str, password: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    valid = _HASHER.verify(password, stored)
    if user is None or not user.password_hash or not valid or user.disabled:
        raise Unauthorized("wrong user name or password, or the user is disabled")
    return user


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once, never stored
    prefix: str


def create_api_key(session: Session, *, user_name: str, label: str = "", actor: str = "cli") -> NewKey:
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        raise NotFound(f"{user_name}: no such user")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    prefix = key[: len(KEY_PREFIX) + 8]
    row = ApiKey(user_id=user.id, prefix=prefix, key_hash=_key_hash(key), label=label)
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="apikey.create",
        object_type="api_key",
        object_id=row.id,
        after={"user": user.name, "prefix": prefix, "label": label},
    )
    return NewKey(key, prefix)


def user_by_api_key(session: Session, *, key: str) -> User:
    """The active user a key belongs to (one indexed query: it runs on every machine request)."""
    user = session.scalar(
        select(User)
        .join(ApiKey, ApiKey.user_id == User.id)
        .where(ApiKey.key_hash == _key_hash(key), ApiKey.revoked.is_(False))
    )
    if user is None or user.disabled:
        raise Unauthorized("unknown or revoked API key, or its user is disabled")
    return user


def active_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.disabled:
        raise Unauthorized("the token's user no longer exists or is disabled")
    return user


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
