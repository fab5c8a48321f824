"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3).

This provider keeps no browser session of its own (every login is a fresh scan), so what a
relying party ends here is its grant: the refresh tokens the client holds for the user, and
the access tokens issued beside them. The user is named by ``id_token_hint``, which may have
expired (§2: "the OP SHOULD accept ID Tokens … even when expired") but must be ours.

``post_logout_redirect_uri`` must exactly match one the client registered, and needs the
client to be known from the hint or ``client_id``; otherwise nobody is redirected (§3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from minilogin.core.entities import Application, Pool
from minilogin.core.errors import InvalidRequest, Unauthorized
from minilogin.oidc.audit import emit
from minilogin.oidc.issue import revoke_access_tokens
from minilogin.ports import (
    ApplicationReader,
    AuditSink,
    Clock,
    PoolSigners,
    RefreshTokenStore,
    RevokedTokenStore,
)

MAX_PARAM = 4096


@dataclass(frozen=True, slots=True)
class LoggedOut:
    application: Application | None
    redirect: str | None  # where the browser goes next, with ``state``; None: a page says so


@dataclass(frozen=True, slots=True)
class Logout:
    """What logout is handed: the client named, the grant's refresh tokens and access-token
    denylist, the pool's keys (to read the hint) and the audit sink."""

    applications: ApplicationReader
    refresh_tokens: RefreshTokenStore
    revoked: RevokedTokenStore
    keys: PoolSigners
    audit: AuditSink
    clock: Clock


async def _hint_claims(
    keys: PoolSigners, issuer: str, pool: Pool, hint: str | None
) -> dict[str, object] | None:
    if hint is None:
        return None
    try:
        # Only this pool's keys: a hint another pool signed is not ours.
        claims = (await keys.signer(pool.id)).verify(hint)
    except Unauthorized as error:
        raise InvalidRequest("invalid_id_token_hint") from error
    if claims.get("iss") != issuer or not isinstance(claims.get("sub"), str):
        raise InvalidRequest("invalid_id_token_hint")
    return claims


async def end_session(
    ports: Logout, issuer: str, pool: Pool, params: Mapping[str, str], ip: str | None
) -> LoggedOut:
    if any(len(value) > MAX_PARAM for value in params.values()):
        raise InvalidRequest("invalid_request", f"a parameter is longer than {MAX_PARAM}")
    claims = await _hint_claims(ports.keys, issuer, pool, params.get("id_token_hint"))
    client_id = params.get("client_id")
    audience = claims.get("aud") if claims else None
    if isinstance(audience, list):
        audience = audience[0] if len(audience) == 1 else None
    if client_id is not None and audience is not None and client_id != audience:
        raise InvalidRequest("invalid_id_token_hint")
    client_id = client_id or (audience if isinstance(audience, str) else None)
    application = (
        await ports.applications.get_application(pool.id, client_id) if client_id else None
    )
    if client_id is not None and application is None:
        raise InvalidRequest("unknown_client")
    redirect = params.get("post_logout_redirect_uri")
    if redirect is not None:
        if application is None or redirect not in application.post_logout_redirect_uris:
            raise InvalidRequest("post_logout_redirect_uri_mismatch")
        state = params.get("state")
        if state is not None:
            separator = "&" if urlsplit(redirect).query else "?"
            redirect = f"{redirect}{separator}{urlencode({'state': state})}"
    if claims is not None and application is not None:
        user_id = str(claims["sub"])
        tokens = await ports.refresh_tokens.revoke_user_refresh_tokens(
            pool.id, user_id, application.client_id, datetime.fromtimestamp(ports.clock(), UTC)
        )
        await revoke_access_tokens(ports.revoked, ports.clock, tokens)
        await emit(
            ports.audit,
            "logout",
            pool_id=pool.id,
            actor=application.client_id,
            subject=user_id,
            ip=ip,
            revoked=len(tokens),
        )
    return LoggedOut(application, redirect)
