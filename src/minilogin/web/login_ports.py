"""What each flow of the login floor is handed, picked out of the services: the routes of the
QR login API, the mini program API and the hosted page build them here alike."""

from __future__ import annotations

from minilogin.core.entities import User
from minilogin.core.qrlogin import QRLogin, Scanner
from minilogin.login import authorization
from minilogin.login.accounts import AccountPorts
from minilogin.login.authorization import AuthorizationPorts
from minilogin.login.binding import BindingPorts
from minilogin.login.miniprogram import MiniProgramPorts
from minilogin.login.qrlogin import QRLoginPorts
from minilogin.ports import Authorizer
from minilogin.wechat.types import MiniProgram
from minilogin.wiring import Services


def account_ports(svc: Services) -> AccountPorts:
    return AccountPorts(users=svc.durable, audit=svc.audit, clock=svc.clock)


def authorization_ports(svc: Services) -> AuthorizationPorts:
    return AuthorizationPorts(
        codes=svc.codes,
        qrlogins=svc.qrlogins,
        requests=svc.authorization_requests,
        audit=svc.audit,
        clock=svc.clock,
    )


def authorizer(svc: Services) -> Authorizer:
    """The code grant's start (``login/authorization.py``), for the flows that end in it."""
    ports = authorization_ports(svc)

    async def authorize(
        login: QRLogin,
        user: User,
        scanner: Scanner | None = None,
        *,
        ip: str | None,
        **detail: object,
    ) -> QRLogin:
        return await authorization.authorize(ports, login, user, scanner, ip=ip, **detail)

    return authorize


def qrlogin_ports(svc: Services) -> QRLoginPorts:
    return QRLoginPorts(
        config=svc.config,
        qrlogins=svc.qrlogins,
        codepool=svc.codepool,
        mini_program=svc.mini_program,
        requests=svc.authorization_requests,
        events=svc.ephemeral,
        waiting=svc.waiting,
        audit=svc.audit,
        clock=svc.clock,
    )


def binding_ports(svc: Services) -> BindingPorts:
    return BindingPorts(
        users=svc.durable,
        qrlogins=svc.qrlogins,
        counters=svc.ephemeral,
        limits=svc.limits,
        audit=svc.audit,
        clock=svc.clock,
        accounts=account_ports(svc),
        authorize=authorizer(svc),
    )


def miniprogram_ports(svc: Services) -> MiniProgramPorts:
    settings = svc.settings
    return MiniProgramPorts(
        qrlogins=svc.qrlogins,
        sessions=svc.sessions,
        config=svc.config,
        wechat=svc.wechat,
        mini_program=svc.mini_program,
        platform=MiniProgram(settings.wechat_app_id, settings.wechat_app_secret),
        issuer=settings.issuer,
        audit=svc.audit,
        clock=svc.clock,
        accounts=account_ports(svc),
        authorize=authorizer(svc),
    )
