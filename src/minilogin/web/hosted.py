"""The hosted login page and logout, the browser-facing half of the OpenID provider:

- ``GET {issuer}/oidc/auth``: the authorization endpoint. A valid request shows the pool's
  page (its name and logo) with the ``<minilogin-login>`` component, whose QR logins are bound
  to the request; an invalid one is answered to the relying party, or, while the client or
  its redirect URI is in doubt, on an error page (``oidc/authorize.py``).
- ``POST {issuer}/oidc/auth/complete``: the page hands over its authorized QR login (id and
  secret); the answer is the authorization response: a redirect to the exact registered
  ``redirect_uri`` with ``code``, ``state`` and ``iss``, or in popup mode
  (``response_mode=web_message``) a page that posts them to the opener, to the redirect URI's
  origin only, or (``response_mode=form_post``) a page whose form posts them to the redirect
  URI by itself.
- ``GET {issuer}/oidc/auth/cancel``: the person gave up: ``error=access_denied``.
- ``GET/POST {issuer}/oidc/session/end``: RP-initiated logout (``oidc/logout.py``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from minilogin.core.entities import Pool
from minilogin.core.errors import (
    InvalidRequest,
    MiniloginError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from minilogin.core.messages import Locale, message, negotiate
from minilogin.login.qrlogin import authenticate
from minilogin.observability import metrics
from minilogin.oidc import authorize, logout
from minilogin.oidc.authorize import AuthorizationError, Reply
from minilogin.web import limits, oidc_ports
from minilogin.web.deps import client_ip, issuer, services
from minilogin.web.errors import status_of
from minilogin.wiring import Services

router = APIRouter(prefix="/pools/{pool}", tags=["Hosted login"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
Svc = Annotated[Services, Depends(services)]
#: The page must not be framed by another site (clickjacking) nor kept in any cache.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}

TEXT: dict[Locale, dict[str, str]] = {
    "zh-CN": {
        "title": "登录",
        "to": "登录到",
        "cancel": "取消并返回应用",
        "powered": "由 minilogin 提供安全登录",
        "error_title": "无法继续登录",
        "logged_out_title": "你已退出登录",
        "logged_out": "你已从该应用退出。现在可以关闭此页面。",
        "sending": "登录成功，正在返回应用…",
        "close": "登录成功，可以关闭此窗口。",
        "cancelled": "已取消登录。可以关闭此页面。",
        "continue": "继续",
    },
    "en": {
        "title": "Log in",
        "to": "Log in to",
        "cancel": "Cancel and go back",
        "powered": "Secure login by minilogin",
        "error_title": "The login can't go on",
        "logged_out_title": "You are logged out",
        "logged_out": "You have logged out of the application. You can close this page.",
        "sending": "Logged in. Going back to the application…",
        "close": "Logged in. You can close this window.",
        "cancelled": "The login was cancelled. You can close this page.",
        "continue": "Continue",
    },
}


def _locale(request: Request, ui_locales: str | None = None) -> Locale:
    return authorize.pick_locale(ui_locales, negotiate(request.headers.get("accept-language")))


def _page(
    request: Request, name: str, locale: Locale, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        f"hosted/{name}",
        {"lang": locale, "t": TEXT[locale], **context},
        status_code=status,
        headers=PAGE_HEADERS,
    )


def _error_page(request: Request, locale: Locale, error: MiniloginError) -> HTMLResponse:
    text = message(error.code, locale)
    if error.detail and isinstance(error, InvalidRequest):
        text = f"{text} ({error.detail})"
    page = _page(
        request,
        "message.html",
        locale,
        {"heading": TEXT[locale]["error_title"], "text": text, "code": error.code},
        status_of(error),
    )
    if isinstance(error, RateLimited):
        metrics.rate_limited(error.code)
    wait = error.params.get("retry_after")
    if isinstance(error, RateLimited) and isinstance(wait, float):
        page.headers["Retry-After"] = str(math.ceil(wait))
    if isinstance(error, Unavailable):
        page.headers["Retry-After"] = str(error.retry_after)
    return page


def _respond(request: Request, locale: Locale, reply: Reply, **values: str) -> Response:
    """The authorization response, as the request's response mode says."""
    if reply.response_mode == "web_message":
        return _page(
            request,
            "web_message.html",
            locale,
            {"origin": reply.origin, "response": reply.params(**values)},
        )
    if reply.response_mode == "form_post":
        return _page(
            request,
            "form_post.html",
            locale,
            {"target": reply.target, "response": reply.params(**values)},
        )
    return RedirectResponse(reply.redirect_url(**values), 303, headers=PAGE_HEADERS)


