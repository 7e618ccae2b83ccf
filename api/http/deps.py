"""What routes depend on: a session on the store (one transaction per request), the settings, the caller."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.errors import Unauthorized
from api.services.reviews import sync_reviews
from api.services.users import active_user, user_by_api_key
from api.store.models import ScorecardRow, User, utcnow

ALGORITHM = "HS256"
# The web pages keep the API's token in this HttpOnly cookie (see api/web).
SESSION_COOKIE = "callqa_session"
# The cookie authenticates reads only: a state-changing API call still needs the bearer token or an API key, so a
# cross-site form cannot act through the cookie (the pages' own forms check a CSRF token instead).
COOKIE_METHODS = frozenset({"GET", "HEAD"})
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: a route's changes and their audit events are committed together or not at all
    (`Router` commits at the end of the route itself; this rolls back on an error)."""
    session: Session = request.app.state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class Router(APIRouter):
    """Commits each route's transaction in the worker thread that ran the route. Committed any later (in a
    dependency's exit, after response validation), a request holding SQLite's write lock or a pooled connection
    waits for a free worker thread while every worker thread waits for that lock or connection: 50 concurrent
    claimers stalled until the 30 s timeouts."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, _commits(endpoint), **kwargs)


def _commits(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        return endpoint  # an async route hands its database work to a thread of its own, which commits it

    @functools.wraps(endpoint)  # FastAPI reads the parameters through __wrapped__
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        session = kwargs.get("session")
        if isinstance(session, Session):
            session.commit()
        return result

    return run


async def get_settings(request: Request) -> Settings:
    # async: no I/O, so FastAPI runs it inline instead of in a worker thread (each hop costs a claim ~0.3 ms)
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
    token: Annotated[str | None, Depends(oauth2)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> User:
    # A short read of its own, in the same worker-thread dispatch: the route's transaction starts only in the route.
    if not token and not api_key and request.method in COOKIE_METHODS:
        token = request.cookies.get(SESSION_COOKIE)
    with request.app.state.read_sessions() as session:
        return user_from_credentials(request, session, token, api_key)


def user_from_credentials(request: Request, session: Session, token: str | None, api_key: str | None) -> User:
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


class ReviewSync:
    """Runs `sync_reviews` only when a scorecard was added since the last run (one indexed MAX), and in full at
    least every `FULL_EVERY_S`: the full anti-join over every call cost ~25 ms at 10,000 calls on every request.
    The periodic run catches a scorecard whose transaction committed after a newer one's."""

    FULL_EVERY_S = 60.0

    def __init__(self, sample_rate: float) -> None:
        self.sample_rate = sample_rate
        self.newest_seen: int | None = None
        self.full_at = 0.0

    def __call__(self, session: Session) -> None:
        newest = session.scalar(select(func.max(ScorecardRow.id)))
        now = time.monotonic()
        if newest == self.newest_seen and now - self.full_at < self.FULL_EVERY_S:
            return
        sync_reviews(session, sample_rate=self.sample_rate)
        self.newest_seen, self.full_at = newest, now


def sync_queue(request: Request, session: Session) -> None:
    """Give newly scored calls their review rows, in the route's own transaction."""
    request.app.state.review_sync(session)
