"""The browser's side of a QR login (API.md §1): create, read, wait, cancel, and the image."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from minilogin import lookups
from minilogin.core import qrlogin as machine
from minilogin.core.claims import normalise_scope
from minilogin.core.entities import Application, CodeImage, IdentitySource, Pool
from minilogin.core.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from minilogin.core.phone import masked
from minilogin.core.pkce import validate_challenge
from minilogin.core.qrlogin import QRLogin, RequestContext, Status
from minilogin.core.tokens import digest, matches, new_id, new_match, new_secret
from minilogin.login.waiting import Waiting
from minilogin.observability import metrics
from minilogin.oidc import audit, authorize
from minilogin.ports import (
    AuditSink,
    AuthorizationRequestStore,
    Clock,
    CodeSource,
    QRLoginStore,
)
from minilogin.storage.config_cache import ConfigReader
from minilogin.storage.ephemeral.base import Subscription
from minilogin.storage.ephemeral.records import status_channel
from minilogin.storage.errors import UNAVAILABLE
from minilogin.wechat.types import MiniProgram

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


class StatusEvents(Protocol):
    """The channels each QR login's changes are published on (the ephemeral store). Here
    rather than in ``ports``, which imports nothing of the storage floor's types."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]: ...


@dataclass(frozen=True, slots=True)
class QRLoginPorts:
    """What the browser's side of a login is handed."""

    config: ConfigReader
    qrlogins: QRLoginStore
    codepool: CodeSource
    #: The mini program whose codes a source shows (``wiring.Services.mini_program``).
    mini_program: Callable[[IdentitySource], MiniProgram]
    #: The hosted page's authorization requests a new login may answer (``oidc/authorize.py``).
    requests: AuthorizationRequestStore
    events: StatusEvents
    waiting: Waiting
    audit: AuditSink
    clock: Clock


async def choose_source(
    config: ConfigReader, pool: Pool, application: Application, unique_id: str | None
) -> IdentitySource:
    """The named source when the application has it enabled, else its only one."""
    sources = await config.enabled_identity_sources(pool.id, application.client_id)
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
    ports: QRLoginPorts, pool_slug: str, request: CreateRequest, context: RequestContext
) -> Created:
    # Everything the request alone decides is checked before a scene is leased: with
    # single-use codes, each lease spends a code from WeChat's budget.
    challenge = validate_challenge(request.code_challenge, request.code_challenge_method)
    scope = normalise_scope(request.scope)
    nonce, state = _bounded("nonce", request.nonce), _bounded("state", request.state)
    pool = await lookups.load_pool(ports.config, pool_slug)
    application = await lookups.load_application(ports.config, pool, request.client_id)
    source = await choose_source(ports.config, pool, application, request.connection)
    bound = (
        await authorize.load_for_client(
            ports.requests, pool.slug, application.client_id, request.authorization_request
        )
        if request.authorization_request is not None
        else None
    )
    mini_program = ports.mini_program(source)
    now = ports.clock()
    secret = new_secret()
    # A recycled code may have been photographed during an earlier login: the phone must
    # then prove it sees this login's screen by picking the digits shown there.
    match, choices = new_match() if ports.codepool.recycles else (None, ())
    while True:
        # A scene from the code pool; leased to this login id, so no other login can show it.
        login_id = new_id("qrl")
        scene = await ports.codepool.lease(source, login_id)
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
            scope=scope,
            nonce=nonce,
            state=state,
            request=context,
            updated_at=now,
            match=match,
            match_choices=choices,
        )
        if await ports.qrlogins.create(login):
            if bound is not None:
                await authorize.bind(ports.requests, login, bound)
            # The dashboard's funnel starts here (admin/activity.py).
            await audit.emit(
                ports.audit,
                "qrlogin.created",
                pool_id=pool.id,
                actor=application.client_id,
                ip=context.ip,
                qrlogin=login.id,
                connection=source.unique_id,
                expires_at=login.expires_at,
            )
            return Created(login, secret)


async def authenticate(
    qrlogins: QRLoginStore, pool: str, login_id: str, secret: str | None
) -> QRLogin:
    """The login, for the holder of its secret under its own pool's issuer only; anyone else
    learns nothing at all."""
    login = await qrlogins.get(login_id)
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


