"""Cross-origin access for browsers (API.md §1): a pool's QR login, token and UserInfo
endpoints answer the web origins registered by that pool's applications; discovery and the
JWKS are public documents and answer every origin (the SDK's own files do too, from
``web/sdk_assets.py``; the console's stay same-origin). Against a WeChat sandbox, the mini
program API answers every origin too: the sandbox's phone simulator plays the mini program
from the sandbox's own origin (a real mini program sends no ``Origin``), and those calls carry
no credentials a browser would add.

Origins are read from the durable store and kept for a few seconds, so a busy login page does
not cost a query per request and a change in the console applies almost at once. While the
database can't be reached, the origins last read keep answering.
"""

from __future__ import annotations

import re
import time

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from minilogin.storage.errors import is_unavailable
from minilogin.web.errors import unavailable_response
from minilogin.wiring import Services

_POOL_PATH = re.compile(r"^/pools/(?P<pool>[^/]+)/(?P<rest>.*)$")
_PUBLIC = ("oidc/jwks", ".well-known/openid-configuration")
_MINI_PROGRAM_API = "/api/miniprogram/"
ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
ALLOW_HEADERS = "authorization, content-type, last-event-id, accept-language"
CACHE_SECONDS = 5.0


class OriginCache:
    def __init__(self, svc: Services) -> None:
        self._svc = svc
        self._entries: dict[str, tuple[float, frozenset[str]]] = {}

    async def allowed(self, pool_slug: str) -> frozenset[str]:
        now = time.monotonic()
        entry = self._entries.get(pool_slug)
        if entry is not None and entry[0] > now:
            return entry[1]
        try:
            pool = await self._svc.config.get_pool(pool_slug)
            origins: frozenset[str] = frozenset()
            if pool is not None:
                applications = await self._svc.applications.list_applications(pool.id)
                origins = frozenset(o.rstrip("/") for a in applications for o in a.web_origins)
        except Exception as error:
            # While the database is away, what was known keeps answering.
            if entry is None or not is_unavailable(error):
                raise
            return entry[1]
        self._entries[pool_slug] = (now + CACHE_SECONDS, origins)
        return origins


async def cross_origin(scope: Scope) -> Response | str | None:
    """What CORS makes of a request (``web/edge.py`` applies it): the answer to a preflight
    (or the outage's 503 while the origins can't be read), else the
    ``Access-Control-Allow-Origin`` its answer carries, or None for none."""
    match = _POOL_PATH.match(scope["path"])
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    simulator = scope["path"].startswith(_MINI_PROGRAM_API) and _uses_sandbox(scope)
    if (match is None and not simulator) or origin is None:
        return None
    if match is None:
        public = allowed = True
    else:
        public = match["rest"] in _PUBLIC
        cache: OriginCache = scope["app"].state.origins
        try:
            allowed = public or origin.rstrip("/") in await cache.allowed(match["pool"])
        except Exception as error:
            # Outside the routes' error handling: the outage is answered here.
            if not is_unavailable(error):
                raise
            return unavailable_response(Request(scope), error)
    if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
        return _preflight(allowed, origin)
    if not allowed:
        return None
    return "*" if public else origin


def _preflight(allowed: bool, origin: str) -> Response:
    if not allowed:
        return JSONResponse(
            {"error": "origin_not_allowed", "message": "origin not registered"}, 403
        )
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


def _uses_sandbox(scope: Scope) -> bool:
    svc: Services = scope["app"].state.services
    return svc.settings.uses_wechat_sandbox
