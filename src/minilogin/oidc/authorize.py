"""The authorization request (OpenID Connect Core 1.0 §3.1.2.1, RFC 6749 §4.1.1) that opens
the hosted login page, and the authorization response it ends with (§3.1.2.5, §3.1.2.6).

A request is checked in two stages, as RFC 6749 §4.1.2.1 demands: while the client or its
redirect URI is in doubt nothing is sent anywhere and the person sees an error page
(``InvalidRequest``/``NotFound``); once the redirect target is known, every other error goes
back to it as ``error`` and ``state`` (``AuthorizationError``).

A valid request is kept (``AuthorizationRequestStore``) for ``REQUEST_LIFETIME``. The page's
QR logins name it when they are created (``authorization_request`` in API.md §1 "Create"),
which binds them to it: the code a bound login ends with carries the relying party's
``redirect_uri``, PKCE challenge, nonce and scope, not the page's own.

Without a ``redirect_uri`` the identity source's Callback URL is the target (the console's
"where the browser goes when the integrator gives no redirect of its own"); what arrives there
is only the one-time code, for the site's backend to exchange with its client credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Literal
from urllib.parse import urlencode, urlsplit

from minilogin.core.claims import normalise_scope
from minilogin.core.entities import Application, Pool
from minilogin.core.errors import Conflict, InvalidRequest, NotFound, OAuthError, Unavailable
from minilogin.core.grants import AuthorizationCode
from minilogin.core.messages import Locale
from minilogin.core.qrlogin import QRLogin, Status
from minilogin.core.tokens import new_id
from minilogin.ports import (
    ApplicationReader,
    AuthorizationRequestStore,
    CallbackLookup,
    EndingAuthorizationRequests,
    PendingCounter,
    PoolReader,
)

#: How long the person has, from opening the page, to scan one of its codes.
REQUEST_LIFETIME = 600.0
MAX_PARAM = 512
ResponseMode = Literal["query", "web_message", "form_post"]
#: ``query`` (RFC 6749 §4.1.2), ``web_message`` (popups: postMessage to the opener) and
#: ``form_post`` (OAuth 2.0 Form Post Response Mode: an auto-submitting form to the redirect URI).
RESPONSE_MODES: tuple[ResponseMode, ...] = ("query", "web_message", "form_post")
# RFC 7636 §4.2: BASE64URL(SHA256(verifier)) without padding is 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


class AuthorizationError(OAuthError):
    """An error answered to the relying party's redirect target (RFC 6749 §4.1.2.1)."""

    def __init__(self, code: str, detail: str, reply: Reply) -> None:
        super().__init__(code, detail)
        self.reply = reply


@dataclass(frozen=True, slots=True)
class Reply:
    """Where and how an authorization response goes."""

    target: str
    response_mode: ResponseMode
    state: str | None
    issuer: str

    def params(self, **values: str) -> dict[str, str]:
        """The response parameters, with ``state`` and RFC 9207's ``iss``."""
        params = dict(values)
        if self.state is not None:
            params["state"] = self.state
        params["iss"] = self.issuer
        return params

    def redirect_url(self, **values: str) -> str:
        separator = "&" if urlsplit(self.target).query else "?"
        return f"{self.target}{separator}{urlencode(self.params(**values))}"

    @property
    def origin(self) -> str:
        """The origin a ``web_message`` response is posted to: the redirect URI's."""
        parts = urlsplit(self.target)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    id: str
    pool: str
    client_id: str
    redirect_uri: str | None  # None: the identity source's Callback URL
    scope: str
    response_mode: ResponseMode
    locale: Locale
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    #: What the pending count returned for it (``storage/ephemeral/pending.py``).
    counted_in: int | None = None

    def reply(self, issuer: str, target: str) -> Reply:
        return Reply(target, self.response_mode, self.state, issuer)


def pick_locale(ui_locales: str | None, fallback: Locale) -> Locale:
    """OIDC Core §3.1.2.1 ``ui_locales``: the first of the person's preferences we speak."""
    for tag in (ui_locales or "").split():
        lowered = tag.lower()
        if lowered.startswith("en"):
            return "en"
        if lowered.startswith("zh"):
            return "zh-CN"
    return fallback


