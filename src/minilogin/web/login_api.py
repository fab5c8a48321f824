"""The browser's QR login API (API.md §1) under ``{issuer}/api/qrcodes``."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from minilogin.core.errors import Gone, InvalidRequest, NotFound, Unauthorized
from minilogin.core.messages import message, negotiate
from minilogin.core.qrlogin import QRLogin, Status
from minilogin.login import binding as binding_flow
from minilogin.login import qrlogin as flow
from minilogin.lookups import iso
from minilogin.web import limits
from minilogin.web.deps import bearer_token, client_ip, issuer, request_context, services_of
from minilogin.web.errors import error_responses
from minilogin.web.login_ports import binding_ports, qrlogin_ports
from minilogin.wiring import Services

router = APIRouter(
    prefix="/pools/{pool}/api/qrcodes",
    tags=["QR login (browser)"],
    responses=error_responses(400, 401, 403, 404, 409, 410, 413, 424, 429, 503),
)


class BindingBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: Literal["bind", "create"]
    username: str | None = Field(default=None, min_length=1, max_length=128)
    password: str | None = Field(default=None, min_length=1, max_length=256)


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    client_id: str = Field(min_length=1, max_length=128)
    code_challenge: str
    code_challenge_method: str = "S256"
    connection: str | None = Field(default=None, max_length=64)
    scope: str | None = Field(default=None, max_length=256)
    nonce: str | None = None
    state: str | None = None
    authorization_request: str | None = Field(default=None, max_length=64)


def _status(request: Request, svc: Services, login: QRLogin) -> dict[str, Any]:
    """The status body, with the reason a login ended in words the person understands."""
    body = flow.status_body(login, svc.clock())
    if "error" in body:
        body["message"] = message(body["error"], negotiate(request.headers.get("accept-language")))
    return body


async def _authenticate(
    request: Request, svc: Services, pool: str, login_id: str, secret: str | None
) -> QRLogin:
    """The QR login its secret opens; wrong secrets count as guesses (``web/limits.py``)."""
    await limits.refuse_guesser(request)
    return await _open(request, svc, pool, login_id, secret)


async def _open(
    request: Request, svc: Services, pool: str, login_id: str, secret: str | None
) -> QRLogin:
    """``_authenticate`` once the guesser was checked."""
    try:
        return await flow.authenticate(svc.qrlogins, pool, login_id, secret)
    except Unauthorized:
        await limits.wrong_guess(request)
        raise


#: Each creation counts against its IP (the route's dependency, and its lean lane's).
count_creation = limits.per_ip("qrcode")


@router.post("", status_code=201, dependencies=[Depends(count_creation)])
async def create_qrlogin(pool: str, body: CreateBody, request: Request) -> dict[str, Any]:
    return await creation_answer(request, services_of(request), pool, body)


async def creation_answer(
    request: Request, svc: Services, pool: str, body: CreateBody
) -> dict[str, Any]:
    """The creation route's work once its IP was counted and its body read: the route above
    and its lean lane (``web/lane.py``) both answer with it."""
    await limits.check(svc, "qrcode.client", f"{pool}/{body.client_id}")
    created = await flow.create(
        qrlogin_ports(svc),
        pool,
        flow.CreateRequest(
            client_id=body.client_id,
            code_challenge=body.code_challenge,
            code_challenge_method=body.code_challenge_method,
            connection=body.connection,
            scope=body.scope,
            nonce=body.nonce,
            state=body.state,
            authorization_request=body.authorization_request,
        ),
        request_context(request),
    )
    login = created.login
    now = svc.clock()
    answer: dict[str, Any] = {
        "id": login.id,
        "secret": created.secret,
        "status": login.status.value,
        "image_url": f"{issuer(request, pool)}/api/qrcodes/{login.id}/image.png",
        "expires_in": login.expires_in(now),
        "expires_at": iso(login.expires_at),
    }
    if login.match is not None:
        answer["match"] = login.match
    phone = svc.settings.sandbox_phone_url
    if phone is not None:
        # What the code holds (API.md §4), so that a laptop alone can play the phone.
        query = urlencode({"appid": login.app_id, "scene": login.scene})
        answer["sandbox_phone_url"] = f"{phone}?{query}"
    return answer


@router.get("/{login_id}")
async def get_status(
    pool: str,
    login_id: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    wait: Annotated[float, Query(ge=0, le=flow.MAX_WAIT)] = 0,
    last: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    return await status_answer(
        request, services_of(request), pool, login_id, authorization, wait, last
    )


async def status_answer(
    request: Request,
    svc: Services,
    pool: str,
    login_id: str,
    authorization: str | None,
    wait: float,
    last: str | None,
) -> dict[str, Any]:
    """The status (long poll) route's work once its parameters are read and valid: the route
    above and its lean lane (``web/lane.py``) both answer with it."""
    secret = bearer_token(authorization)
    if wait > 0 and last is not None:
        # A guesser is refused before it may subscribe; the one read of the login comes once
        # subscribed (``wait_for_change``), so a re-poll reads the login once.
        await limits.refuse_guesser(request)
        login = await flow.wait_for_change(
            qrlogin_ports(svc),
            login_id,
            partial(_open, request, svc, pool, login_id, secret),
            last,
            wait,
        )
    else:
        login = await _authenticate(request, svc, pool, login_id, secret)
    return _status(request, svc, login)


@router.get("/{login_id}/events", response_class=StreamingResponse)
async def events(
    pool: str,
    login_id: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    secret: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> StreamingResponse:
    svc = services_of(request)
    if secret is not None:
        # A secret in a URL ends up in access logs and proxies' histories: refused, so no
        # client keeps sending it there (the SDK reads the stream with fetch and the header).
        raise InvalidRequest("secret_in_query")
    login = await _authenticate(request, svc, pool, login_id, bearer_token(authorization))

    async def body() -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        last: QRLogin | None = None
        async for current in flow.stream(qrlogin_ports(svc), login):
            if current is None:
                yield b": keep-alive\n\n"
                continue
            last = current
            data = json.dumps(_status(request, svc, current), separators=(",", ":"))
            event_id = f"{current.status.value}.{current.updated_at:.6f}"
            yield f"id: {event_id}\nevent: status\ndata: {data}\n\n".encode()
        if last is None or not last.status.terminal:
            # The process is stopping: the browser reconnects (to an instance that stays),
            # after a delay spread out so that they don't all arrive at once.
            yield f"retry: {_reconnect_delay()}\n\n".encode()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _reconnect_delay() -> int:
    """Milliseconds: between half a second and two."""
    return 500 + secrets.randbelow(1500)


@router.delete("/{login_id}", status_code=204)
async def cancel_qrlogin(
    pool: str,
    login_id: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    svc = services_of(request)
    login = await _authenticate(request, svc, pool, login_id, bearer_token(authorization))
    await flow.cancel(qrlogin_ports(svc), login)
    return Response(status_code=204)


@router.post("/{login_id}/binding")
async def binding(
    pool: str,
    login_id: str,
    body: BindingBody,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """In ``needs_binding``: link an existing account (its username or phone, and password)
    or create a new one (API.md §1 "Bind")."""
    svc = services_of(request)
    login = await _authenticate(request, svc, pool, login_id, bearer_token(authorization))
    if body.action == "bind":
        if body.username is None or body.password is None:
            raise InvalidRequest("invalid_request", "username and password are required")
        login = await binding_flow.bind(
            binding_ports(svc), login, body.username, body.password, client_ip(request)
        )
    else:
        login = await binding_flow.create(binding_ports(svc), login, client_ip(request))
    return _status(request, svc, login)


@router.get("/{login_id}/image.png", response_class=Response)
async def image(pool: str, login_id: str, request: Request) -> Response:
    """The code carries only the scene, so the image needs no secret: an ``<img>`` can load it."""
    return await image_answer(services_of(request), pool, login_id)


async def image_answer(svc: Services, pool: str, login_id: str) -> Response:
    """The image route's work: the route above and its lean lane (``web/lane.py``) both
    answer with it."""
    login = await svc.qrlogins.get(login_id)
    if login is None or login.pool != pool:
        raise NotFound("qrlogin_not_found")
    if login.status is Status.EXPIRED:
        raise Gone("qrlogin_expired")
    # The path keeps its ``.png``; the type is the image's own (WeChat's codes are JPEG).
    image = await flow.image(qrlogin_ports(svc), login)
    return Response(
        image.data,
        media_type=image.content_type,
        headers={"Cache-Control": "private, max-age=600"},
    )
