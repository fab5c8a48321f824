"""OpenID Connect endpoints under ``{issuer}`` (API.md §2): discovery, JWKS, token, UserInfo,
revocation and introspection. (The authorization endpoint and logout are pages: ``hosted.py``.)

OAuth endpoints answer errors in RFC 6749 §5.2 form (``error``, ``error_description``), and
UserInfo with RFC 6750 §3's ``WWW-Authenticate`` header.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response

from minilogin.core.entities import Application, Pool
from minilogin.core.errors import MiniloginError, OAuthError, RateLimited
from minilogin.lookups import load_pool
from minilogin.oidc import discovery
from minilogin.oidc.client_auth import authenticated_client, client_credentials
from minilogin.oidc.introspection import introspect
from minilogin.oidc.revocation import revoke
from minilogin.oidc.token import oauth_error_body
from minilogin.oidc.userinfo import userinfo
from minilogin.web import limits
from minilogin.web.deps import bearer_token, client_ip, issuer, services_of
from minilogin.web.errors import error_responses
from minilogin.web.oidc_ports import introspection, revocation, token_endpoint, user_info
from minilogin.wiring import Services

router = APIRouter(
    prefix="/pools/{pool}",
    tags=["OpenID Connect"],
    responses=error_responses(400, 401, 404, 413, 429, 503, oauth=True),
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: Relying parties may keep the key set this long (RFC 9111 §5.2.2.1). Short enough that a key
#: added later (rotation, a new algorithm) reaches them soon; OIDC Core §10.1.1 has them fetch
#: the set again anyway when a token names a ``kid`` they don't know.
JWKS_MAX_AGE = 300
#: Errors that mean a wrong client secret, code or refresh token: counted as guesses.
GUESSES = {"invalid_client", "invalid_grant"}


@router.get("/.well-known/openid-configuration")
async def openid_configuration(pool: str, request: Request) -> dict[str, Any]:
    svc = services_of(request)
    await load_pool(svc.config, pool)
    return discovery.metadata(issuer(request, pool))


@router.get("/oidc/jwks")
async def jwks(pool: str, request: Request) -> JSONResponse:
    svc = services_of(request)
    known = await load_pool(svc.config, pool)
    signer = await svc.keys.signer(known.id)
    return JSONResponse(signer.jwks(), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})


async def _form(request: Request) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise OAuthError("invalid_request", "use application/x-www-form-urlencoded")
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _client_request(
    svc: Services, pool: str, request: Request, authorization: str | None
) -> tuple[Pool, Application, dict[str, str]]:
    """The pool, the client that authenticated (RFC 6749 §2.3.1) and the form: where
    revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) both begin."""
    known = await svc.config.get_pool(pool)
    if known is None:
        raise OAuthError("invalid_request", "unknown pool")
    form = await _form(request)
    return known, await authenticated_client(svc.config, known.id, form, authorization), form


async def _count_guess(request: Request, error: MiniloginError) -> None:
    if error.code in GUESSES:
        await limits.wrong_guess(request)


#: Each token request counts against its IP (the route's dependency, and its lean lane's).
count_token = limits.per_ip("token")


@router.post("/oidc/token", dependencies=[Depends(count_token), Depends(limits.refuse_guesser)])
async def token(
    pool: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    return await token_answer(request, services_of(request), pool, authorization)


async def token_answer(
    request: Request, svc: Services, pool: str, authorization: str | None
) -> JSONResponse:
    """The token route's work once its IP was counted and found no guesser: the route above
    and its lean lane (``web/lane.py``) both answer with it."""
    try:
        form = await _form(request)
        client_id, _ = client_credentials(form, authorization)
        await limits.check(svc, "token.client", f"{pool}/{(client_id or '')[:128]}")
        body = await token_endpoint(svc).exchange(
            issuer(request, pool), pool, form, authorization, client_ip(request)
        )
    except OAuthError as error:
        await _count_guess(request, error)
        return _oauth_error(error)
    except RateLimited:
        raise
    except MiniloginError as error:
        return JSONResponse(oauth_error_body(OAuthError("invalid_request", error.code)), 400)
    return JSONResponse(body, headers=NO_STORE)


def _oauth_error(error: MiniloginError) -> JSONResponse:
    """RFC 6749 §5.2, with RFC 6749 §2.3.1's challenge when the client failed to authenticate."""
    if not isinstance(error, OAuthError):
        error = OAuthError("invalid_request", error.code)
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="token"'
    return JSONResponse(oauth_error_body(error), error.status, headers=headers)


@router.post("/oidc/revoke", dependencies=[Depends(limits.refuse_guesser)])
async def revoke_token(
    pool: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """RFC 7009: 200 with an empty body, whether or not the token was known."""
    svc = services_of(request)
    try:
        known, application, form = await _client_request(svc, pool, request, authorization)
        await revoke(
            revocation(svc), issuer(request, pool), known, application, form, client_ip(request)
        )
    except MiniloginError as error:
        await _count_guess(request, error)
        return _oauth_error(error)
    return Response(status_code=200, headers=NO_STORE)


@router.post("/oidc/introspect", dependencies=[Depends(limits.refuse_guesser)])
async def introspect_token(
    pool: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """RFC 7662: the token's state, for a confidential client (a resource server)."""
    svc = services_of(request)
    try:
        known, application, form = await _client_request(svc, pool, request, authorization)
        body = await introspect(introspection(svc), issuer(request, pool), known, application, form)
    except MiniloginError as error:
        await _count_guess(request, error)
        return _oauth_error(error)
    return JSONResponse(body, headers=NO_STORE)


def _invalid_token(error: str, description: str) -> JSONResponse:
    """RFC 6750 §3: the error in the body and in ``WWW-Authenticate``."""
    challenge = f'Bearer error="{error}", error_description="{description}"'
    return JSONResponse(
        {"error": error, "error_description": description},
        401,
        headers={"WWW-Authenticate": challenge},
    )


async def _userinfo(pool: str, request: Request, svc: Services, token: str | None) -> JSONResponse:
    if not token:
        return _invalid_token("invalid_request", "a Bearer access token is required")
    try:
        claims = await userinfo(user_info(svc), issuer(request, pool), pool, token)
        return JSONResponse(claims, headers=NO_STORE)
    except MiniloginError as error:
        return _invalid_token("invalid_token", error.detail or error.code)


@router.get("/oidc/userinfo")
async def userinfo_get(
    pool: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    svc = services_of(request)
    return await _userinfo(pool, request, svc, bearer_token(authorization))


@router.post("/oidc/userinfo")
async def userinfo_post(
    pool: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """RFC 6750 §2.2 also allows the token as a form field of a POST."""
    svc = services_of(request)
    form_token = None
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form_token = (await _form(request)).get("access_token")
    return await _userinfo(pool, request, svc, bearer_token(authorization) or form_token)
