"""The token endpoint (RFC 6749 §3.2, §4.1.3; OpenID Connect Core §3.1.3) for the
``authorization_code`` grant, with PKCE (RFC 7636) and client authentication (§2.3.1), and
the ``refresh_token`` grant (``refresh.py``). Both answer a rotating refresh token.

Codes are single-use: a second use fails with ``invalid_grant`` and revokes the access tokens
the first use issued (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Mapping
from urllib.parse import unquote

from minilogin.core import qrlogin as machine
from minilogin.core.claims import TokenContext
from minilogin.core.entities import Application
from minilogin.core.errors import Conflict, Gone, MiniloginError, NotFound, OAuthError
from minilogin.core.pkce import verify
from minilogin.core.tokens import matches
from minilogin.login import audit
from minilogin.oidc.issue import family_for_code, mint, revoke_family
from minilogin.oidc.refresh import refresh
from minilogin.storage.ephemeral.records import AuthorizationCode, IssuedTokens
from minilogin.wiring import Services

SUPPORTED_GRANTS = ("authorization_code", "refresh_token")


def client_credentials(
    form: Mapping[str, str], authorization: str | None
) -> tuple[str | None, str | None]:
    """``client_secret_basic`` (§2.3.1: form-urlencoded id and secret in HTTP Basic) or
    ``client_secret_post``; using both at once is refused."""
    if authorization and authorization.lower().startswith("basic "):
        if "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            raw_id, raw_secret = decoded.split(":", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from exc
        return unquote(raw_id), unquote(raw_secret)
    return form.get("client_id"), form.get("client_secret")


async def authenticate_client(
    svc: Services, pool_id: str, client_id: str | None, secret: str | None
) -> Application:
    if not client_id:
        raise OAuthError("invalid_client", "client_id is required", status=401)
    application = await svc.config.get_application(pool_id, client_id)
    if application is None:
        raise OAuthError("invalid_client", "unknown client", status=401)
    if not application.is_public and (
        application.client_secret_hash is None
        or not matches(secret, application.client_secret_hash)
    ):
        raise OAuthError("invalid_client", "client authentication failed", status=401)
    return application


async def exchange(
    svc: Services,
    pool_slug: str,
    form: Mapping[str, str],
    authorization: str | None,
    ip: str | None = None,
) -> dict[str, object]:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type not in SUPPORTED_GRANTS:
        raise OAuthError("unsupported_grant_type", f"{grant_type} is not supported")
    pool = await svc.config.get_pool(pool_slug)
    if pool is None:
        raise OAuthError("invalid_request", "unknown pool")
    client_id, secret = client_credentials(form, authorization)
    application = await authenticate_client(svc, pool.id, client_id, secret)
    if grant_type == "refresh_token":
        return await refresh(svc, pool, application, form, ip)
    code = form.get("code")
    if not code:
        raise OAuthError("invalid_request", "code is required")
    grant = await svc.codes.take(code)
    if grant is None:
        await _revoke_replayed(svc, code)
        await audit.record(svc, "token.code_rejected", pool_id=pool.id, actor=client_id, ip=ip)
        raise OAuthError("invalid_grant", "the code is invalid, expired or already used")
    if grant.pool != pool.slug or grant.client_id != application.client_id:
        raise OAuthError("invalid_grant", "the code was issued to another client")
    if grant.redirect_uri is not None and form.get("redirect_uri") != grant.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    if grant.code_challenge is not None:
        verify(form.get("code_verifier"), grant.code_challenge)
    elif application.pkce_required:
        # Let off when the code was issued, required now: the administrator's latest word.
        raise OAuthError("invalid_grant", "the code was issued without a code_challenge")
    elif "code_verifier" in form:
        # Security BCP §4.8.2: a verifier for a code issued without a challenge is a downgrade.
        raise OAuthError("invalid_grant", "the code was issued without a code_challenge")
    user = await svc.durable.get_user(pool.id, grant.user_id)
    if user is None or user.blocked:
        raise OAuthError("invalid_grant", "the user can no longer log in")
    ctx = await redeem(svc, pool.slug, application, grant)
    minted = await mint(svc, pool.id, application, user, ctx, family_for_code(code))
    await svc.durable.add_refresh_token(minted.refresh)
    await svc.codes.remember_issued(
        code,
        IssuedTokens([minted.access_token_id], float(ctx.now + application.access_token_lifetime)),
        application.access_token_lifetime,
    )
    await audit.record(
        svc,
        "token.issued",
        pool_id=pool.id,
        actor=application.client_id,
        subject=user.id,
        ip=ip,
        grant_type=grant_type,
        qrlogin=grant.qrlogin_id,
    )
    return minted.body


async def redeem(
    svc: Services, pool_slug: str, application: Application, grant: AuthorizationCode
) -> TokenContext:
    """What every redemption of a code does once it is accepted: the QR login it came from
    ends (``consumed``), and the claims to issue are set (OpenID Connect Core §2)."""
    if grant.qrlogin_id is not None:
        # The QR login may have aged out of the store within the code's lifetime; the code
        # itself is the authority for the exchange.
        with contextlib.suppress(Conflict, Gone, NotFound):
            await svc.qrlogins.update(
                grant.qrlogin_id, lambda cur: machine.consume(cur, svc.clock())
            )
    return TokenContext(
        issuer=svc.settings.issuer(pool_slug),
        client_id=application.client_id,
        scope=grant.scope,
        auth_time=grant.auth_time,
        now=int(svc.clock()),
        amr=tuple(grant.amr),
        nonce=grant.nonce,
    )


async def _revoke_replayed(svc: Services, code: str) -> None:
    issued = await svc.codes.issued_for_used(code)
    if issued is None:
        return
    await revoke_family(svc, family_for_code(code))
    ttl = issued.expires_at - svc.clock()
    for token_id in issued.access_token_ids:
        await svc.revoked.revoke(token_id, ttl)


def oauth_error_body(error: MiniloginError) -> dict[str, str]:
    body = {"error": error.code}
    if error.detail:
        body["error_description"] = error.detail
    return body
