"""The mini program's side of a QR login (API.md §3): scan, confirm, cancel."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from minilogin.core import qrlogin as machine
from minilogin.core.association import Outcome
from minilogin.core.entities import IdentitySource, LoginMode
from minilogin.core.errors import Conflict, Forbidden, Gone, InvalidRequest, NotFound
from minilogin.core.phone import from_wechat
from minilogin.core.qrlogin import MiniProgramSession, QRLogin, Scanner, Status
from minilogin.core.tokens import is_valid_scene, new_secret
from minilogin.login import accounts
from minilogin.login.accounts import AccountPorts
from minilogin.lookups import iso, logo_url
from minilogin.oidc import audit
from minilogin.ports import (
    AuditSink,
    Authorizer,
    Clock,
    MiniProgramSessionStore,
    QRLoginStore,
)
from minilogin.storage.config_cache import ConfigReader
from minilogin.storage.ephemeral.records import AFTERLIFE
from minilogin.wechat.types import MiniProgram, WeChatLogin


@dataclass(frozen=True, slots=True)
class MiniProgramPorts:
    """What the mini program's side of a login is handed."""

    qrlogins: QRLoginStore
    sessions: MiniProgramSessionStore
    config: ConfigReader
    wechat: WeChatLogin
    #: The mini program whose codes a source shows; with an AppID, the one a code on screen
    #: was made for (``wiring.Services.mini_program``).
    mini_program: Callable[[IdentitySource, str | None], MiniProgram]
    #: The platform's mini program: it exchanges the codes of scenes that name no login.
    platform: MiniProgram
    #: The issuer of a pool, by its slug: where the pool serves its sources' logos.
    issuer: Callable[[str], str]
    audit: AuditSink
    clock: Clock
    accounts: AccountPorts
    authorize: Authorizer


@dataclass(frozen=True, slots=True)
class Scanned:
    session: str
    login: QRLogin
    application_name: str
    application_logo: str | None
    login_only: bool


async def _source(ports: MiniProgramPorts, login: QRLogin) -> IdentitySource:
    source = await ports.config.get_identity_source(login.pool_id, login.connection)
    if source is None:
        raise NotFound("unknown_connection")
    return source


async def scan(ports: MiniProgramPorts, scene: str, js_code: str) -> Scanned:
    """The first scanner of a live scene wins. The ``js_code`` is exchanged before anything
    about the scene is told, with the mini program of the scene's login, or the platform's
    for a scene that names none: a bad code then answers alike for live and unknown scenes,
    so it can't be used to find out which scenes are live."""
    if not is_valid_scene(scene):
        raise NotFound("scene_not_found")  # never a live scene: this tells nothing
    login = await ports.qrlogins.find_by_scene(scene)
    source = None
    if login is not None:
        source = await ports.config.get_identity_source(login.pool_id, login.connection)
    app = (
        ports.mini_program(source, login.app_id)
        if login is not None and source is not None
        else ports.platform
    )
    session = await ports.wechat.code_to_session(app, js_code)
    if login is None or source is None:
        raise NotFound("scene_not_found")
    if login.status is Status.EXPIRED:
        raise Gone("qrlogin_expired")
    scanner = Scanner(app_id=login.app_id, openid=session.openid, unionid=session.unionid)
    login = await ports.qrlogins.update(
        login.id, lambda cur: machine.scan(cur, ports.clock(), scanner), seen=login
    )
    await audit.emit(
        ports.audit,
        "qrlogin.scanned",
        pool_id=login.pool_id,
        subject=session.openid,
        qrlogin=login.id,
        connection=login.connection,
    )
    application = await ports.config.get_application(login.pool_id, login.client_id)
    pool = await ports.config.get_pool(login.pool)
    token = new_secret()
    ttl = max(login.expires_at - ports.clock(), 1.0) + AFTERLIFE
    await ports.sessions.put(token, MiniProgramSession(login.id, login.app_id, session.openid), ttl)
    return Scanned(
        session=token,
        login=login,
        application_name=application.name if application else login.client_id,
        application_logo=logo_url(ports.issuer(login.pool), source)
        or (pool.logo_url if pool else None),
        login_only=source.login_mode is LoginMode.LOGIN_ONLY,
    )


def scan_body(scanned: Scanned, now: float) -> dict[str, Any]:
    login = scanned.login
    body: dict[str, Any] = {
        "session": scanned.session,
        "application": {"name": scanned.application_name, "logo_url": scanned.application_logo},
        "request": {
            "browser": login.request.browser,
            "ip": login.request.ip,
            "location": login.request.location,
            "created_at": iso(login.created_at),
        },
        "login_only": scanned.login_only,
        "expires_in": login.expires_in(now),
    }
    if login.match is not None:
        # The phone asks its user to pick the digits the PC shows, among these.
        body["match"] = {"required": True, "choices": list(login.match_choices)}
    return body


