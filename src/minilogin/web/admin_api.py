"""The admin API (API.md §6) under ``{public}/admin/api``, and the public logo of each
identity source at ``{issuer}/connections/{unique_id}/logo.png``.

Callers authenticate with ``Authorization: Bearer`` (a token from ``minilogin admin token`` or
``MINILOGIN_ADMIN_TOKEN``) or, from the console, with its session cookie; then every change
also needs the session's CSRF token in ``X-CSRF-Token`` and, when the browser names one, the
service's own ``Origin``.

Errors: a field that breaks its rule answers 400 ``invalid_<field>`` (``invalid_unique_id``,
``invalid_callback_url``…) whose message states the rule; a uniqueness clash answers 409
(``connection_exists``, ``pool_exists``, ``username_taken``, ``phone_taken``); an unknown pool,
application, source or user 404; a body that is not JSON 400 ``invalid_json``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from minilogin.admin import Actor, access, activity, applications, connections, pools, users
from minilogin.admin.access import AccessPorts
from minilogin.admin.activity import ActivityPorts
from minilogin.admin.applications import ApplicationPorts
from minilogin.admin.connections import ConnectionPorts
from minilogin.admin.experience import ExperiencePorts, preview
from minilogin.admin.pools import PoolPorts
from minilogin.admin.users import UserPorts
from minilogin.core.connection import is_loopback_url
from minilogin.core.entities import Application, IdentitySource
from minilogin.core.errors import Forbidden, InvalidRequest, Unauthorized
from minilogin.web import admin_bodies as bodies
from minilogin.web import admin_ports
from minilogin.web.admin_schemas import (
    ApplicationChanges,
    ApplicationIn,
    ConnectionChanges,
    ConnectionIn,
    ExperienceIn,
    PoolChanges,
    PoolIn,
    UserChanges,
    UserIn,
    documented,
)
from minilogin.web.deps import client_ip, issuer, services
from minilogin.web.errors import error_responses
from minilogin.wiring import Services

SESSION_COOKIE = "minilogin_console"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_JSON_BYTES = 64 * 1024
#: Room for the multipart envelope around a logo of the largest size allowed.
MAX_LOGO_UPLOAD = connections.MAX_LOGO_BYTES + 64 * 1024

router = APIRouter(
    prefix="/admin/api",
    tags=["Admin"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 424, 429, 503),
)
public_router = APIRouter(tags=["Identity sources"], responses=error_responses(400, 404, 503))
Svc = Annotated[Services, Depends(services)]


async def _access(svc: Svc) -> AccessPorts:
    return admin_ports.access_ports(svc)


async def _pools(svc: Svc) -> PoolPorts:
    return admin_ports.pool_ports(svc)


async def _applications(svc: Svc) -> ApplicationPorts:
    return admin_ports.application_ports(svc)


async def _connections(svc: Svc) -> ConnectionPorts:
    return admin_ports.connection_ports(svc)


async def _experience(svc: Svc) -> ExperiencePorts:
    return admin_ports.experience_ports(svc)


async def _users(svc: Svc) -> UserPorts:
    return admin_ports.user_ports(svc)


async def _activity(svc: Svc) -> ActivityPorts:
    return admin_ports.activity_ports(svc)


Access = Annotated[AccessPorts, Depends(_access)]
Pools = Annotated[PoolPorts, Depends(_pools)]
Applications = Annotated[ApplicationPorts, Depends(_applications)]
Connections = Annotated[ConnectionPorts, Depends(_connections)]
Experience = Annotated[ExperiencePorts, Depends(_experience)]
Users = Annotated[UserPorts, Depends(_users)]
Activity = Annotated[ActivityPorts, Depends(_activity)]

_bearer = HTTPBearer(auto_error=False, description="A token from `minilogin admin token`.")
_session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The console's session.")


def public_origin(svc: Services) -> str:
    scheme, rest = svc.settings.public_url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def session_cookie_secure(svc: Services) -> bool:
    """Secure everywhere but on this computer, where the console is plain http."""
    return not is_loopback_url(svc.settings.public_url)


def check_same_origin(request: Request, svc: Services) -> None:
    """A browser names the page that sent a POST; only the console's own may change things."""
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() != public_origin(svc):
        raise Forbidden("csrf_failed")


async def administrator(
    request: Request,
    svc: Svc,
    ports: Access,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session_id: Annotated[str | None, Depends(_session)],
) -> Actor:
    """Who is calling: a token's holder, or a console session (with CSRF checks on changes)."""
    ip = client_ip(request)
    if bearer is not None:
        return await access.authenticate_token(ports, bearer.credentials, ip)
    if request.headers.get("authorization"):
        raise Unauthorized("unauthorized")
    session = await access.console_session(ports.sessions, session_id)
    if session is None:
        raise Unauthorized("unauthorized")
    if request.method not in SAFE_METHODS:
        check_same_origin(request, svc)
        access.check_csrf(session, request.headers.get(CSRF_HEADER))
    return Actor(session.username, ip)


