"""What each part of the OpenID provider (``oidc/``) is handed, picked out of the services:
the provider's routes, the hosted page and the console's "Experience login" build them here
alike."""

from __future__ import annotations

from minilogin.oidc.grants.authorization_code import AuthorizationCodeGrant
from minilogin.oidc.grants.refresh_token import RefreshTokenGrant
from minilogin.oidc.introspection import Introspection
from minilogin.oidc.keys import Signer
from minilogin.oidc.logout import Logout
from minilogin.oidc.revocation import Revocation
from minilogin.oidc.token import TokenEndpoint
from minilogin.oidc.userinfo import UserInfo
from minilogin.wiring import Services


class SharedKeys:
    """Every pool signs with the one key set the service loaded (``Signer.load``)."""

    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    async def signer(self, pool_id: str) -> Signer:
        return self._signer


def _keys(svc: Services) -> SharedKeys:
    return SharedKeys(svc.signer)


def code_grant(svc: Services) -> AuthorizationCodeGrant:
    return AuthorizationCodeGrant(
        codes=svc.codes,
        users=svc.durable,
        qrlogins=svc.qrlogins,
        refresh_tokens=svc.durable,
        revoked=svc.revoked,
        keys=_keys(svc),
        audit=svc.audit,
        clock=svc.clock,
    )


def token_endpoint(svc: Services) -> TokenEndpoint:
    """Pools and clients are read through the configuration cache, as on every login."""
    refresh = RefreshTokenGrant(
        users=svc.durable,
        refresh_tokens=svc.durable,
        revoked=svc.revoked,
        keys=_keys(svc),
        audit=svc.audit,
        clock=svc.clock,
    )
    return TokenEndpoint(svc.config, svc.config, code_grant(svc), refresh)


def revocation(svc: Services) -> Revocation:
    return Revocation(svc.durable, svc.revoked, _keys(svc), svc.audit, svc.clock)


def introspection(svc: Services) -> Introspection:
    return Introspection(svc.durable, svc.revoked, _keys(svc), svc.clock)


def user_info(svc: Services) -> UserInfo:
    return UserInfo(svc.config, svc.durable, svc.revoked, _keys(svc), svc.clock)


def logout(svc: Services) -> Logout:
    return Logout(svc.config, svc.durable, svc.revoked, _keys(svc), svc.audit, svc.clock)
