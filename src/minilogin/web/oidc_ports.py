"""What each part of the OpenID provider (``oidc/``) is handed, picked out of the services:
the provider's routes, the hosted page and the console's "Experience login" build them here
alike."""

from __future__ import annotations

from minilogin.login.authorization import consumption
from minilogin.oidc.grants.authorization_code import AuthorizationCodeGrant
from minilogin.oidc.grants.refresh_token import RefreshTokenGrant
from minilogin.oidc.introspection import Introspection
from minilogin.oidc.logout import Logout
from minilogin.oidc.revocation import Revocation
from minilogin.oidc.token import TokenEndpoint
from minilogin.oidc.userinfo import UserInfo
from minilogin.wiring import Services


def code_grant(svc: Services) -> AuthorizationCodeGrant:
    return AuthorizationCodeGrant(
        codes=svc.codes,
        users=svc.durable,
        redeemed=consumption(svc.qrlogins, svc.clock),
        refresh_tokens=svc.durable,
        revoked=svc.revoked,
        keys=svc.keys,
        audit=svc.audit,
        clock=svc.clock,
    )


def token_endpoint(svc: Services) -> TokenEndpoint:
    """Pools and clients are read through the configuration cache, as on every login."""
    refresh = RefreshTokenGrant(
        users=svc.durable,
        refresh_tokens=svc.durable,
        revoked=svc.revoked,
        keys=svc.keys,
        audit=svc.audit,
        clock=svc.clock,
    )
    return TokenEndpoint(svc.config, svc.config, code_grant(svc), refresh)


def revocation(svc: Services) -> Revocation:
    return Revocation(svc.durable, svc.revoked, svc.keys, svc.audit, svc.clock)


def introspection(svc: Services) -> Introspection:
    return Introspection(svc.durable, svc.revoked, svc.keys, svc.clock)


def user_info(svc: Services) -> UserInfo:
    return UserInfo(svc.config, svc.durable, svc.revoked, svc.keys, svc.clock)


def logout(svc: Services) -> Logout:
    return Logout(svc.config, svc.durable, svc.revoked, svc.keys, svc.audit, svc.clock)
