"""The lean lane: the QR login's status request (``GET {issuer}/api/qrcodes/{id}``, API.md §1
"Status" and its long poll) answered without FastAPI's routing, dependency solving and
response validation.

Every waiting browser asks it again after each wait, so it is the request a server answers
most; through the whole framework it cost five hello-world requests of CPU (issue 17). The
lane is an ASGI middleware, the innermost: the edge (``web/edge.py``: request observation,
framing headers, body sizes, CORS per pool) wraps it exactly as it wraps the routes. It
answers only the requests whose parameters it reads exactly as the route would (plain
``wait`` and ``last``, each at most once); any other request goes on to the route, which
answers or refuses it as always. The work is the route's own (``login_api.status_answer``),
its errors answer through ``web/errors.py``'s one mapping, and the body is the bytes FastAPI
makes of the route's answer.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from pydantic import TypeAdapter
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from minilogin.login.qrlogin import MAX_WAIT
from minilogin.web import errors
from minilogin.web.login_api import status_answer
from minilogin.wiring import Services

#: The route's path (``login_api.get_status``) as Starlette matches it: ``{name}`` is ``[^/]+``.
_STATUS = re.compile(r"^/pools/([^/]+)/api/qrcodes/([^/]+)$")
#: What the lane reads as the route would (a float ``0 ≤ wait ≤ MAX_WAIT``; a status name of at
#: most 32 characters); anything else, even what the route accepts, is left to the route.
_WAIT = re.compile(r"^[0-9]{1,2}(?:\.[0-9]{1,6})?$")
_LAST = re.compile(r"^[a-z_]{1,32}$")
#: How FastAPI serializes a route's ``dict[str, Any]`` answer.
_BODY = TypeAdapter(dict[str, Any])


def _parameters(query_string: bytes) -> tuple[float, str | None] | None:
    """``wait`` and ``last`` when the query holds nothing else, each once, in plain form."""
    wait, last = 0.0, None
    seen: set[str] = set()
    # Starlette's own reading of a query (``QueryParams``).
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in seen:
            return None
        seen.add(name)
        if name == "wait" and _WAIT.match(value) and float(value) <= MAX_WAIT:
            wait = float(value)
        elif name == "last" and _LAST.match(value):
            last = value
        else:
            return None
    return wait, last


class LoginLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = _STATUS.match(get_route_path(scope))
        parameters = None if path is None else _parameters(scope["query_string"])
        if path is None or parameters is None:
            await self.app(scope, receive, send)
            return
        pool, login_id = path.groups()
        wait, last = parameters
        request = Request(scope, receive)
        svc: Services = scope["app"].state.services
        authorization = request.headers.get("authorization")
        response: Response
        try:
            body = await status_answer(request, svc, pool, login_id, authorization, wait, last)
        except Exception as error:
            response = await errors.handle(request, error)
        else:
            response = Response(_BODY.dump_json(body), media_type="application/json")
        await response(scope, receive, send)
