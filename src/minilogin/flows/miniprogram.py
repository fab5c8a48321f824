"""The mini program's side of a QR login (API.md §3): scan, confirm, cancel."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from minilogin.core import qrlogin as machine
from minilogin.core.association import Outcome
from minilogin.core.entities import IdentitySource, LoginMode
from minilogin.core.errors import Conflict, Forbidden, Gone, NotFound
from minilogin.core.phone import from_wechat
from minilogin.core.qrlogin import QRLogin, Scanner, Status
from minilogin.core.tokens import is_valid_scene, new_secret
from minilogin.flows import accounts, audit, authorization
from minilogin.flows.admin.connections import logo_url
from minilogin.flows.qrlogin import iso
from minilogin.services import Services
from minilogin.storage.ephemeral.records import AFTERLIFE, MiniProgramSession


@dataclass(frozen=True, slots=True)
class Scanned:
    session: str
    login: QRLogin
    application_name: str
    application_logo: str | None
    login_only: bool


async def _source(svc: Services, login: QRLogin) -> IdentitySource:
    source = await svc.config.get_identity_source(login.pool_id, login.connection)
    if source is None:
        raise NotFound("unknown_connection")
    return source


async def scan(svc: Services, scene: str, js_code: str) -> Scanned:
    if not is_valid_scene(scene):
        raise NotFound("scene_not_found")
    login = await svc.qrlogins.find_by_scene(scene)
    if login is None:
        raise NotFound("scene_not_found")
    if login.status is Status.EXPIRED:
        raise Gone("qrlogin_expired")
    source = await _source(svc, login)
    session = await svc.wechat.code_to_session(svc.mini_program(source, login.app_id), js_code)
    scanner = Scanner(app_id=login.app_id, openid=session.openid, unionid=session.unionid)
    login = await svc.qrlogins.update(login.id, lambda cur: machine.scan(cur, svc.clock(), scanner))
    await audit.record(
        svc,
        "qrlogin.scanned",
        pool_id=login.pool_id,
        subject=session.openid,
        qrlogin=login.id,
        connection=login.connection,
    )
    application = await svc.config.get_application(login.pool_id, login.client_id)
    pool = await svc.config.get_pool(login.pool)
    token = new_secret()
    ttl = max(login.expires_at - svc.clock(), 1.0) + AFTERLIFE
    await svc.sessions.put(token, MiniProgramSession(login.id, login.app_id, session.openid), ttl)
    return Scanned(
        session=token,
        login=login,
        application_name=application.name if application else login.client_id,
        application_logo=logo_url(svc, login.pool, source) or (pool.logo_url if pool else None),
        login_only=source.login_mode is LoginMode.LOGIN_ONLY,
    )


def scan_body(scanned: Scanned, now: float) -> dict[str, Any]:
    login = scanned.login
    return {
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


async def _session_login(svc: Services, token: str) -> QRLogin:
    session = await svc.sessions.get(token) if token else None
    login = await svc.qrlogins.get(session.qrlogin_id) if session else None
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


async def confirm(
    svc: Services, token: str, phone_code: str, profile: dict[str, str], ip: str | None
) -> QRLogin:
    """Allow the phone number: WeChat tells the number, the source's rules pick the account.

    Everything that can fail (the session, the login's state, WeChat) is checked before any
    account is touched, so a failure leaves the login ``scanned`` and confirmable again.
    """
    login = await _session_login(svc, token)
    _check_confirmable(login)
    assert login.scanner is not None
    source = await _source(svc, login)
    number = await svc.wechat.get_phone_number(
        svc.mini_program(source, login.app_id), phone_code, openid=login.scanner.openid
    )
    phone = from_wechat(number.country_code, number.pure_phone_number)
    _check_confirmable(await _session_login(svc, token))
    scanner = Scanner(
        app_id=login.scanner.app_id,
        openid=login.scanner.openid,
        unionid=login.scanner.unionid,
        nickname=profile.get("nickname"),
        avatar_url=profile.get("avatar_url"),
    )
    resolution = await accounts.resolve(svc, source, scanner, phone, profile)
    outcome = resolution.decision.outcome
    if outcome is Outcome.REFUSE:
        reason = resolution.decision.error or "account_not_found"
        await svc.qrlogins.update(login.id, lambda cur: machine.fail(cur, svc.clock(), reason))
        await audit.record(
            svc,
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
                svc.clock(),
                phone,
                login_only=source.login_mode is LoginMode.LOGIN_ONLY,
            )

        binding = await svc.qrlogins.update(login.id, bind)
        await audit.record(
            svc,
            "login.needs_binding",
            pool_id=login.pool_id,
            subject=scanner.openid,
            ip=ip,
            connection=login.connection,
        )
        return binding
    assert resolution.user is not None
    user = resolution.user
    return await authorization.authorize(
        svc,
        login,
        user,
        scanner,
        ip=ip,
        created=resolution.created,
        linked=outcome is Outcome.LINK,
    )


async def cancel(
    svc: Services, token: str, ip: str | None, reason: str = "cancelled_by_user"
) -> QRLogin:
    """The person on the phone said no: tapped "Deny", declined the phone number, or the mini
    program has no phone-number quota left."""
    login = await _session_login(svc, token)
    cancelled = await svc.qrlogins.update(
        login.id, lambda cur: machine.cancel(cur, svc.clock(), reason)
    )
    await audit.record(
        svc,
        "login.cancelled",
        pool_id=login.pool_id,
        subject=login.scanner.openid if login.scanner else None,
        ip=ip,
        by="phone",
        qrlogin=login.id,
    )
    return cancelled
