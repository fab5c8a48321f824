"""Token and UserInfo claims (OpenID Connect Core 1.0 §2, §5.1, §5.4; RFC 9068 for the
access token). Which claims a token carries follows the granted scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from minilogin.core.entities import User

#: OIDC Core §5.4: the claims each scope asks for.
SCOPE_CLAIMS: Mapping[str, tuple[str, ...]] = {
    "profile": ("name", "picture", "preferred_username", "updated_at"),
    "phone": ("phone_number", "phone_number_verified"),
    "email": ("email",),
}
SUPPORTED_SCOPES = ("openid", "profile", "phone", "email")
AMR_WECHAT_MP_QRCODE = "wechat_mp_qrcode"


def normalise_scope(scope: str | None) -> str:
    """Keep the scopes this provider knows, in a stable order; ``openid`` is always granted."""
    asked = set((scope or "").split())
    return " ".join(s for s in SUPPORTED_SCOPES if s == "openid" or s in asked)


def user_claims(user: User, scope: str) -> dict[str, object]:
    """The claims about ``user`` that ``scope`` releases, leaving out what is unknown."""
    granted = set(scope.split())
    values: dict[str, object] = {
        "name": user.nickname,
        "picture": user.avatar_url,
        "preferred_username": user.username,
        "updated_at": int(user.last_login_at.timestamp()) if user.last_login_at else None,
        "phone_number": user.phone,
        "phone_number_verified": user.phone_verified if user.phone else None,
        "email": user.email,
    }
    claims: dict[str, object] = {"sub": user.id}
    for scope_name, names in SCOPE_CLAIMS.items():
        if scope_name in granted:
            claims.update({n: values[n] for n in names if values[n] is not None})
    return claims


@dataclass(frozen=True, slots=True)
class TokenContext:
    issuer: str
    client_id: str
    scope: str
    auth_time: int
    now: int
    amr: tuple[str, ...] = (AMR_WECHAT_MP_QRCODE,)
    nonce: str | None = None


def id_token_claims(user: User, ctx: TokenContext, lifetime: int) -> dict[str, object]:
    """OIDC Core §2: the ID Token."""
    return id_token_of(user_claims(user, ctx.scope), ctx, lifetime)


def id_token_of(
    released: Mapping[str, object], ctx: TokenContext, lifetime: int
) -> dict[str, object]:
    """The ID Token around the claims about its user that ``user_claims`` released."""
    claims = dict(released)
    claims.update(
        iss=ctx.issuer,
        aud=ctx.client_id,
        exp=ctx.now + lifetime,
        iat=ctx.now,
        auth_time=ctx.auth_time,
        amr=list(ctx.amr),
        azp=ctx.client_id,
    )
    if ctx.nonce is not None:
        claims["nonce"] = ctx.nonce
    return claims


def access_token_claims(
    subject: str, ctx: TokenContext, lifetime: int, token_id: str
) -> dict[str, object]:
    """RFC 9068 §2.2: a JWT access token for this provider's own UserInfo endpoint."""
    return {
        "iss": ctx.issuer,
        "sub": subject,
        "aud": ctx.issuer,
        "client_id": ctx.client_id,
        "scope": ctx.scope,
        "exp": ctx.now + lifetime,
        "iat": ctx.now,
        "auth_time": ctx.auth_time,
        "jti": token_id,
    }
