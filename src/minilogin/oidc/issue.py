"""Minting the tokens of a successful grant (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3):
a JWT access token, an ID token and a refresh token of a rotation family.

Shared by the ``authorization_code`` and ``refresh_token`` grants, so both answer the same
shape and every refresh token is recorded the same way: only its hash, its family, and the
access token issued beside it (revoked with the family).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from minilogin.core.claims import TokenContext, access_token_claims, id_token_of
from minilogin.core.entities import Application, RefreshToken
from minilogin.core.tokens import digest, new_id, new_secret
from minilogin.ports import Clock, PoolSigners, RefreshTokenStore, RevokedTokenStore


@dataclass(frozen=True, slots=True)
class Minted:
    body: dict[str, object]
    access_token_id: str
    refresh: RefreshToken
    refresh_token: str


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


async def mint(
    keys: PoolSigners,
    pool_id: str,
    application: Application,
    user_id: str,
    released: Mapping[str, object],
    ctx: TokenContext,
    family_id: str,
) -> Minted:
    """The token response for the user ``user_id`` with the claims about them that the scope
    released (``core.claims.user_claims``); the caller stores ``refresh`` (added or rotated
    in)."""
    token_id = new_id("at")
    signer = await keys.signer(pool_id)
    access_token = signer.sign(
        access_token_claims(user_id, ctx, application.access_token_lifetime, token_id),
        typ="at+jwt",
    )
    id_token = signer.sign(
        id_token_of(released, ctx, application.id_token_lifetime),
        alg=application.id_token_signed_response_alg,
    )
    refresh_token = new_secret()
    refresh = RefreshToken(
        pool_id=pool_id,
        client_id=application.client_id,
        user_id=user_id,
        family_id=family_id,
        token_hash=digest(refresh_token),
        scope=ctx.scope,
        auth_time=ctx.auth_time,
        amr=list(ctx.amr),
        access_token_id=token_id,
        access_expires_at=_at(ctx.now + application.access_token_lifetime),
        expires_at=_at(ctx.now + application.refresh_token_lifetime),
        created_at=_at(ctx.now),
    )
    body: dict[str, object] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": application.access_token_lifetime,
        "id_token": id_token,
        "refresh_token": refresh_token,
        "scope": ctx.scope,
    }
    return Minted(body, token_id, refresh, refresh_token)


def family_for_code(code: str) -> str:
    """The refresh family an authorization code starts. Derived from the code, so that a
    replayed code finds the family to revoke without any record of its own."""
    return f"rtf_{digest(code)[:32]}"


async def revoke_family(
    refresh_tokens: RefreshTokenStore, revoked: RevokedTokenStore, clock: Clock, family_id: str
) -> int:
    """Revoke a family's refresh tokens and the access tokens issued with them that are still
    alive; answers how many refresh tokens the family had."""
    tokens = await refresh_tokens.revoke_refresh_family(family_id, _at(clock()))
    await revoke_access_tokens(revoked, clock, tokens)
    return len(tokens)


async def revoke_access_tokens(
    revoked: RevokedTokenStore, clock: Clock, tokens: list[RefreshToken]
) -> None:
    now = clock()
    for token in tokens:
        if token.access_token_id and token.access_expires_at:
            ttl = token.access_expires_at.timestamp() - now
            if ttl > 0:
                await revoked.revoke(token.access_token_id, ttl)
