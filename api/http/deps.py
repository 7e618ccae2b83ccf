"""What routes depend on: a session on the store (one transaction per request), the settings, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.config import Settings
from api.errors import Unauthorized
from api.services.users import active_user, user_by_api_key
from api.store.models import User, utcnow

ALGORITHM = "HS256"
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    # One transaction per request: a route's changes and their audit events are committed together or not at all.
    with request.app.state.sessions.begin() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the transaction commits before the response leaves, so a client acting on it sees it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def issue_token(request: Request, user: User) -> str:
    settings: Settings = request.app.state.settings
    now = utcnow()
    claims: dict[str, Any] = {"sub": str(user.id), "iat": now, "exp": now + timedelta(minutes=settings.token_minutes)}
    return jwt.encode(claims, request.app.state.secret, algorithm=ALGORITHM)


def get_current_user(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> User:
    if api_key:
        return user_by_api_key(session, key=api_key)
    if not token:
        raise Unauthorized("log in (POST /api/auth/token) or send an X-API-Key header")
    try:
        claims = jwt.decode(
            token, request.app.state.secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
        user_id = int(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired: log in again") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("the token is not valid") from None
    return active_user(session, user_id=user_id)


CurrentUser = Annotated[User, Depends(get_current_user)]

# Ids within a 32-bit integer column: a larger one is a 422, never a database overflow (500).
CallId = Annotated[int, Path(ge=1, le=2_147_483_647)]
