from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.http.deps import CurrentUser, Router, SessionDep, issue_token
from api.http.routes.users import UserOut
from api.services.users import authenticate, user_dict

router = Router(prefix="/api", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/auth/token", response_model=Token)
def login(request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: user name and password → a bearer token (JWT) with an expiry."""
    user = authenticate(session, name=form.username, password=form.password)
    return Token(access_token=issue_token(request, user))


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> dict[str, Any]:
    return user_dict(user)
