"""The one place where errors become HTTP answers.

Every error a client can cause answers 4xx with ``{"error": code, "message": text}`` in the
client's language (OAuth endpoints answer RFC 6749 §5.2 bodies instead, see ``oidc_api``).
WeChat failures are 4xx too: the client may retry, and nothing is left half-done. A store
that is unreachable or overloaded (``storage/errors.py``) answers 503 ``temporarily_unavailable``
with ``Retry-After``: not the client's doing, and nothing was changed either.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from minilogin.core.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidFields,
    InvalidRequest,
    MiniloginError,
    NotFound,
    OAuthError,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
    UpstreamError,
)
from minilogin.core.messages import Locale, message, negotiate
from minilogin.observability import metrics
from minilogin.storage.errors import UNAVAILABLE, is_unavailable

log = logging.getLogger("minilogin")


class ErrorBody(BaseModel):
    """The contract's error body (API.md, "Errors")."""

    error: str
    message: str


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2's error body."""

    error: str
    error_description: str | None = None


_MEANINGS = {
    400: "The request is malformed or breaks a rule",
    401: "A credential is missing or wrong",
    403: "Not allowed",
    404: "Not found, or not the caller's to know",
    409: "In a state that does not allow this",
    410: "Expired",
    413: "The body is larger than the endpoint accepts",
    424: "WeChat failed; nothing changed, retry",
    429: "Too many attempts; Retry-After says when to come back",
    503: "A store is unavailable; Retry-After says when to retry",
}


def error_responses(*statuses: int, oauth: bool = False) -> dict[int | str, dict[str, Any]]:
    """The error answers of a router, for its OpenAPI document."""
    model = OAuthErrorBody if oauth else ErrorBody
    return {status: {"model": model, "description": _MEANINGS[status]} for status in statuses}


STATUS: dict[type[MiniloginError], int] = {
    InvalidRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    RateLimited: 429,
    Unavailable: 503,
    TooLarge: 413,
}

#: WeChat errors the person can fix by trying again with a new code, or that are about them.
UPSTREAM_STATUS: dict[str, int] = {
    "wechat_invalid_code": 400,
    "wechat_code_used": 400,
    "wechat_high_risk": 403,
    "wechat_rate_limited": 429,
    "wechat_phone_quota": 429,
}
#: Anything else from WeChat (busy, timeout, misconfigured AppSecret): 424 Failed Dependency,
#: a 4xx that says "this failed because of a service we depend on; nothing changed, retry".
UPSTREAM_DEFAULT = 424


def status_of(error: MiniloginError) -> int:
    if isinstance(error, OAuthError):
        return error.status
    if isinstance(error, UpstreamError):
        return UPSTREAM_STATUS.get(error.code, UPSTREAM_DEFAULT)
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def _text(error: MiniloginError, locale: Locale) -> str:
    text = message(error.code, locale)
    if error.detail and isinstance(error, InvalidRequest):
        text = f"{text} ({error.detail})"
    return text


def error_response(request: Request, error: MiniloginError) -> JSONResponse:
    """The error body; a form with several broken fields also lists each one in ``errors``
    (the first is the body's own ``error``), so the console can mark them all at once."""
    locale = negotiate(request.headers.get("accept-language"))
    body: dict[str, object] = {"error": error.code, "message": _text(error, locale)}
    if isinstance(error, InvalidFields):
        body["errors"] = [
            {"error": problem.code, "message": _text(problem, locale)} for problem in error.problems
        ]
    status = status_of(error)
    if status == 429:
        metrics.rate_limited(error.code)
    headers = None
    if status in (424, 429):
        # A rate limit knows when its window ends (web/limits.py); else "retry soon".
        wait = error.params.get("retry_after")
        headers = {"Retry-After": str(math.ceil(wait) if isinstance(wait, float) else 1)}
    if isinstance(error, Unavailable):
        headers = {"Retry-After": str(error.retry_after)}
    if isinstance(error, RateLimited) and "/oidc/" in request.url.path:
        # The OAuth endpoints' clients read RFC 6749 §5.2's field.
        body["error_description"] = body["message"]
    return JSONResponse(body, status, headers=headers)


def unavailable_response(request: Request, error: BaseException) -> JSONResponse:
    """503 ``temporarily_unavailable`` with ``Retry-After``: a store can't be reached now."""
    log.warning("a store is unavailable (%s: %s); answered 503", type(error).__name__, error)
    response = error_response(request, MiniloginError("temporarily_unavailable"))
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response


async def _on_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MiniloginError)
    return error_response(request, exc)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return error_response(request, InvalidRequest("invalid_json"))
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    detail = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    return error_response(request, InvalidRequest("invalid_request", detail))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
    response = error_response(request, InvalidRequest(code))
    response.status_code = exc.status_code
    return response


async def _on_unavailable(request: Request, exc: Exception) -> Response:
    if not is_unavailable(exc):
        # Any other database error is a fault of ours: the server's error handling.
        raise exc
    return unavailable_response(request, exc)


Handler = Callable[[Request, Exception], Awaitable[Response]]
#: Which errors answer how: installed in the app (``install``) and used as they are by the
#: routes answered outside FastAPI's routing (``web/lane.py``).
HANDLERS: dict[type[Exception], Handler] = {
    MiniloginError: _on_error,
    **dict.fromkeys((*UNAVAILABLE, sqlalchemy.exc.DBAPIError), _on_unavailable),
    RequestValidationError: _on_validation,
    StarletteHTTPException: _on_http,
}


async def handle(request: Request, exc: Exception) -> Response:
    """The answer to ``exc`` as the app's exception handling gives it: the handler of the
    nearest class in its MRO, as Starlette looks it up; ``exc`` itself again when none
    handles it (the server's 500)."""
    for kind in type(exc).__mro__:
        handler = HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, exc)
    raise exc


def install(app: FastAPI) -> None:
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)
