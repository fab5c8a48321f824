"""The console at ``{public}/console/``: the administrators' web UI over the admin API.

The pages are a login form, the console itself (a script that drives ``/admin/api`` with the
session cookie and the CSRF token this page embeds) and the "Experience login" popup. They
are in Simplified Chinese, or English with ``?lang=en`` (remembered in a cookie) or an
English ``Accept-Language``. Every script and style is served from ``/static/console/``, and a
Content-Security-Policy forbids anything else.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from minilogin.admin import access, applications, connections
from minilogin.core.errors import RateLimited, Unauthorized
from minilogin.core.messages import Locale, message, negotiate
from minilogin.observability import metrics
from minilogin.web.admin_api import (
    SESSION_COOKIE,
    check_same_origin,
    session_cookie_secure,
)
from minilogin.web.admin_ports import access_ports, application_ports
from minilogin.web.deps import client_ip, services
from minilogin.wiring import Services

router = APIRouter(prefix="/console", tags=["Console"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
Svc = Annotated[Services, Depends(services)]
LANG_COOKIE = "minilogin_lang"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src * data: blob:; style-src 'self'{styles}; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def security_headers(*, inline_styles: bool = False) -> dict[str, str]:
    """Nothing but this service's own scripts run on a console page. The experience page also
    lets the SDK's login component add its ``<style>``, as it does on any integrator's page."""
    styles = " 'unsafe-inline'" if inline_styles else ""
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(styles=styles),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


LOGIN_TEXT: dict[Locale, dict[str, str]] = {
    "zh-CN": {
        "title": "登录控制台",
        "subtitle": "minilogin 管理控制台",
        "username": "用户名",
        "password": "密码",
        "submit": "登录",
        "other": "English",
    },
    "en": {
        "title": "Log in to the console",
        "subtitle": "minilogin administration console",
        "username": "Username",
        "password": "Password",
        "submit": "Log in",
        "other": "中文",
    },
}


def locale_of(request: Request) -> Locale:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in ("en", "zh-CN"):
        return "en" if asked == "en" else "zh-CN"
    return negotiate(request.headers.get("accept-language"))


def _page(
    request: Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    *,
    inline_styles: bool = False,
) -> HTMLResponse:
    locale = locale_of(request)
    response = templates.TemplateResponse(
        request,
        template,
        {"lang": locale, **context},
        status_code=status,
        headers=security_headers(inline_styles=inline_styles),
    )
    if request.query_params.get("lang") in ("en", "zh-CN"):
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
    return response


async def _session(request: Request, svc: Services) -> access.ConsoleSession | None:
    return await access.console_session(svc.ephemeral, request.cookies.get(SESSION_COOKIE))


def _to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


@router.get("")
async def console_root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


@router.get("/", response_class=HTMLResponse)
async def console_page(request: Request, svc: Svc) -> Response:
    session = await _session(request, svc)
    if session is None:
        return _to_login()
    return _page(
        request,
        "console/app.html",
        {"username": session.username, "csrf": session.csrf, "public": svc.settings.public_url},
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, svc: Svc) -> Response:
    if await _session(request, svc) is not None:
        return RedirectResponse("/console/", status_code=303)
    locale = locale_of(request)
    return _page(request, "console/login.html", {"text": LOGIN_TEXT[locale], "error": None})


@router.post("/login", response_class=HTMLResponse)
async def log_in(request: Request, svc: Svc) -> Response:
    """The login form's POST; only the console's own page may send it."""
    check_same_origin(request, svc)
    form = await request.form(max_fields=4, max_files=0)
    locale = locale_of(request)
    try:
        session_id, _ = await access.log_in(
            access_ports(svc), form.get("username"), form.get("password"), client_ip(request)
        )
    except (Unauthorized, RateLimited) as error:
        status = 429 if isinstance(error, RateLimited) else 401
        if status == 429:
            metrics.rate_limited(error.code)
        context = {"text": LOGIN_TEXT[locale], "error": message(error.code, locale)}
        page = _page(request, "console/login.html", context, status)
        wait = error.params.get("retry_after")
        if isinstance(wait, float):
            page.headers["Retry-After"] = str(math.ceil(wait))
        return page
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(access.SESSION_TTL),
        httponly=True,
        secure=session_cookie_secure(svc),
        samesite="lax",
        path="/",
    )
    return response


@router.post("/logout")
async def log_out(request: Request, svc: Svc) -> Response:
    check_same_origin(request, svc)
    session = await _session(request, svc)
    if session is not None:
        form = await request.form(max_fields=2, max_files=0)
        token = form.get("csrf")
        access.check_csrf(session, token if isinstance(token, str) else None)
        await access.log_out(svc.ephemeral, request.cookies.get(SESSION_COOKIE))
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/experience", response_class=HTMLResponse)
async def experience_page(
    request: Request, svc: Svc, pool: str, client_id: str, connection: str | None = None
) -> Response:
    """The "Experience login" popup: the application's login, run here, showing the user and
    the claims it ends with."""
    session = await _session(request, svc)
    if session is None:
        return _to_login()
    ports = application_ports(svc)
    application = await applications.get_application(ports, pool, client_id)
    enabled = set(await applications.enabled_connections(ports.sources, application))
    sources = [
        {"unique_id": source.unique_id, "display_name": source.display_name}
        for source, _ in await connections.list_connections(ports.pools, ports.sources, pool)
        if source.unique_id in enabled
    ]
    return _page(
        request,
        "console/experience.html",
        {
            "csrf": session.csrf,
            "pool": pool,
            "issuer": svc.settings.issuer(pool),
            "application": {
                "client_id": application.client_id,
                "name": application.name,
                "type": application.type.value,
            },
            "sources": sources,
            "connection": connection,
        },
        inline_styles=True,
    )
