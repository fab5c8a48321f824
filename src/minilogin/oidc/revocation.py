"""Token revocation (RFC 7009) for the tokens this pool issued.

A refresh token is revoked with its whole family and the access tokens issued beside them
(§2.1: "SHOULD also invalidate all access tokens based on the same authorization grant"); an
access token by its ``jti``, until it would have expired. Whatever the token, the answer is
200 (§2.2): an unknown, expired or already revoked token, or one issued to another client,
tells the caller nothing and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from minilogin.core.entities import Application, Pool
from minilogin.core.errors import OAuthError, Unauthorized
from minilogin.core.tokens import digest
from minilogin.oidc.audit import emit
from minilogin.oidc.issue import revoke_family
from minilogin.ports import AuditSink, Clock, PoolSigners, RefreshTokenStore, RevokedTokenStore

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")
MAX_TOKEN = 4096


@dataclass(frozen=True, slots=True)
class Revocation:
    """What revocation is handed: the refresh tokens, the access-token denylist, the pool's
    keys (to read an access token's ``jti``) and the audit sink."""

    refresh_tokens: RefreshTokenStore
    revoked: RevokedTokenStore
    keys: PoolSigners
    audit: AuditSink
    clock: Clock


async def revoke(
    ports: Revocation,
    issuer: str,
    pool: Pool,
    application: Application,
    form: Mapping[str, str],
    ip: str | None,
) -> None:
    token = form.get("token")
    if not token:
        raise OAuthError("invalid_request", "token is required")
    hint = form.get("token_type_hint")
    if hint is not None and hint not in TOKEN_TYPE_HINTS:
        raise OAuthError("unsupported_token_type", f"{hint} is not a token type of this server")
    if len(token) > MAX_TOKEN:
        return
    # The hint only orders the lookups (§2.1); both kinds are tried.
    kinds = ("refresh_token", "access_token") if hint != "access_token" else TOKEN_TYPE_HINTS
    for kind in kinds:
        revoked = await (
            _refresh(ports, pool, application, token)
            if kind == "refresh_token"
            else _access(ports, issuer, pool, application, token)
        )
        if revoked:
            await emit(
                ports.audit,
                "token.revoked",
                pool_id=pool.id,
                actor=application.client_id,
                ip=ip,
                token_type=kind,
            )
            return


async def _refresh(ports: Revocation, pool: Pool, application: Application, token: str) -> bool:
    stored = await ports.refresh_tokens.find_refresh_token(digest(token))
    if stored is None or (stored.pool_id, stored.client_id) != (pool.id, application.client_id):
        return False
    await revoke_family(ports.refresh_tokens, ports.revoked, ports.clock, stored.family_id)
    return True


async def _access(
    ports: Revocation, issuer: str, pool: Pool, application: Application, token: str
) -> bool:
    try:
        claims = (await ports.keys.signer(pool.id)).verify(token)
    except Unauthorized:
        return False
    token_id, exp = claims.get("jti"), claims.get("exp")
    if (
        claims.get("iss") != issuer
        or claims.get("client_id") != application.client_id
        or not isinstance(token_id, str)
        or not isinstance(exp, int)
    ):
        return False
    ttl = exp - ports.clock()
    if ttl > 0:
        await ports.revoked.revoke(token_id, ttl)
    return True
