"""Every error leaves as `{"error": CODE, "detail": TEXT}` with its status: our domain errors, FastAPI's request
validation and Starlette's own HTTP errors (404 route, 405 method) alike."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from api.errors import BadInput, CallqaError, ConfigError, Conflict, Forbidden, NotFound, TooLarge, Unauthorized

STATUS: dict[type[CallqaError], tuple[int, str]] = {
    TooLarge: (413, "too_large"),
    BadInput: (422, "bad_input"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    Forbidden: (403, "forbidden"),
    Unauthorized: (401, "unauthorized"),
    ConfigError: (503, "unavailable"),
}


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def callqa_error_response(request: Request, exc: Exception) -> JSONResponse:
    status, code = next((STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS), (400, "error"))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, code, str(exc), headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()[:5]
    )
    return error_response(422, "bad_input", problems[:1000])


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(exc.status_code, "error")
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed(request)}
    return error_response(exc.status_code, code, str(exc.detail), headers)


def _allowed(request: Request) -> str:
    # Starlette names only the first route on the path (GET /api/users hides POST /api/users): name them all.
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    app.add_exception_handler(CallqaError, callqa_error_response)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
