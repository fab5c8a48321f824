""" "Experience login" for a confidential (web) application.

A single page application's experience runs exactly as its integration would: the SDK in the
console's popup exchanges the code at the token endpoint. A web application's code can only
be exchanged with its client secret, which nobody but its backend knows, so for those the
console shows what the exchange would give instead: the administrator's session stands in for
client authentication, and the code goes through the token endpoint's own check
(``oidc/grants/authorization_code.py``: single use, PKCE, the user still allowed to log in);
the answer is the user and the ID token's claims — no token is signed or issued.
"""

from __future__ import annotations

from dataclasses import dataclass

from minilogin.admin import Actor, record
from minilogin.core.claims import id_token_claims
from minilogin.core.entities import User
from minilogin.core.errors import Forbidden, InvalidRequest, NotFound, OAuthError
from minilogin.lookups import load_application, load_pool
from minilogin.oidc.grants import TokenRequest
from minilogin.oidc.grants.authorization_code import AuthorizationCodeGrant, UserCannotLogIn
from minilogin.ports import ApplicationReader, AuditRecorder, PoolReader


@dataclass(frozen=True, slots=True)
class Preview:
    """What the code would give: the user and the claims of its ID token."""

    user: User
    claims: dict[str, object]


@dataclass(frozen=True, slots=True)
class ExperiencePorts:
    """Pools and applications as the database has them (administration never reads an
    instance's cached copy), and the token endpoint's own code grant."""

    pools: PoolReader
    applications: ApplicationReader
    code_grant: AuthorizationCodeGrant
    audit: AuditRecorder


async def preview(
    ports: ExperiencePorts,
    actor: Actor,
    issuer: str,
    pool_slug: str,
    client_id: str,
    code: object,
    verifier: object,
) -> Preview:
    """What exchanging ``code`` would give, for the pool whose issuer is ``issuer``."""
    pool = await load_pool(ports.pools, pool_slug)
    application = await load_application(ports.applications, pool, client_id)
    # The verifier is always part of the request, so that a code issued without a challenge
    # fails as a downgrade (the console's SDK always sends one).
    form = {
        "grant_type": "authorization_code",
        "code": code if isinstance(code, str) else "",
        "code_verifier": verifier if isinstance(verifier, str) else "",
    }
    request = TokenRequest(issuer, pool, application, form, actor.ip)
    try:
        accepted = await ports.code_grant.accept(request)
    except UserCannotLogIn as error:
        gone = error.user is None
        raise (NotFound("unknown_user") if gone else Forbidden("account_blocked")) from None
    except OAuthError:
        raise InvalidRequest("invalid_experience_code") from None
    user = accepted.user
    await record(
        ports.audit,
        actor,
        "experience_login",
        pool_id=pool.id,
        subject=user.id,
        client_id=application.client_id,
        qrlogin=accepted.grant.qrlogin_id,
    )
    return Preview(user, id_token_claims(user, accepted.context, application.id_token_lifetime))
