"""The UserInfo endpoint (OpenID Connect Core §5.3), authorised by an access token this pool
issued (RFC 6750 §2.1), answering the claims its scope releases (§5.4)."""

from __future__ import annotations

from dataclasses import dataclass

from minilogin.core.claims import user_claims
from minilogin.core.errors import Unauthorized
from minilogin.ports import Clock, PoolReader, PoolSigners, RevokedTokenStore, UserLookup


@dataclass(frozen=True, slots=True)
class UserInfo:
    """What UserInfo reads: the pool, its keys, the access-token denylist and the user."""

    pools: PoolReader
    users: UserLookup
    revoked: RevokedTokenStore
    keys: PoolSigners
    clock: Clock


async def userinfo(
    ports: UserInfo, issuer: str, pool_slug: str, access_token: str
) -> dict[str, object]:
    pool = await ports.pools.get_pool(pool_slug)
    if pool is None:
        raise Unauthorized("invalid_token", "the access token is for another issuer")
    claims = (await ports.keys.signer(pool.id)).verify(access_token)
    exp = claims.get("exp")
    if claims.get("iss") != issuer or not isinstance(exp, int) or exp <= ports.clock():
        raise Unauthorized("invalid_token", "the access token is expired or for another issuer")
    token_id = claims.get("jti")
    if not isinstance(token_id, str) or await ports.revoked.is_revoked(token_id):
        raise Unauthorized("invalid_token", "the access token was revoked")
    sub = claims.get("sub")
    user = await ports.users.get_user(pool.id, sub) if isinstance(sub, str) else None
    if user is None or user.blocked:
        raise Unauthorized("invalid_token", "the user no longer exists")
    scope = claims.get("scope")
    return user_claims(user, scope if isinstance(scope, str) else "openid")
