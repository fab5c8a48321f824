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
#: Neither holds ``%`` or ``+``, so the query's raw bytes are what Starlette would decode.
_WAIT = re.compile(rb"[0-9]{1,2}(?:\.[0-9]{1,6})?")
_LAST = re.compile(rb"[a-z_]{1,32}")
#: How FastAPI serializes a route's ``dict[str, Any]`` answer.
_BODY = TypeAdapter(dict[str, Any])


def _parameters(query_string: bytes) -> tuple[float, str | None] | None:
    """``wait`` and ``last`` when the query holds nothing else, each once, in plain form.

    Read from the raw bytes, split at ``&`` and the first ``=`` as Starlette's reading of a
    query (``parse_qsl``) splits them: a re-poll's query is the lane's most frequent input,
    and decoding it the general way cost two and a half times as much (6.7 against 2.7 µs).
    A name or value in any other form (escaped, empty, without ``=``) is left to the route."""
    wait, last = 0.0, None
    if not query_string:
        return wait, last
    seen: set[bytes] = set()
    for pair in query_string.split(b"&"):
        name, equals, value = pair.partition(b"=")
        if not equals or name in seen:
            return None
        seen.add(name)
        if name == b"wait" and _WAIT.fullmatch(value) and float(value) <= MAX_WAIT:
            wait = float(value)
        elif name == b"last" and _LAST.fullmatch(value):
            last = value.decode()
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
