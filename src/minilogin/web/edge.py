"""The edge: what every HTTP request to the service crosses before its route, in one ASGI
middleware, the outermost of the app's own.

In order, the request is observed (``observability/http.py``: its log line and 5xx count,
with the path as it came in), its pool's subdomain becomes its pool's path when
``MINILOGIN_POOL_DOMAIN`` is set (``web/pool_domain.py``), its body is held to its limit
(``web/limits.py``: a 413 carries no CORS headers), and its origin is checked for its pool
(``web/cors.py``: a preflight is answered here). Every answer, the edge's own too, is made
unframeable (``web/framing.py``) and carries the CORS headers its origin was allowed.

These were five middlewares, each a call deeper and wrapping the answer's ``send`` again: one
pass wraps it once (issue 17). The order above is the one they had.
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minilogin.observability.http import CLIENT_CLOSED, observed
from minilogin.web.cors import cross_origin
from minilogin.web.framing import deny_framing
from minilogin.web.limits import held_body
from minilogin.web.pool_domain import on_pool_domain


class EdgeMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body: int, max_logo: int, pool_domain: str | None
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_logo = max_logo
        self.pool_domain = pool_domain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = CLIENT_CLOSED
        allow_origin: str | None = None

        async def send_at_edge(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if allow_origin is not None:
                    headers["Access-Control-Allow-Origin"] = allow_origin
                    headers.add_vary_header("Origin")
                deny_framing(headers)
            await send(message)

        routed = scope
        try:
            if self.pool_domain:
                routed = on_pool_domain(scope, self.pool_domain)
            body = await held_body(routed, receive, max_body=self.max_body, max_logo=self.max_logo)
            if body is None:
                return
            if isinstance(body, Response):
                await body(routed, receive, send_at_edge)
                return
            cors = await cross_origin(routed)
            if isinstance(cors, Response):
                await cors(routed, body, send_at_edge)
                return
            allow_origin = cors
            await self.app(routed, body, send_at_edge)
        except Exception:
            status = 500
            raise
        finally:
            observed(scope, status, started)
