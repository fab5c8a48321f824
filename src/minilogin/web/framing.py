"""No page of the service may be framed by another site (clickjacking): every response
without a framing policy of its own gets ``X-Frame-Options: DENY`` and, unless it has a
Content-Security-Policy already, ``frame-ancestors 'none'`` (CSP Level 2 §7.7). JSON answers
carry them too: harmless, and no page slips through for having an unusual type."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class DenyFramingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                deny_framing(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_policy)


def deny_framing(headers: MutableHeaders) -> None:
    """The policy, on an answer's headers unless it has its own (``web/edge.py`` sets it on
    the service's answers; the middleware above on the sandbox's)."""
    if "x-frame-options" not in headers:
        headers["X-Frame-Options"] = "DENY"
    if "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = "frame-ancestors 'none'"