async def _reread(ports: QRLoginPorts, current: QRLogin) -> QRLogin:
    """The login as stored now; what was known before while the store can't be reached (the
    waiting browser keeps waiting rather than failing: it is asked again soon)."""
    try:
        stored = await ports.qrlogins.get(current.id)
    except UNAVAILABLE:
        stored = None
    return (stored or current).current(ports.clock())


async def wait_for_change(
    ports: QRLoginPorts,
    login_id: str,
    read: Callable[[], Awaitable[QRLogin]],
    last: str | None,
    wait: float,
    keepalive: float = KEEPALIVE,
) -> QRLogin:
    """Long poll: the login as soon as its status differs from ``last``, or after ``wait``.

    ``read`` is the poll's one read of the stored login (the caller's authentication, which
    raises for anyone who may not see it). It runs once subscribed, so a change between the
    two is never missed, and a re-poll costs that one read. The wait also ends at the login's
    deadline, when it turns expired without anyone writing.

    A change published while the subscription was being made again (Redis restarted) is lost
    to it, so the stored login is read again then (``RESYNC``) and every ``keepalive``
    seconds. A wait that simply runs out reads nothing more: the subscription would have said
    what changed, and a change written without being published is read by the browser's next
    poll at once. When the process begins to stop, the answer is the current status at once.
    """
    deadline = ports.clock() + min(max(wait, 0.0), MAX_WAIT)
    async with ports.events.subscribe(status_channel(login_id)) as events:
        current = await read()
        with metrics.waiting_browser(), ports.waiting.watch(events):
            while current.status.value == last and not ports.waiting.stopping:
                timeout = min(deadline, current.expires_at) - ports.clock()
                if timeout <= 0:
                    current = current.current(ports.clock())
                    break
                waited = min(timeout, keepalive)
                message = await events.next(waited)
                if message:
                    current = ports.qrlogins.decode(message).current(ports.clock())
                    metrics.pushed(current, ports.clock())
                elif message is None and waited < keepalive:
                    current = current.current(ports.clock())
                else:
                    current = await _reread(ports, current)
    await ports.qrlogins.note_expired(current)
    return current


async def stream(
    ports: QRLoginPorts, login: QRLogin, keepalive: float = KEEPALIVE
) -> AsyncIterator[QRLogin | None]:
    """Server-sent events: the login now and after every change, until it is terminal or the
    process begins to stop. ``None`` asks the caller to send a keep-alive comment.

    At every keep-alive and after the subscription was made again the stored login is read
    again, so a change published while Redis was away still reaches the browser."""
    with metrics.waiting_browser():
        async with ports.events.subscribe(status_channel(login.id)) as events:
            with ports.waiting.watch(events):
                current = await ports.qrlogins.get(login.id) or login.current(ports.clock())
                yield current
                while not current.status.terminal and not ports.waiting.stopping:
                    now = ports.clock()
                    timeout = min(keepalive, max(current.expires_at - now, 0.0))
                    message = await events.next(timeout) if timeout > 0 else None
                    if message:
                        updated = ports.qrlogins.decode(message).current(ports.clock())
                    else:
                        updated = await _reread(ports, current)
                    if (
                        updated.status is current.status
                        and updated.updated_at == current.updated_at
                    ):
                        if message is None:
                            yield None
                        continue
                    current = updated
                    if message:
                        metrics.pushed(current, ports.clock())
                    else:
                        await ports.qrlogins.note_expired(current)
                    yield current


async def cancel(ports: QRLoginPorts, login: QRLogin) -> None:
    """The browser gives up. Cancelling twice is fine; cancelling a finished login is not."""

    def change(current: QRLogin) -> QRLogin:
        if current.current(ports.clock()).status is Status.CANCELLED:
            return current
        return machine.cancel(current, ports.clock(), "cancelled_by_browser")

    await ports.qrlogins.update(login.id, change)
    await audit.emit(
        ports.audit, "login.cancelled", pool_id=login.pool_id, by="browser", qrlogin=login.id
    )


async def image(ports: QRLoginPorts, login: QRLogin) -> CodeImage:
    """The mini program code for the login's scene, with the source's logo in its centre."""
    if login.status.terminal:
        raise Conflict(f"qrlogin_{login.status.value}")
    source = await ports.config.get_identity_source(login.pool_id, login.connection)
    if source is None:
        raise NotFound("unknown_connection")
    return await ports.codepool.image(source, login)
