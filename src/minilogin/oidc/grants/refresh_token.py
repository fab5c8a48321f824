"""The ``refresh_token`` grant (RFC 6749 §6) with rotation and reuse detection (OAuth 2.0
Security Best Current Practice, RFC 9700 §4.14.2): every use of a refresh token answers a new
one and retires the old; presenting a retired token again means it leaked, so its whole family
(every token rotated from the same login) is revoked, with the access tokens issued beside
them.

Refreshed ID tokens follow OpenID Connect Core §12.2: same ``iss``, ``sub``, ``aud`` and
original ``auth_time``, no ``nonce``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from minilogin.core.claims import TokenContext, user_claims
from minilogin.core.entities import RefreshToken
from minilogin.core.errors import OAuthError
from minilogin.core.tokens import digest
from minilogin.oidc.audit import emit
from minilogin.oidc.grants import TokenRequest
from minilogin.oidc.issue import mint, revoke_family
from minilogin.ports import (
    AuditSink,
    Clock,
    PoolSigners,
    RefreshTokenStore,
    RevokedTokenStore,
    UserLookup,
)

MAX_TOKEN = 256


def narrowed_scope(granted: str, asked: str | None) -> str:
    """RFC 6749 §6: a refresh may ask for fewer scopes than were granted, never more."""
    if asked is None:
        return granted
    have = granted.split()
    wanted = set(asked.split())
    if not wanted <= set(have):
        raise OAuthError("invalid_scope", "the scope exceeds what was granted")
    return " ".join(s for s in have if s in wanted or s == "openid")


@dataclass(frozen=True, slots=True)
class RefreshTokenGrant:
    """The handler, with the ports it uses (fosite's one handler per grant)."""

    users: UserLookup
    refresh_tokens: RefreshTokenStore
    revoked: RevokedTokenStore
    keys: PoolSigners
    audit: AuditSink
    clock: Clock

    async def __call__(self, request: TokenRequest) -> dict[str, object]:
        pool, client, form = request.pool, request.client, request.form
        presented = form.get("refresh_token")
        if not presented:
            raise OAuthError("invalid_request", "refresh_token is required")
        stored = (
            await self.refresh_tokens.find_refresh_token(digest(presented))
            if len(presented) <= MAX_TOKEN
            else None
        )
        # A token of another client or pool is as unknown to this client as a made-up one.
        if stored is None or (stored.pool_id, stored.client_id) != (pool.id, client.client_id):
            raise OAuthError("invalid_grant", "the refresh token is invalid")
        if stored.revoked_at is not None:
            raise OAuthError("invalid_grant", "the refresh token was revoked")
        if stored.used_at is not None:
            await self._reused(request, stored)
        now = self.clock()
        if stored.expires_at.timestamp() <= now:
            raise OAuthError("invalid_grant", "the refresh token has expired")
        scope = narrowed_scope(stored.scope, form.get("scope"))
        user = await self.users.get_user(pool.id, stored.user_id)
        if user is None or user.blocked:
            raise OAuthError("invalid_grant", "the user can no longer log in")
        context = TokenContext(
            issuer=request.issuer,
            client_id=client.client_id,
            scope=scope,
            auth_time=stored.auth_time,
            now=int(now),
            amr=tuple(stored.amr),
        )
        minted = await mint(
            self.keys, pool.id, client, user.id, user_claims(user, scope), context, stored.family_id
        )
        rotated = await self.refresh_tokens.rotate_refresh_token(
            stored.id, minted.refresh, datetime.fromtimestamp(now, UTC)
        )
        if rotated is None:
            # Another request rotated the same token a moment ago: one of the two is a thief.
            await self._reused(request, stored)
        await emit(
            self.audit,
            "token.refreshed",
            pool_id=pool.id,
            actor=client.client_id,
            subject=user.id,
            ip=request.ip,
        )
        return minted.body

    async def _reused(self, request: TokenRequest, stored: RefreshToken) -> NoReturn:
        revoked = await revoke_family(
            self.refresh_tokens, self.revoked, self.clock, stored.family_id
        )
        await emit(
            self.audit,
            "token.refresh_reused",
            pool_id=request.pool.id,
            actor=request.client.client_id,
            subject=stored.user_id,
            ip=request.ip,
            family=stored.family_id,
            revoked=revoked,
        )
        raise OAuthError(
            "invalid_grant", "the refresh token was already used; its family is revoked"
        )
