""" "Experience login" for a confidential (web) application.

A single page application's experience runs exactly as its integration would: the SDK in the
console's popup exchanges the code at the token endpoint. A web application's code can only
be exchanged with its client secret, which nobody but its backend knows, so for those the
console shows what the exchange would give instead: the administrator's session stands in for
client authentication, the PKCE check and the single use of the code still apply, and the
answer is the user and the ID token's claims — no token is signed or issued.
"""

from __future__ import annotations

from dataclasses import dataclass

from minilogin.admin import Actor, record
from minilogin.core.claims import id_token_claims
from minilogin.core.entities import User
from minilogin.core.errors import InvalidRequest, NotFound, OAuthError
from minilogin.core.pkce import verify
from minilogin.login.qrlogin import load_application, load_pool
from minilogin.oidc.token import redeem
from minilogin.wiring import Services


@dataclass(frozen=True, slots=True)
class Preview:
    """What the code would give: the user and the claims of its ID token."""

    user: User
    claims: dict[str, object]


async def preview(
    svc: Services, actor: Actor, pool_slug: str, client_id: str, code: object, verifier: object
) -> Preview:
    pool = await load_pool(svc, pool_slug, fresh=True)
    application = await load_application(svc, pool, client_id, fresh=True)
    grant = await svc.codes.take(code) if isinstance(code, str) and code else None
    if (
        grant is None
        or grant.pool != pool.slug
        or grant.client_id != application.client_id
        or grant.code_challenge is None
    ):
        raise InvalidRequest("invalid_experience_code")
    try:
        verify(verifier if isinstance(verifier, str) else None, grant.code_challenge)
    except OAuthError:
        raise InvalidRequest("invalid_experience_code") from None
    user = await svc.durable.get_user(pool.id, grant.user_id)
    if user is None:
        raise NotFound("unknown_user")
    context = await redeem(svc, pool.slug, application, grant)
    await record(
        svc.audit,
        actor,
        "experience_login",
        pool_id=pool.id,
        subject=user.id,
        client_id=application.client_id,
        qrlogin=grant.qrlogin_id,
    )
    return Preview(user, id_token_claims(user, context, application.id_token_lifetime))
