"""The token endpoint (RFC 6749 §3.2; OpenID Connect Core §3.1.3): checks the grant type and
the client (``client_auth.py``), then hands the request to the grant's handler, one per grant
type as registered here (``grants/``). Every grant answers a rotating refresh token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from minilogin.core.errors import MiniloginError, OAuthError
from minilogin.oidc.client_auth import authenticated_client
from minilogin.oidc.grants import GrantHandler, TokenRequest
from minilogin.oidc.grants.authorization_code import AuthorizationCodeGrant
from minilogin.oidc.grants.refresh_token import RefreshTokenGrant
from minilogin.ports import ApplicationReader, PoolReader


@dataclass(frozen=True, slots=True)
class TokenEndpoint:
    """The pool and client lookups every grant shares, and the registered grant handlers."""

    pools: PoolReader
    applications: ApplicationReader
    authorization_code: AuthorizationCodeGrant
    refresh_token: RefreshTokenGrant

    @property
    def grants(self) -> dict[str, GrantHandler]:
        """The grant types this provider supports (Discovery's ``grant_types_supported``)."""
        return {"authorization_code": self.authorization_code, "refresh_token": self.refresh_token}

    async def exchange(
        self,
        issuer: str,
        pool_slug: str,
        form: Mapping[str, str],
        authorization: str | None,
        ip: str | None = None,
    ) -> dict[str, object]:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        handler = self.grants.get(grant_type)
        if handler is None:
            raise OAuthError("unsupported_grant_type", f"{grant_type} is not supported")
        pool = await self.pools.get_pool(pool_slug)
        if pool is None:
            raise OAuthError("invalid_request", "unknown pool")
        client = await authenticated_client(self.applications, pool.id, form, authorization)
        return await handler(TokenRequest(issuer, pool, client, form, ip))


def oauth_error_body(error: MiniloginError) -> dict[str, str]:
    body = {"error": error.code}
    if error.detail:
        body["error_description"] = error.detail
    return body
