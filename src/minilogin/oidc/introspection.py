"""Token introspection (RFC 7662) for resource servers: is this token of this pool active,
and for whom. Only confidential clients may ask (§2.1: the endpoint requires the caller's
authorization); a token that is unknown, expired, revoked, rotated away or another pool's is
``{"active": false}`` and nothing more (§2.2), and so is one issued to another client unless
the caller is registered as a resource server (§4: the server decides what a caller may
learn).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from minilogin.core.entities import Application, Pool
from minilogin.core.errors import OAuthError, Unauthorized
from minilogin.core.tokens import digest
from minilogin.ports import Clock, PoolSigners, RefreshTokenStore, RevokedTokenStore

INACTIVE: dict[str, object] = {"active": False}
MAX_TOKEN = 4096


@dataclass(frozen=True, slots=True)
class Introspection:
    """What introspection reads: the refresh tokens, the access-token denylist and the pool's
    keys."""

    refresh_tokens: RefreshTokenStore
    revoked: RevokedTokenStore
    keys: PoolSigners
    clock: Clock


async def introspect(
    ports: Introspection,
    issuer: str,
    pool: Pool,
    application: Application,
    form: Mapping[str, str],
) -> dict[str, object]:
    if application.is_public:
        raise OAuthError("invalid_client", "introspection needs a confidential client", status=401)
    token = form.get("token")
    if not token:
        raise OAuthError("invalid_request", "token is required")
    if len(token) > MAX_TOKEN:
        return INACTIVE
    hint = form.get("token_type_hint")
    lookups = (_refresh, _access) if hint == "refresh_token" else (_access, _refresh)
    for lookup in lookups:
        answer = await lookup(ports, issuer, pool, token)
        if answer is not None:
            return answer if _may_know(application, answer) else INACTIVE
    return INACTIVE


def _may_know(application: Application, answer: Mapping[str, object]) -> bool:
    """A client learns only about its own tokens; a resource server about its pool's."""
    if not answer.get("active") or application.resource_server:
        return True
    return answer.get("client_id") == application.client_id


async def _access(
    ports: Introspection, issuer: str, pool: Pool, token: str
) -> dict[str, object] | None:
    try:
        claims = (await ports.keys.signer(pool.id)).verify(token)
    except Unauthorized:
        return None
    exp, token_id = claims.get("exp"), claims.get("jti")
    if claims.get("iss") != issuer or not isinstance(exp, int) or not isinstance(token_id, str):
        return INACTIVE
    if exp <= ports.clock() or await ports.revoked.is_revoked(token_id):
        return INACTIVE
    answer: dict[str, object] = {"active": True, "token_type": "Bearer"}
    for name in ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "auth_time"):
        if name in claims:
            answer[name] = claims[name]
    return answer


async def _refresh(
    ports: Introspection, issuer: str, pool: Pool, token: str
) -> dict[str, object] | None:
    stored = await ports.refresh_tokens.find_refresh_token(digest(token))
    if stored is None or stored.pool_id != pool.id:
        return None
    now = ports.clock()
    if stored.used_at or stored.revoked_at or stored.expires_at.timestamp() <= now:
        return INACTIVE
    answer: dict[str, object] = {
        "active": True,
        "token_type": "refresh_token",
        "scope": stored.scope,
        "client_id": stored.client_id,
        "sub": stored.user_id,
        "exp": int(stored.expires_at.timestamp()),
        "iss": issuer,
        "auth_time": stored.auth_time,
    }
    if stored.created_at is not None:
        answer["iat"] = int(stored.created_at.timestamp())
    return answer
