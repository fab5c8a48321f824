"""The browser's side of a QR login (API.md §1): create, read, wait, cancel, and the image."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from minilogin import lookups
from minilogin.core import qrlogin as machine
from minilogin.core.claims import normalise_scope
from minilogin.core.entities import Application, IdentitySource, Pool
from minilogin.core.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from minilogin.core.phone import masked
from minilogin.core.pkce import validate_challenge
from minilogin.core.qrlogin import QRLogin, RequestContext, Status
from minilogin.core.tokens import digest, matches, new_id, new_match, new_secret
from minilogin.login import audit
from minilogin.observability import metrics
from minilogin.oidc import authorize
from minilogin.storage.durable import CodeImage
from minilogin.storage.ephemeral.records import status_channel
from minilogin.storage.errors import UNAVAILABLE
from minilogin.wiring import Services

MAX_WAIT = 30
#: Seconds between keep-alives of a wait, at each of which the stored login is read again.
KEEPALIVE = 15.0
MAX_PARAM = 512


@dataclass(frozen=True, slots=True)
class CreateRequest:
    client_id: str
    code_challenge: str
    code_challenge_method: str
    connection: str | None = None
    scope: str | None = None
    nonce: str | None = None
    state: str | None = None
    #: The hosted page's authorization request this login answers (``oidc/authorize.py``).
    authorization_request: str | None = None


@dataclass(frozen=True, slots=True)
class Created:
    login: QRLogin
    secret: str


async def load_pool(svc: Services, slug: str, *, fresh: bool = False) -> Pool:
    """The pool named ``slug``; ``fresh`` reads the database rather than this instance's copy
    (the admin flows, which change what they read, always do)."""
    return await lookups.load_pool(svc.durable if fresh else svc.config, slug)


async def load_application(
    svc: Services, pool: Pool, client_id: str, *, fresh: bool = False
) -> Application:
    return await lookups.load_application(svc.durable if fresh else svc.config, pool, client_id)


async def choose_source(
    svc: Services, pool: Pool, application: Application, unique_id: str | None
) -> IdentitySource:
    """The named source when the application has it enabled, else its only one."""
    sources = await svc.config.enabled_identity_sources(pool.id, application.client_id)
    if unique_id is not None:
        for source in sources:
            if source.unique_id == unique_id:
                return source
        raise NotFound("unknown_connection")
    if not sources:
        raise NotFound("no_connection")
    if len(sources) > 1:
        raise InvalidRequest("connection_required")
    return sources[0]


def _bounded(name: str, value: str | None) -> str | None:
    if value is not None and len(value) > MAX_PARAM:
        raise InvalidRequest("invalid_request", f"{name} is longer than {MAX_PARAM} characters")
    return value


async def create(
    svc: Services, pool_slug: str, request: CreateRequest, context: RequestContext
) -> Created:
    challenge = validate_challenge(request.code_challenge, request.code_challenge_method)
    pool = await lookups.load_pool(svc.config, pool_slug)
    application = await lookups.load_application(svc.config, pool, request.client_id)
    source = await choose_source(svc, pool, application, request.connection)
    bound = (
        await authorize.load_for_client(
            svc, pool.slug, application.client_id, request.authorization_request
        )
        if request.authorization_request is not None
        else None
    )
    mini_program = svc.mini_program(source)
    now = svc.clock()
    secret = new_secret()
    # A recycled code may have been photographed during an earlier login: the phone must
    # then prove it sees this login's screen by picking the digits shown there.
    match, choices = new_match() if svc.codepool.recycles else (None, ())
    while True:
        # A scene from the code pool; leased to this login id, so no other login can show it.
        login_id = new_id("qrl")
        scene = await svc.codepool.lease(source, login_id)
        login = QRLogin(
            id=login_id,
            pool=pool.slug,
            pool_id=pool.id,
            client_id=application.client_id,
            connection=source.unique_id,
            app_id=mini_program.app_id,
            scene=scene,
            secret_hash=digest(secret),
            code_challenge=challenge,
            created_at=now,
            expires_at=now + source.qr_expires_in,
            scope=normalise_scope(request.scope),
            nonce=_bounded("nonce", request.nonce),
            state=_bounded("state", request.state),
            request=context,
            updated_at=now,
            match=match,
            match_choices=choices,
        )
        if await svc.qrlogins.create(login):
            if bound is not None:
                await authorize.bind(svc, login, bound)
            # The dashboard's funnel starts here (admin/activity.py).
            await audit.record(
                svc,
                "qrlogin.created",
                pool_id=pool.id,
                actor=application.client_id,
                ip=context.ip,
                qrlogin=login.id,
                connection=source.unique_id,
                expires_at=login.expires_at,
            )
            return Created(login, secret)


async def authenticate(svc: Services, pool: str, login_id: str, secret: str | None) -> QRLogin:
    """The login, for the holder of its secret under its own pool's issuer only; anyone else
    learns nothing at all."""
    login = await svc.qrlogins.get(login_id)
    if login is None or login.pool != pool or not matches(secret, login.secret_hash):
        raise Unauthorized("unauthorized")
    return login


def status_body(login: QRLogin, now: float) -> dict[str, Any]:
    """API.md §1 "Status": what the browser is told about its login."""
    body: dict[str, Any] = {
        "id": login.id,
        "status": login.status.value,
        "expires_in": login.expires_in(now),
    }
    if login.scanner is not None and login.status is not Status.PENDING:
        body["scanned"] = {
            "nickname": login.scanner.nickname,
            "avatar_url": login.scanner.avatar_url,
        }
    if login.match is not None and login.status in (Status.PENDING, Status.SCANNED):
        body["match"] = login.match
    if login.status is Status.NEEDS_BINDING:
        body["binding"] = {
            "login_only": login.login_only,
            "phone": masked(login.phone) if login.phone else None,
        }
    if login.status is Status.AUTHORIZED and login.code is not None:
        body["code"] = login.code
    if login.state is not None:
        body["state"] = login.state
    if login.status in (Status.CANCELLED, Status.EXPIRED) and login.error:
        body["error"] = login.error
    return body


async def _reread(svc: Services, current: QRLogin) -> QRLogin:
    """The login as stored now; what was known before while the store can't be reached (the
    waiting browser keeps waiting rather than failing: it is asked again soon)."""
    try:
        stored = await svc.qrlogins.get(current.id)
    except UNAVAILABLE:
        stored = None
    return (stored or current).current(svc.clock())


async def wait_for_change(
    svc: Services, login: QRLogin, last: str | None, wait: float, keepalive: float = KEEPALIVE
) -> QRLogin:
    """Long poll: the login as soon as its status differs from ``last``, or after ``wait``.

    The subscription opens before the read, so a change between the two is never missed; the
    wait also ends at the login's deadline, when it turns expired without anyone writing.
    A change published while the subscription was being made again (Redis restarted) is
    lost to it, so the stored login is read again then, every ``keepalive`` seconds and at
    the end. When the process begins to stop, the answer is the current status at once.
    """
    deadline = svc.clock() + min(max(wait, 0.0), MAX_WAIT)
    with metrics.waiting_browser():
        async with svc.ephemeral.subscribe(status_channel(login.id)) as events:
            with svc.waiting.watch(events):
                current = await svc.qrlogins.get(login.id) or login.current(svc.clock())
                while current.status.value == last and not svc.waiting.stopping:
                    now = svc.clock()
                    timeout = min(deadline, current.expires_at) - now
                    if timeout <= 0:
                        current = await _reread(svc, current)
                        break
                    message = await events.next(min(timeout, keepalive))
                    if message:
                        current = svc.qrlogins.decode(message).current(svc.clock())
                        metrics.pushed(current, svc.clock())
                    else:
                        current = await _reread(svc, current)
                        if svc.clock() >= deadline:
                            break
    await svc.qrlogins.note_expired(current)
    return current


async def stream(
    svc: Services, login: QRLogin, keepalive: float = KEEPALIVE
) -> AsyncIterator[QRLogin | None]:
    """Server-sent events: the login now and after every change, until it is terminal or the
    process begins to stop. ``None`` asks the caller to send a keep-alive comment.

    At every keep-alive and after the subscription was made again the stored login is read
    again, so a change published while Redis was away still reaches the browser."""
    with metrics.waiting_browser():
        async with svc.ephemeral.subscribe(status_channel(login.id)) as events:
            with svc.waiting.watch(events):
                current = await svc.qrlogins.get(login.id) or login.current(svc.clock())
                yield current
                while not current.status.terminal and not svc.waiting.stopping:
                    now = svc.clock()
                    timeout = min(keepalive, max(current.expires_at - now, 0.0))
                    message = await events.next(timeout) if timeout > 0 else None
                    if message:
                        updated = svc.qrlogins.decode(message).current(svc.clock())
                    else:
                        updated = await _reread(svc, current)
                    if (
                        updated.status is current.status
                        and updated.updated_at == current.updated_at
                    ):
                        if message is None:
                            yield None
                        continue
                    current = updated
                    if message:
                        metrics.pushed(current, svc.clock())
                    else:
                        await svc.qrlogins.note_expired(current)
                    yield current


async def cancel(svc: Services, login: QRLogin) -> None:
    """The browser gives up. Cancelling twice is fine; cancelling a finished login is not."""

    def change(current: QRLogin) -> QRLogin:
        if current.current(svc.clock()).status is Status.CANCELLED:
            return current
        return machine.cancel(current, svc.clock(), "cancelled_by_browser")

    await svc.qrlogins.update(login.id, change)
    await audit.record(
        svc, "login.cancelled", pool_id=login.pool_id, by="browser", qrlogin=login.id
    )


async def image(svc: Services, login: QRLogin) -> CodeImage:
    """The mini program code for the login's scene, with the source's logo in its centre."""
    if login.status.terminal:
        raise Conflict(f"qrlogin_{login.status.value}")
    source = await svc.config.get_identity_source(login.pool_id, login.connection)
    if source is None:
        raise NotFound("unknown_connection")
    return await svc.codepool.image(source, login)


#: Administration still imports the API's rendering of instants from here.
iso = lookups.iso