async def _session_login(ports: MiniProgramPorts, token: str) -> QRLogin:
    session = await ports.sessions.get(token) if token else None
    login = await ports.qrlogins.get(session.qrlogin_id) if session else None
    if session is None or login is None:
        raise NotFound("session_not_found")
    if login.scanner is None or login.scanner.openid != session.openid:
        raise NotFound("session_not_found")
    return login


def _check_confirmable(login: QRLogin) -> None:
    if login.status is Status.EXPIRED:
        raise Gone("qrlogin_expired")
    if login.status is not Status.SCANNED:
        raise Conflict(f"qrlogin_{login.status.value}")


async def _check_match(
    ports: MiniProgramPorts, login: QRLogin, picked: str | None, ip: str | None
) -> None:
    """Number matching: the phone must send the digits the PC shows. A wrong pick ends the
    login (cancelled, ``match_failed``): someone who scanned a photo of the code, and can't
    see the screen, gets one guess among the choices, and the PC learns of it."""
    if login.match is None:
        return
    if not picked:
        raise InvalidRequest("match_required")
    if hmac.compare_digest(picked.encode(), login.match.encode()):
        return
    await ports.qrlogins.update(
        login.id, lambda cur: machine.fail(cur, ports.clock(), "match_failed")
    )
    await audit.emit(
        ports.audit,
        "login.refused",
        pool_id=login.pool_id,
        subject=login.scanner.openid if login.scanner else None,
        ip=ip,
        reason="match_failed",
        connection=login.connection,
        qrlogin=login.id,
    )
    raise Forbidden("match_failed")


async def confirm(
    ports: MiniProgramPorts,
    token: str,
    phone_code: str,
    profile: dict[str, str],
    ip: str | None,
    match: str | None = None,
) -> QRLogin:
    """Allow the phone number: WeChat tells the number, the source's rules pick the account.

    Everything that can fail (the session, the login's state, the digits of number
    matching, WeChat) is checked before any account is touched, so a failure leaves the login
    ``scanned`` and confirmable again; except a wrong pick of digits, which ends it.
    """
    login = await _session_login(ports, token)
    _check_confirmable(login)
    assert login.scanner is not None
    await _check_match(ports, login, match, ip)
    source = await _source(ports, login)
    number = await ports.wechat.get_phone_number(
        ports.mini_program(source, login.app_id), phone_code, openid=login.scanner.openid
    )
    phone = from_wechat(number.country_code, number.pure_phone_number)
    # The login may have moved on while WeChat answered; its session and scanner stay.
    current = await ports.qrlogins.get(login.id)
    if current is None:
        raise NotFound("session_not_found")
    _check_confirmable(current)
    login = current
    assert login.scanner is not None
    scanner = Scanner(
        app_id=login.scanner.app_id,
        openid=login.scanner.openid,
        unionid=login.scanner.unionid,
        nickname=profile.get("nickname"),
        avatar_url=profile.get("avatar_url"),
    )
    resolution = await accounts.resolve(ports.accounts, source, scanner, phone, profile)
    outcome = resolution.decision.outcome
    if outcome is Outcome.REFUSE:
        reason = resolution.decision.error or "account_not_found"
        await ports.qrlogins.update(login.id, lambda cur: machine.fail(cur, ports.clock(), reason))
        await audit.emit(
            ports.audit,
            "login.refused",
            pool_id=login.pool_id,
            subject=login.scanner.openid,
            ip=ip,
            reason=reason,
            connection=login.connection,
            qrlogin=login.id,
        )
        raise Forbidden(reason)
    if outcome is Outcome.ASK_BINDING:

        def bind(cur: QRLogin) -> QRLogin:
            return machine.require_binding(
                replace(cur, scanner=scanner),
                ports.clock(),
                phone,
                login_only=source.login_mode is LoginMode.LOGIN_ONLY,
            )

        binding = await ports.qrlogins.update(login.id, bind)
        await audit.emit(
            ports.audit,
            "login.needs_binding",
            pool_id=login.pool_id,
            subject=scanner.openid,
            ip=ip,
            connection=login.connection,
        )
        return binding
    assert resolution.user is not None
    user = resolution.user
    return await ports.authorize(
        login,
        user,
        scanner,
        ip=ip,
        created=resolution.created,
        linked=outcome is Outcome.LINK,
    )


async def cancel(
    ports: MiniProgramPorts, token: str, ip: str | None, reason: str = "cancelled_by_user"
) -> QRLogin:
    """The person on the phone said no: tapped "Deny", declined the phone number, or the mini
    program has no phone-number quota left."""
    login = await _session_login(ports, token)
    cancelled = await ports.qrlogins.update(
        login.id, lambda cur: machine.cancel(cur, ports.clock(), reason)
    )
    await audit.emit(
        ports.audit,
        "login.cancelled",
        pool_id=login.pool_id,
        subject=login.scanner.openid if login.scanner else None,
        ip=ip,
        by="phone",
        qrlogin=login.id,
    )
    return cancelled