async def _pool(svc: Services, slug: str) -> Pool:
    pool = await svc.config.get_pool(slug)
    if pool is None:
        raise NotFound("unknown_pool")
    return pool


@router.get("/oidc/auth", response_class=HTMLResponse)
async def authorization_page(pool: str, request: Request, svc: Svc) -> Response:
    params = dict(request.query_params)
    locale = _locale(request, params.get("ui_locales"))
    try:
        # Each request is kept until it ends or expires: the limits slow a flood of them, and
        # MINILOGIN_MAX_PENDING_AUTHORIZATIONS bounds what it holds (oidc/authorize.py).
        await limits.check(svc, "auth.ip", client_ip(request))
        await limits.check(svc, "auth.client", f"{pool}/{params.get('client_id', '')[:128]}")
        known = await _pool(svc, pool)
        auth_request = await authorize.start(
            svc.config,
            svc.config,
            svc.authorization_requests,
            svc.pending_authorizations,
            svc.settings.max_pending_authorizations,
            issuer(request, pool),
            known,
            params,
            locale,
        )
    except AuthorizationError as error:
        return _respond(
            request, locale, error.reply, error=error.code, error_description=error.detail or ""
        )
    except MiniloginError as error:
        return _error_page(request, locale, error)
    application = await svc.config.get_application(known.id, auth_request.client_id)
    return _page(
        request,
        "login.html",
        auth_request.locale,
        {
            "pool": known,
            "application_name": application.name if application else auth_request.client_id,
            "issuer": issuer(request, pool),
            "auth": auth_request,
            # A hint naming one identity source shows only its tab (an addition to OIDC).
            "connection": params.get("connection", "")[:64],
        },
    )


@router.post("/oidc/auth/complete", response_class=HTMLResponse)
async def complete(
    pool: str,
    request: Request,
    svc: Svc,
    qrlogin: Annotated[str, Form(max_length=128)],
    secret: Annotated[str, Form(max_length=256)],
) -> Response:
    locale = _locale(request)
    try:
        await limits.refuse_guesser(request)
        try:
            login = await authenticate(svc.qrlogins, pool, qrlogin, secret)
        except Unauthorized:
            await limits.wrong_guess(request)
            raise
        completed = await authorize.complete(
            svc.authorization_requests,
            svc.pending_authorizations,
            svc.config,
            svc.config,
            issuer(request, pool),
            pool,
            login,
        )
    except MiniloginError as error:
        return _error_page(request, locale, error)
    return _respond(request, locale, completed.reply, code=completed.code)


@router.get("/oidc/auth/cancel", response_class=HTMLResponse)
async def cancel(
    pool: str,
    request: Request,
    svc: Svc,
    request_id: Annotated[str, Query(alias="request", max_length=64)] = "",
) -> Response:
    """``request_id`` names the authorization request; it is no secret, and cancelling only
    ever tells the relying party ``access_denied``."""
    locale = _locale(request)
    try:
        auth_request = await authorize.load(svc.authorization_requests, pool, request_id)
    except MiniloginError as error:
        return _error_page(request, locale, error)
    locale = auth_request.locale
    if auth_request.redirect_uri is None:
        text = TEXT[locale]["cancelled"]
        return _page(request, "message.html", locale, {"heading": text, "text": "", "code": ""})
    reply = auth_request.reply(issuer(request, pool), auth_request.redirect_uri)
    return _respond(
        request, locale, reply, error="access_denied", error_description="the person cancelled"
    )


async def _end_session(
    pool: str, request: Request, svc: Services, params: dict[str, str]
) -> Response:
    locale = _locale(request, params.get("ui_locales"))
    try:
        known = await _pool(svc, pool)
        done = await logout.end_session(
            oidc_ports.logout(svc), issuer(request, pool), known, params, client_ip(request)
        )
    except MiniloginError as error:
        return _error_page(request, locale, error)
    if done.redirect is not None:
        return RedirectResponse(done.redirect, 303, headers=PAGE_HEADERS)
    return _page(
        request,
        "message.html",
        locale,
        {
            "heading": TEXT[locale]["logged_out_title"],
            "text": TEXT[locale]["logged_out"],
            "code": "",
        },
    )


@router.get("/oidc/session/end", response_class=HTMLResponse)
async def end_session_get(pool: str, request: Request, svc: Svc) -> Response:
    return await _end_session(pool, request, svc, dict(request.query_params))


@router.post("/oidc/session/end", response_class=HTMLResponse)
async def end_session_post(pool: str, request: Request, svc: Svc) -> Response:
    """RP-Initiated Logout §2: the OP supports GET and form POST alike."""
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    return await _end_session(pool, request, svc, params)