AdminActor = Annotated[Actor, Depends(administrator)]


async def json_object(request: Request) -> dict[str, object]:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise InvalidRequest("invalid_request", f"the body is larger than {MAX_JSON_BYTES}")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidRequest("invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("invalid_json")
    return data


# pools


@router.get("/pools")
async def list_pools(svc: Svc, ports: Pools, _: AdminActor) -> dict[str, Any]:
    found = await pools.list_pools(ports.pools)
    return {"pools": [bodies.pool_body(pool, svc.settings.issuer(pool.slug)) for pool in found]}


@router.post("/pools", status_code=201, openapi_extra=documented(PoolIn))
async def create_pool(
    request: Request, svc: Svc, ports: Pools, actor: AdminActor
) -> dict[str, Any]:
    pool = await pools.create_pool(ports, actor, await json_object(request))
    return bodies.pool_body(pool, svc.settings.issuer(pool.slug))


@router.get("/pools/{pool}")
async def get_pool(pool: str, svc: Svc, ports: Pools, _: AdminActor) -> dict[str, Any]:
    found = await pools.get_pool(ports.pools, pool)
    return bodies.pool_body(found, svc.settings.issuer(found.slug))


@router.patch("/pools/{pool}", openapi_extra=documented(PoolChanges))
async def update_pool(
    pool: str, request: Request, svc: Svc, ports: Pools, actor: AdminActor
) -> dict[str, Any]:
    changed = await pools.update_pool(ports, actor, pool, await json_object(request))
    return bodies.pool_body(changed, svc.settings.issuer(changed.slug))


@router.delete("/pools/{pool}", status_code=204)
async def delete_pool(pool: str, ports: Pools, actor: AdminActor) -> Response:
    """Deletes the pool with its applications, identity sources and users."""
    await pools.delete_pool(ports, actor, pool)
    return Response(status_code=204)


# applications


async def _application_body(
    ports: ApplicationPorts, application: Application, client_secret: str | None = None
) -> dict[str, Any]:
    enabled = await applications.enabled_connections(ports.sources, application)
    return bodies.application_body(application, enabled, client_secret)


@router.get("/pools/{pool}/applications")
async def list_applications(pool: str, ports: Applications, _: AdminActor) -> dict[str, Any]:
    found = await applications.list_applications(ports, pool)
    return {"applications": [await _application_body(ports, a) for a in found]}


@router.post("/pools/{pool}/applications", status_code=201, openapi_extra=documented(ApplicationIn))
async def create_application(
    pool: str, request: Request, ports: Applications, actor: AdminActor
) -> dict[str, Any]:
    """A web application's ``client_secret`` is in this answer and nowhere else, ever."""
    application, secret = await applications.create_application(
        ports, actor, pool, await json_object(request)
    )
    return bodies.application_body(application, [], secret)


@router.get("/pools/{pool}/applications/{client_id}")
async def get_application(
    pool: str, client_id: str, ports: Applications, _: AdminActor
) -> dict[str, Any]:
    return await _application_body(
        ports, await applications.get_application(ports, pool, client_id)
    )


@router.patch(
    "/pools/{pool}/applications/{client_id}", openapi_extra=documented(ApplicationChanges)
)
async def update_application(
    pool: str, client_id: str, request: Request, ports: Applications, actor: AdminActor
) -> dict[str, Any]:
    application = await applications.update_application(
        ports, actor, pool, client_id, await json_object(request)
    )
    return await _application_body(ports, application)


@router.delete("/pools/{pool}/applications/{client_id}", status_code=204)
async def delete_application(
    pool: str, client_id: str, ports: Applications, actor: AdminActor
) -> Response:
    await applications.delete_application(ports, actor, pool, client_id)
    return Response(status_code=204)


@router.post("/pools/{pool}/applications/{client_id}/secret")
async def rotate_client_secret(
    pool: str, client_id: str, ports: Applications, actor: AdminActor
) -> dict[str, Any]:
    """A web application's new ``client_secret``, shown once; the old one stops working."""
    application, secret = await applications.rotate_secret(ports, actor, pool, client_id)
    return await _application_body(ports, application, secret)


@router.put("/pools/{pool}/applications/{client_id}/connections/{unique_id}", status_code=204)
async def enable_connection(
    pool: str, client_id: str, unique_id: str, ports: Applications, actor: AdminActor
) -> Response:
    """Offer the identity source to the application's users."""
    await applications.switch_connection(ports, actor, pool, client_id, unique_id, enabled=True)
    return Response(status_code=204)


@router.delete("/pools/{pool}/applications/{client_id}/connections/{unique_id}", status_code=204)
async def disable_connection(
    pool: str, client_id: str, unique_id: str, ports: Applications, actor: AdminActor
) -> Response:
    await applications.switch_connection(ports, actor, pool, client_id, unique_id, enabled=False)
    return Response(status_code=204)


@router.post(
    "/pools/{pool}/applications/{client_id}/experience", openapi_extra=documented(ExperienceIn)
)
async def experience_login(
    pool: str, client_id: str, request: Request, svc: Svc, ports: Experience, actor: AdminActor
) -> dict[str, Any]:
    """The console's "Experience login" for a web application: exchanges a QR login's code
    (with its PKCE verifier) for the user and the ID token claims it would give, without
    issuing any token."""
    body = await json_object(request)
    shown = await preview(
        admin_ports.experience_ports(svc),
        actor,
        issuer(request, pool),
        pool,
        client_id,
        body.get("code"),
        body.get("code_verifier"),
    )
    return bodies.preview_body(shown)


# identity sources


async def _connection_answer(
    svc: Services,
    ports: ConnectionPorts,
    pool: str,
    source: IdentitySource,
    used: list[Application],
) -> dict[str, Any]:
    """A source's body with whether codes can be made for it (``code_error``)."""
    body = bodies.connection_body(source, used, svc.settings.issuer(pool))
    body["code_error"] = bodies.code_error_body(await connections.code_error(ports.codes, source))
    return body


@router.get("/pools/{pool}/connections")
async def list_connections(
    pool: str, svc: Svc, ports: Connections, _: AdminActor
) -> dict[str, Any]:
    found = await connections.list_connections(ports.pools, ports.sources, pool)
    return {
        "connections": [await _connection_answer(svc, ports, pool, s, used) for s, used in found]
    }


@router.post("/pools/{pool}/connections", status_code=201, openapi_extra=documented(ConnectionIn))
async def create_connection(
    pool: str, request: Request, svc: Svc, ports: Connections, actor: AdminActor
) -> dict[str, Any]:
    source = await connections.create_connection(ports, actor, pool, await json_object(request))
    return await _connection_answer(svc, ports, pool, source, [])


@router.get("/pools/{pool}/connections/{unique_id}")
async def get_connection(
    pool: str, unique_id: str, svc: Svc, ports: Connections, _: AdminActor
) -> dict[str, Any]:
    source, used = await connections.get_connection(ports.pools, ports.sources, pool, unique_id)
    return await _connection_answer(svc, ports, pool, source, used)


@router.patch("/pools/{pool}/connections/{unique_id}", openapi_extra=documented(ConnectionChanges))
async def update_connection(
    pool: str, unique_id: str, request: Request, svc: Svc, ports: Connections, actor: AdminActor
) -> dict[str, Any]:
    """``unique_id`` can't change; ``app_secret`` left out (or null) keeps the stored one."""
    await connections.update_connection(ports, actor, pool, unique_id, await json_object(request))
    source, used = await connections.get_connection(ports.pools, ports.sources, pool, unique_id)
    return await _connection_answer(svc, ports, pool, source, used)


@router.delete("/pools/{pool}/connections/{unique_id}", status_code=204)
async def delete_connection(
    pool: str, unique_id: str, ports: Connections, actor: AdminActor
) -> Response:
    await connections.delete_connection(ports, actor, pool, unique_id)
    return Response(status_code=204)


_LOGO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/webp": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"logo": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


async def _logo_upload(request: Request) -> bytes:
    """The image: the raw body, or the one file of a multipart form. Reading stops as soon as
    the upload is larger than any acceptable logo."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGO_UPLOAD:
            raise InvalidRequest("invalid_logo", "the logo is larger than 2 MiB")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return bytes(body)

    async def replay() -> Message:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=8)
    except (HTTPException, MultiPartException):
        raise InvalidRequest("invalid_logo", "not a readable multipart form") from None
    try:
        files = [value for value in form.values() if not isinstance(value, str)]
        if not files:
            raise InvalidRequest("invalid_logo", "the form has no file")
        return await files[0].read()
    finally:
        await form.close()


@router.put("/pools/{pool}/connections/{unique_id}/logo", openapi_extra=_LOGO_BODY)
async def put_logo(
    pool: str, unique_id: str, request: Request, svc: Svc, ports: Connections, actor: AdminActor
) -> dict[str, Any]:
    """A PNG, JPEG or WebP of at most 2 MiB, as the body or as the file of a multipart form.
    It is decoded and re-encoded; the next codes show it in their centre."""
    await connections.set_logo(ports, actor, pool, unique_id, await _logo_upload(request))
    source, used = await connections.get_connection(ports.pools, ports.sources, pool, unique_id)
    return await _connection_answer(svc, ports, pool, source, used)


@router.delete("/pools/{pool}/connections/{unique_id}/logo", status_code=204)
async def delete_logo(pool: str, unique_id: str, ports: Connections, actor: AdminActor) -> Response:
    await connections.set_logo(ports, actor, pool, unique_id, None)
    return Response(status_code=204)


# users


@router.get("/pools/{pool}/users")
async def list_users(
    pool: str,
    ports: Users,
    _: AdminActor,
    q: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=users.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=users.MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Newest first; ``q`` matches part of the phone number, username, nickname or email."""
    found, total = await users.search(ports, pool, q, limit, offset)
    return {"users": [bodies.user_body(user) for user in found], "total": total}


@router.post("/pools/{pool}/users", status_code=201, openapi_extra=documented(UserIn))
async def create_user(
    pool: str, request: Request, ports: Users, actor: AdminActor
) -> dict[str, Any]:
    """The answer's ``id`` is the ``sub`` of the user's tokens."""
    user = await users.create_user(ports, actor, pool, await json_object(request))
    return bodies.user_body(user)


@router.get("/pools/{pool}/users/{user_id}")
async def get_user(pool: str, user_id: str, ports: Users, _: AdminActor) -> dict[str, Any]:
    """The user with its linked WeChat identities and its recent logins."""
    return bodies.details_body(await users.details(ports, pool, user_id))


@router.patch("/pools/{pool}/users/{user_id}", openapi_extra=documented(UserChanges))
async def update_user(
    pool: str, user_id: str, request: Request, ports: Users, actor: AdminActor
) -> dict[str, Any]:
    """``{"blocked": true}`` blocks the user: no new login, no token exchange."""
    await users.update_user(ports, actor, pool, user_id, await json_object(request))
    return bodies.details_body(await users.details(ports, pool, user_id))


@router.delete("/pools/{pool}/users/{user_id}", status_code=204)
async def delete_user(pool: str, user_id: str, ports: Users, actor: AdminActor) -> Response:
    await users.delete_user(ports, actor, pool, user_id)
    return Response(status_code=204)


@router.delete("/pools/{pool}/users/{user_id}/identities/{identity_id}", status_code=204)
async def unlink_identity(
    pool: str, user_id: str, identity_id: str, ports: Users, actor: AdminActor
) -> Response:
    await users.unlink_identity(ports, actor, pool, user_id, identity_id)
    return Response(status_code=204)


# dashboard and audit log


@router.get("/pools/{pool}/stats")
async def stats(
    pool: str,
    ports: Activity,
    _: AdminActor,
    days: int = 14,
    tz_offset: int = activity.DEFAULT_TZ_OFFSET,
) -> dict[str, Any]:
    """Per identity source and day (of the last ``days``, in the time zone ``tz_offset``
    minutes east of UTC): codes shown, scanned, authorized, consumed, cancelled, expired."""
    return bodies.stats_body(await activity.stats(ports, pool, days, tz_offset))


@router.get("/pools/{pool}/audit")
async def audit_log(
    pool: str,
    ports: Activity,
    _: AdminActor,
    action: Annotated[list[str] | None, Query()] = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Newest first. ``action`` (repeatable) keeps the events whose action starts with it,
    e.g. ``admin.`` for configuration changes or ``login.`` for logins."""
    events = await activity.audit_log(ports, pool, tuple(action or ()), limit)
    return {"events": [bodies.event_body(event) for event in events]}


@router.get("/audit")
async def service_audit_log(
    ports: Activity,
    _: AdminActor,
    action: Annotated[list[str] | None, Query()] = None,
    limit: int = 100,
) -> dict[str, Any]:
    """The events of no pool: administrators created, console logins and failures, API
    tokens made. Newest first, narrowed by ``action`` prefixes like the pool's log."""
    events = await activity.audit_log(ports, None, tuple(action or ()), limit)
    return {"events": [bodies.event_body(event) for event in events]}


# the logo, for every page and mini program that shows the source


@public_router.get("/pools/{pool}/connections/{unique_id}/logo.png", response_class=Response)
async def logo(pool: str, unique_id: str, ports: Connections) -> Response:
    source = await connections.logo(ports.pools, ports.sources, pool, unique_id)
    assert source.logo is not None
    return Response(
        source.logo,
        media_type="image/png",
        headers={
            "Cache-Control": "public, max-age=300",
            "ETag": f'"{source.id}.{source.logo_version}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
