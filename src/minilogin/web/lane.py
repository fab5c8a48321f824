"""The lean lane: the requests of a login answered without FastAPI's routing, dependency
solving and validation of the answer. They are the browser's creation (``POST
{issuer}/api/qrcodes``), code image and status (``GET {issuer}/api/qrcodes/{id}``, API.md §1
"Status" and its long poll), the mini program's scan and confirm (API.md §3) and the token
endpoint (API.md §2).

Every login makes each of them once, and every waiting browser asks the status again after
each wait; through the whole framework the status alone cost five hello-world requests of CPU,
the others about a tenth of a millisecond each beside their own work (issue 17). The lane is
an ASGI middleware, the innermost: the edge (``web/edge.py``: request observation, framing
headers, body sizes, CORS per pool) wraps it exactly as it wraps the routes. It answers only
the requests it reads exactly as the route would: for the status, plain ``wait`` and ``last``,
each at most once; for a JSON body, ``application/json`` that FastAPI would read into the
route's own model without an error. Any other request goes on to the route, with the body the
lane read handed to it again, and the route answers or refuses it as always. The work is the
route's own (``login_api.status_answer`` and its siblings), after the route's own rate-limit
dependencies in their order; errors answer through ``web/errors.py``'s one mapping, and a
body is the bytes FastAPI makes of the route's answer.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minilogin.login.qrlogin import MAX_WAIT
from minilogin.web import errors, limits, login_api, miniprogram_api, oidc_api
from minilogin.wiring import Services

#: The routes' paths as Starlette matches them: ``{name}`` is ``[^/]+``.
_CREATE = re.compile(r"^/pools/([^/]+)/api/qrcodes$")
_STATUS = re.compile(r"^/pools/([^/]+)/api/qrcodes/([^/]+)$")
_IMAGE = re.compile(r"^/pools/([^/]+)/api/qrcodes/([^/]+)/image\.png$")
_SCAN = re.compile(r"^/api/miniprogram/scan$")
_CONFIRM = re.compile(r"^/api/miniprogram/confirm$")
_TOKEN = re.compile(r"^/pools/([^/]+)/oidc/token$")
#: What the lane reads as the route would (a float ``0 ≤ wait ≤ MAX_WAIT``; a status name of at
#: most 32 characters); anything else, even what the route accepts, is left to the route.
#: Neither holds ``%`` or ``+``, so the query's raw bytes are what Starlette would decode.
_WAIT = re.compile(rb"[0-9]{1,2}(?:\.[0-9]{1,6})?")
_LAST = re.compile(rb"[a-z_]{1,32}")
#: How FastAPI serializes the routes' answers, by their return annotations.
_BODY = TypeAdapter(dict[str, Any])
_STRINGS = TypeAdapter(dict[str, str])

Model = TypeVar("Model", bound=BaseModel)
#: A lane's answer to a request its path matched (the path's groups, and the body when the
#: lane reads one), or None to leave the request to the route.
Answer = Callable[[Request, Services, tuple[str, ...], bytes | None], Awaitable[Response | None]]


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


def _json(request: Request, body: bytes | None, model: type[Model]) -> Model | None:
    """The body read into the route's model as FastAPI reads it (``fastapi/routing.py``: JSON
    when the type is ``application/json``, validated in Python mode), or None for whatever it
    would refuse or read otherwise: the route answers that itself."""
    content_type = request.headers.get("content-type")
    if not body or content_type is None:
        return None
    # ``email.message``'s reading of the type, which FastAPI uses: what precedes any ``;``.
    if content_type.partition(";")[0].strip().lower() != "application/json":
        return None
    try:
        return model.model_validate(json.loads(body), from_attributes=True)
    except Exception:
        # Malformed JSON, a wrong field, a body nested too deep: the route's own answer.
        return None


def _json_answer(body: Any, adapter: TypeAdapter[Any], status: int = 200) -> Response:
    return Response(adapter.dump_json(body), status, media_type="application/json")


async def _create(
    request: Request, svc: Services, path: tuple[str, ...], body: bytes | None
) -> Response | None:
    read = _json(request, body, login_api.CreateBody)
    if read is None:
        return None
    await login_api.count_creation(request)
    answer = await login_api.creation_answer(request, svc, path[0], read)
    return _json_answer(answer, _BODY, 201)


async def _status(
    request: Request, svc: Services, path: tuple[str, ...], body: bytes | None
) -> Response | None:
    parameters = _parameters(request.scope["query_string"])
    if parameters is None:
        return None
    pool, login_id = path
    wait, last = parameters
    authorization = request.headers.get("authorization")
    answer = await login_api.status_answer(request, svc, pool, login_id, authorization, wait, last)
    return _json_answer(answer, _BODY)


async def _image(
    request: Request, svc: Services, path: tuple[str, ...], body: bytes | None
) -> Response | None:
    return await login_api.image_answer(svc, *path)


async def _scan(
    request: Request, svc: Services, path: tuple[str, ...], body: bytes | None
) -> Response | None:
    read = _json(request, body, miniprogram_api.ScanBody)
    if read is None:
        return None
    await miniprogram_api.count_scan(request)
    return _json_answer(await miniprogram_api.scan_answer(request, svc, read), _BODY)


async def _confirm(
    request: Request, svc: Services, path: tuple[str, ...], body: bytes | None
) -> Response | None:
    read = _json(request, body, miniprogram_api.ConfirmBody)
    if read is None:
        return None
    await miniprogram_api.count_confirm(request)
    return _json_answer(await miniprogram_api.confirm_answer(request, svc, read), _STRINGS)


async def _token(
    request: Request, svc: Services, path: tuple[str, ...], body: bytes | None
) -> Response | None:
    # The route's dependencies, in their order; the form is the route's own reading.
    await oidc_api.count_token(request)
    await limits.refuse_guesser(request)
    authorization = request.headers.get("authorization")
    return await oidc_api.token_answer(request, svc, path[0], authorization)


#: By method, each lane's path, whether it reads a JSON body first, and its answer. The paths
#: are exclusive, so their order is not the routes' order.
_LANES: dict[str, tuple[tuple[re.Pattern[str], bool, Answer], ...]] = {
    "GET": ((_STATUS, False, _status), (_IMAGE, False, _image)),
    "POST": (
        (_CREATE, True, _create),
        (_SCAN, True, _scan),
        (_CONFIRM, True, _confirm),
        (_TOKEN, False, _token),
    ),
}


def _lane(
    lanes: tuple[tuple[re.Pattern[str], bool, Answer], ...], route_path: str
) -> tuple[tuple[str, ...], bool, Answer] | None:
    """The lane whose path matches: the path's groups, whether it reads a body, its answer."""
    for path, reads_body, answer in lanes:
        match = path.match(route_path)
        if match is not None:
            return match.groups(), reads_body, answer
    return None