def _bounded(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is not None and len(value) > MAX_PARAM:
        raise InvalidRequest("invalid_request", f"{name} is longer than {MAX_PARAM} characters")
    return value


async def _client(
    applications: ApplicationReader, pool: Pool, params: Mapping[str, str]
) -> Application:
    client_id = params.get("client_id")
    if not client_id:
        raise InvalidRequest("invalid_request", "client_id is required")
    application = await applications.get_application(pool.id, client_id)
    if application is None:
        raise NotFound("unknown_client")
    return application


async def _redirect_uri(
    sources: CallbackLookup, application: Application, given: str | None
) -> str | None:
    """RFC 6749 §3.1.2.3 and OIDC Core §3.1.2.1: an exact string match with a registered URI.
    Without one, an enabled identity source must have a Callback URL to go to instead."""
    if given is not None:
        if given not in application.redirect_uris:
            raise InvalidRequest("redirect_uri_mismatch")
        return given
    enabled = await sources.enabled_identity_sources(application.pool_id, application.client_id)
    if not any(source.callback_url for source in enabled):
        raise InvalidRequest("redirect_uri_required")
    return None


def _response_mode(value: str | None, redirect_uri: str | None) -> ResponseMode:
    if value is None or value == "query":
        return "query"
    if value == "web_message" and redirect_uri is not None:
        return "web_message"
    if value == "form_post" and redirect_uri is not None:
        return "form_post"
    raise OAuthError("invalid_request", f"response_mode {value!r} is not supported here")


def _code_challenge(application: Application, params: Mapping[str, str]) -> str | None:
    """RFC 7636: S256 only; required of every client (OAuth 2.1 §4.1.1) unless a confidential
    one is explicitly let off (``pkce_required`` false), and checked whenever one is sent."""
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if application.is_public or application.pkce_required:
            raise OAuthError("invalid_request", "code_challenge (S256) is required")
        if method is not None:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge")
        return None
    if method != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise OAuthError("invalid_request", "code_challenge is malformed")
    return challenge


def _check_prompt(prompt: str | None) -> None:
    """OIDC Core §3.1.2.1: every login here is a fresh scan, which is what ``login`` asks for;
    there is never a session to reuse silently, so ``none`` can only fail."""
    values = set((prompt or "").split())
    if "none" in values:
        if len(values) > 1:
            raise OAuthError("invalid_request", "prompt=none can't be combined")
        raise OAuthError("login_required", "a scan is required to log in")


async def start(
    applications: ApplicationReader,
    sources: CallbackLookup,
    requests: AuthorizationRequestStore,
    pending: PendingCounter,
    max_pending: int,
    issuer: str,
    pool: Pool,
    params: Mapping[str, str],
    fallback_locale: Locale,
) -> AuthorizationRequest:
    """Check an authorization request and keep it for the page's QR logins, unless
    ``max_pending`` requests are pending already."""
    application = await _client(applications, pool, params)
    redirect_uri = await _redirect_uri(sources, application, params.get("redirect_uri"))
    state = params.get("state")
    asked_mode = params.get("response_mode")
    reply = Reply(
        redirect_uri or "",
        next((mode for mode in RESPONSE_MODES if mode == asked_mode), "query"),
        state if state is None or len(state) <= MAX_PARAM else None,
        issuer,
    )
    try:
        response_mode = _response_mode(params.get("response_mode"), redirect_uri)
        reply = replace(reply, response_mode=response_mode)
        _bounded(params, "state")
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "only response_type=code is supported")
        if "request" in params:
            raise OAuthError("request_not_supported", "request objects are not supported")
        if "request_uri" in params:
            raise OAuthError("request_uri_not_supported", "request_uri is not supported")
        _check_prompt(params.get("prompt"))
        request = AuthorizationRequest(
            id=new_id("ar"),
            pool=pool.slug,
            client_id=application.client_id,
            redirect_uri=redirect_uri,
            scope=normalise_scope(_bounded(params, "scope")),
            response_mode=response_mode,
            locale=pick_locale(params.get("ui_locales"), fallback_locale),
            state=state,
            nonce=_bounded(params, "nonce"),
            code_challenge=_code_challenge(application, params),
        )
    except (OAuthError, InvalidRequest) as error:
        if redirect_uri is None:
            # No target is known before an identity source is chosen: say it on the page.
            raise InvalidRequest("invalid_request", error.detail or error.code) from error
        code = error.code if isinstance(error, OAuthError) else "invalid_request"
        raise AuthorizationError(code, error.detail or error.code, reply) from error
    counted_in = await pending.reserve(max_pending)
    if counted_in is None:
        # RFC 6749 §4.1.2.1's temporarily_unavailable where the response has a target; on the
        # page otherwise, as a 503 with Retry-After.
        detail = "too many logins are pending; try again in a minute"
        if redirect_uri is None:
            raise Unavailable("temporarily_unavailable", detail, retry_after=pending.retry_after)
        raise AuthorizationError("temporarily_unavailable", detail, reply)
    request = replace(request, counted_in=counted_in)
    await requests.keep(request.id, _to_json(request), REQUEST_LIFETIME)
    return request


