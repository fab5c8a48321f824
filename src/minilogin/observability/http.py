"""An ASGI middleware that sees every HTTP request: one ``minilogin.request`` log line each
(method, path without its query, status, duration) and the count of 5xx answers.

The query is left out on purpose: it carries the event stream's ``secret`` and the codes and
tokens of OAuth redirects. An exception that escapes the app counts as the 500 that
Starlette's outermost error middleware will answer; a request whose client left before any
answer began is logged with nginx's 499 (client closed request).
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minilogin.observability import metrics

log = logging.getLogger("minilogin.request")
CLIENT_CLOSED = 499


class ObserveRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = CLIENT_CLOSED

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        except Exception:
            status = 500
            raise
        finally:
            if status >= 500:
                metrics.server_error(status)
            duration = round((time.perf_counter() - started) * 1000, 1)
            method, path = scope["method"], scope["path"]
            log.info(
                "%s %s %d %.1fms",
                method,
                path,
                status,
                duration,
                extra={
                    "event": "request",
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": duration,
                },
            )