class _Recorded:
    """A request's ``receive`` that keeps the messages it handed out, so that a request the
    lane leaves to the route reaches it as it came in."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.seen: list[Message] = []

    async def __call__(self) -> Message:
        message = await self.receive()
        self.seen.append(message)
        return message

    async def body(self) -> bytes | None:
        """The whole body; None when the client left first."""
        chunks: list[bytes] = []
        while True:
            message = await self()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    def replay(self) -> Receive:
        pending = deque(self.seen)

        async def replayed() -> Message:
            return pending.popleft() if pending else await self.receive()

        return replayed


class LoginLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lanes = _LANES.get(scope["method"]) if scope["type"] == "http" else None
        if lanes is None:
            await self.app(scope, receive, send)
            return
        found = _lane(lanes, get_route_path(scope))
        if found is None:
            await self.app(scope, receive, send)
            return
        path, reads_body, answer = found
        recorded = _Recorded(receive)
        request = Request(scope, recorded)
        svc: Services = scope["app"].state.services
        response: Response | None
        try:
            body = await recorded.body() if reads_body else None
            response = await answer(request, svc, path, body)
        except Exception as error:
            response = await errors.handle(request, error)
        if response is None:
            await self.app(scope, recorded.replay(), send)
            return
        await response(scope, receive, send)
