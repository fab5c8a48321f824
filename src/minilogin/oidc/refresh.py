"""The ``refresh_token`` grant (RFC 6749 §6) with rotation and reuse detection (OAuth 2.0
Security Best Current Practice §4.14.2): every use of a refresh token answers a new one and
retires the old; presenting a retired token again means it leaked, so its whole family (every
token rotated from the same login) is revoked, with the access tokens issued beside them.

Refreshed ID tokens follow OpenID Connect Core §12.2: same ``iss``, ``sub``, ``aud`` and
original ``auth_time``, no ``nonce``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from minilogin.core.claims import TokenContext
from minilogin.core.entities import Application, Pool
from minilogin.core.errors import OAuthError
from minilogin.core.tokens import digest
from minilogin.login import audit
from minilogin.oidc.issue import mint, revoke_family
from minilogin.wiring import Services

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


async def refresh(
    svc: Services,
    pool: Pool,
    application: Application,
    form: Mapping[str, str],
    ip: str | None,
) -> dict[str, object]:
    presented = form.get("refresh_token")
    if not presented:
        raise OAuthError("invalid_request", "refresh_token is required")
    stored = (
        await svc.durable.find_refresh_token(digest(presented))
        if len(presented) <= MAX_TOKEN
        else None
    )
    # A token of another client or pool is as unknown to this client as a made-up one.
    if stored is None or (stored.pool_id, stored.client_id) != (pool.id, application.client_id):
        raise OAuthError("invalid_grant", "the refresh token is invalid")
    if stored.revoked_at is not None:
        raise OAuthError("invalid_grant", "the refresh token was revoked")
    if stored.used_at is not None:
        await _reused(svc, pool, application, stored.family_id, stored.user_id, ip)
    now = svc.clock()
    if stored.expires_at.timestamp() <= now:
        raise OAuthError("invalid_grant", "the refresh token has expired")
    scope = narrowed_scope(stored.scope, form.get("scope"))
    user = await svc.durable.get_user(pool.id, stored.user_id)
    if user is None or user.blocked:
        raise OAuthError("invalid_grant", "the user can no longer log in")
    ctx = TokenContext(
        issuer=svc.settings.issuer(pool.slug),
        client_id=application.client_id,
        scope=scope,
        auth_time=stored.auth_time,
        now=int(now),
        amr=tuple(stored.amr),
    )
    minted = await mint(svc, pool.id, application, user, ctx, stored.family_id)
    rotated = await svc.durable.rotate_refresh_token(
        stored.id, minted.refresh, datetime.fromtimestamp(now, UTC)
    )
    if rotated is None:
        # Another request rotated the same token a moment ago: one of the two is a thief.
        await _reused(svc, pool, application, stored.family_id, stored.user_id, ip)
    await audit.record(
        svc,
        "token.refreshed",
        pool_id=pool.id,
        actor=application.client_id,
        subject=user.id,
        ip=ip,
    )
    return minted.body


async def _reused(
    svc: Services,
    pool: Pool,
    application: Application,
    family_id: str,
    user_id: str,
    ip: str | None,
) -> None:
    revoked = await revoke_family(svc, family_id)
    await audit.record(
        svc,
        "token.refresh_reused",
        pool_id=pool.id,
        actor=application.client_id,
        subject=user_id,
        ip=ip,
        family=family_id,
        revoked=revoked,
    )
    raise OAuthError("invalid_grant", "the refresh token was already used; its family is revoked")
