"""What each administration use case is handed, picked out of the services: the admin API,
the console and the ``minilogin admin`` commands build them here alike."""

from __future__ import annotations

from minilogin.admin.access import AccessPorts
from minilogin.admin.activity import ActivityPorts
from minilogin.admin.applications import ApplicationPorts
from minilogin.admin.connections import ConnectionPorts
from minilogin.admin.experience import ExperiencePorts
from minilogin.admin.keys import KeyPorts
from minilogin.admin.pools import PoolPorts
from minilogin.admin.users import UserPorts
from minilogin.web.oidc_ports import code_grant
from minilogin.wechat.types import MiniProgram
from minilogin.wiring import Services


def pool_ports(svc: Services) -> PoolPorts:
    return PoolPorts(pools=svc.durable, config=svc.config, audit=svc.audit)


def application_ports(svc: Services) -> ApplicationPorts:
    return ApplicationPorts(
        pools=svc.durable,
        applications=svc.durable,
        sources=svc.durable,
        config=svc.config,
        audit=svc.audit,
    )


def connection_ports(svc: Services) -> ConnectionPorts:
    async def test_credentials(app_id: str, app_secret: str) -> None:
        await svc.tokens.get(MiniProgram(app_id, app_secret))

    return ConnectionPorts(
        pools=svc.durable,
        sources=svc.durable,
        config=svc.config,
        audit=svc.audit,
        test_credentials=test_credentials,
        codes=svc.codepool,
        qr_expires_in=svc.settings.qr_expires_in,
    )


def experience_ports(svc: Services) -> ExperiencePorts:
    return ExperiencePorts(
        pools=svc.durable,
        applications=svc.durable,
        code_grant=code_grant(svc),
        audit=svc.audit,
    )


def user_ports(svc: Services) -> UserPorts:
    return UserPorts(
        pools=svc.durable, users=svc.durable, audit_events=svc.durable, audit=svc.audit
    )


def activity_ports(svc: Services) -> ActivityPorts:
    return ActivityPorts(
        pools=svc.durable,
        sources=svc.durable,
        audit_events=svc.durable,
        audit=svc.audit,
        clock=svc.clock,
    )


def access_ports(svc: Services) -> AccessPorts:
    return AccessPorts(
        admins=svc.durable,
        audit=svc.audit,
        sessions=svc.ephemeral,
        limits=svc.limits,
        clock=svc.clock,
        admin_token=svc.settings.admin_token,
    )


def key_ports(svc: Services) -> KeyPorts:
    return KeyPorts(
        pools=svc.durable,
        applications=svc.durable,
        keys=svc.durable,
        config=svc.config,
        audit=svc.audit,
        clock=svc.clock,
        cache_ttl=svc.settings.config_cache_ttl,
    )
