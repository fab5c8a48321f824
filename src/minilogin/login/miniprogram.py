"""The mini program's side of a QR login (API.md §3): scan, confirm, cancel."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from typing import Any

from minilogin.core import qrlogin as machine
from minilogin.core.association import Outcome
from minilogin.core.entities import IdentitySource, LoginMode
from minilogin.core.errors import Conflict, Forbidden, Gone, InvalidRequest, NotFound
from minilogin.core.phone import from_wechat
from minilogin.core.qrlogin import QRLogin, Scanner, Status
from minilogin.core.tokens import is_valid_scene, new_secret
from minilogin.login import accounts, audit, authorization
from minilogin.lookups import iso, logo_url
from minilogin.storage.ephemeral.records import AFTERLIFE, MiniProgramSession
from minilogin.wechat.types import MiniProgram
from minilogin.wiring import Services


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
    """The first scanner of a live scene wins. The ``js_code`` is exchanged before anything
    about the scene is told, with the mini program of the scene's login, or the platform's
    for a scene that names none: a bad code then answers alike for live and unknown scenes,
    so it can't be used to find out which scenes are live."""
    if not is_valid_scene(scene):
        raise NotFound("scene_not_found")  # never a live scene: this tells nothing
    login = await svc.qrlogins.find_by_scene(scene)
    source = None
    if login is not None:
        source = await svc.config.get_identity_source(login.pool_id, login.connection)
    app = (
        svc.mini_program(source, login.app_id)
        if login is not None and source is not None
        else MiniProgram(svc.settings.wechat_app_id, svc.settings.wechat_app_secret)
    )
    session = await svc.wechat.code_to_session(app, js_code)
    if login is None or source is None:
        raise NotFound("scene_not_found")
    if login.status is Status.EXPIRED:
        raise Gone("qrlogin_expired")
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
        application_logo=logo_url(svc.settings.issuer(login.pool), source)
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


async def _check_match(svc: Services, login: QRLogin, picked: str | None, ip: str | None) -> None:
    """Number matching: the phone must send the digits the PC shows. A wrong pick ends the
    login (cancelled, ``match_failed``): someone who scanned a photo of the code, and can't
    see the screen, gets one guess among the choices, and the PC learns of it."""
    if login.match is None:
        return
    if not picked:
        raise InvalidRequest("match_required")
    if hmac.compare_digest(picked.encode(), login.match.encode()):
        return
    await svc.qrlogins.update(login.id, lambda cur: machine.fail(cur, svc.clock(), "match_failed"))
    await audit.record(
        svc,
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
    svc: Services,
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
    login = await _session_login(svc, token)
    _check_confirmable(login)
    assert login.scanner is not None
    await _check_match(svc, login, match, ip)
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