def _to_json(request: AuthorizationRequest) -> str:
    return json.dumps(asdict(request), separators=(",", ":"))


def _from_json(text: str) -> AuthorizationRequest:
    return AuthorizationRequest(**json.loads(text))


async def load(
    requests: AuthorizationRequestStore, pool_slug: str, request_id: str
) -> AuthorizationRequest:
    text = await requests.find(request_id) if request_id else None
    request = None if text is None else _from_json(text)
    if request is None or request.pool != pool_slug:
        raise NotFound("authorization_request_not_found")
    return request


async def load_for_client(
    requests: AuthorizationRequestStore, pool_slug: str, client_id: str, request_id: str
) -> AuthorizationRequest:
    """The request a new QR login names, which must be the same client's."""
    request = await load(requests, pool_slug, request_id)
    if request.client_id != client_id:
        raise NotFound("authorization_request_not_found")
    return request


async def bind(
    requests: AuthorizationRequestStore, login: QRLogin, request: AuthorizationRequest
) -> None:
    """Tie a new QR login to the request, for as long as the login is kept."""
    await requests.bind(login, _to_json(request))


async def bound_request(
    requests: AuthorizationRequestStore, login_id: str
) -> AuthorizationRequest | None:
    text = await requests.bound(login_id)
    return None if text is None else _from_json(text)


async def bound_grant(
    requests: AuthorizationRequestStore, login_id: str, grant: AuthorizationCode
) -> AuthorizationCode:
    """The grant a QR login's code stands for: the relying party's, when the login is bound
    to an authorization request (OIDC Core §3.1.3.2 checks these at the token endpoint)."""
    request = await bound_request(requests, login_id)
    if request is None:
        return grant
    return replace(
        grant,
        code_challenge=request.code_challenge,
        nonce=request.nonce,
        scope=request.scope,
        redirect_uri=request.redirect_uri,
    )


async def reply_for(
    pools: PoolReader,
    sources: CallbackLookup,
    issuer: str,
    request: AuthorizationRequest,
    connection: str,
) -> Reply:
    """Where the response goes: the redirect URI, else the identity source's Callback URL."""
    if request.redirect_uri is not None:
        return request.reply(issuer, request.redirect_uri)
    pool = await pools.get_pool(request.pool)
    source = await sources.get_identity_source(pool.id, connection) if pool else None
    if source is None or not source.callback_url:
        raise InvalidRequest("redirect_uri_required")
    return request.reply(issuer, source.callback_url)


@dataclass(frozen=True, slots=True)
class Completed:
    reply: Reply
    code: str


async def complete(
    requests: EndingAuthorizationRequests,
    pending: PendingCounter,
    pools: PoolReader,
    sources: CallbackLookup,
    issuer: str,
    pool_slug: str,
    login: QRLogin,
) -> Completed:
    """The authorization response for a bound QR login that is ``authorized``."""
    request = await bound_request(requests, login.id)
    if request is None or request.pool != pool_slug:
        raise NotFound("authorization_request_not_found")
    if login.status is not Status.AUTHORIZED or login.code is None:
        raise Conflict(f"qrlogin_{login.status.value}")
    reply = await reply_for(pools, sources, issuer, request, login.connection)
    # The response goes out: the request ends, and leaves the pending count (once, whichever
    # instance takes it).
    ended = await requests.take(request.id)
    counted_in = None if ended is None else _from_json(ended).counted_in
    if counted_in is not None:
        await pending.end(counted_in)
    return Completed(reply, login.code)
