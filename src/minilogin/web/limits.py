"""Rate limits and body sizes, at the edge.

The counting is ``login/limits.py``'s, on the settings' attempts and windows
(``config.RATE_LIMIT_DEFAULTS``, ``MINILOGIN_RATE_LIMITS``, ``MINILOGIN_RATE_LIMIT_SCALE``).
Loopback is counted like any other address: a local proxy that forwards everyone must be
named in ``MINILOGIN_TRUSTED_PROXIES`` instead.

Going over answers 429 with ``Retry-After`` (the end of the window) through ``web/errors.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from minilogin.core.errors import TooLarge
from minilogin.web.deps import client_ip
from minilogin.web.errors import error_response
from minilogin.wiring import Services

__all__ = ["check", "held_body", "per_ip", "refuse_guesser", "wrong_guess"]


async def check(svc: Services, rule: str, subject: str) -> None:
    """Count one attempt of ``subject`` under ``rule`` (``login/limits.py``)."""
    await svc.limits.check(rule, subject)


def per_ip(rule: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency counting each request under ``{rule}.ip``."""

    async def dependency(request: Request) -> None:
        await check(request.app.state.services, f"{rule}.ip", client_ip(request))

    return dependency


async def refuse_guesser(request: Request) -> None:
    """A route dependency: an IP that got ``guess.ip`` wrong secrets or codes lately is
    refused before it may try another (the failures are counted by ``wrong_guess``)."""
    svc: Services = request.app.state.services
    await svc.limits.check_failures("guess.ip", client_ip(request))


async def wrong_guess(request: Request) -> None:
    svc: Services = request.app.state.services
    await svc.limits.count_failure("guess.ip", client_ip(request))


async def held_body(
    scope: Scope, receive: Receive, *, max_body: int, max_logo: int
) -> Receive | Response | None:
    """A body larger than ``max_body`` bytes (``max_logo`` for a logo upload), whether its
    ``Content-Length`` says so up front or it streams in chunks, is answered 413 here: the
    answer is returned. Else what the app reads the body from: ``receive`` itself, or, for a
    chunked body, the body read here before the app may see any of it (an error raised while
    FastAPI reads a body would become its generic 400). None when the client left meanwhile.
    """
    path: str = scope["path"]
    limit = max_logo if path.endswith("/logo") else max_body
    declared = dict(scope["headers"]).get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        return error_response(Request(scope), TooLarge("payload_too_large"))
    if declared or not _has_body(scope):
        # The server holds a body to its declared length (h11, httptools).
        return receive
    chunks: list[bytes] = []
    received = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        received += len(chunks[-1])
        more = message.get("more_body", False)
        if received > limit:
            return error_response(Request(scope), TooLarge("payload_too_large"))
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _has_body(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])
