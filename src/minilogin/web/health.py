"""Health for load balancers and orchestrators: ``/healthz`` (the process answers) and
``/readyz`` (it can serve logins: the database, Redis when configured, and WeChat reachable).

Both answer JSON and are never rate-limited: they live on their own router, outside every
limited route. ``/readyz`` answers 503 with ``Retry-After`` and the contract's error body
(plus what each check found) when a dependency is out. WeChat is probed with one plain HTTP
request to the configured API URL, whatever it answers, and that answer is kept for
``WECHAT_PROBE_TTL`` seconds: probes every few seconds from every balancer must not become
calls to WeChat, and never spend an access token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from minilogin import __version__
from minilogin.config import WECHAT_API_URL
from minilogin.storage.ephemeral import keys
from minilogin.storage.errors import UNAVAILABLE
from minilogin.wechat.transport import HttpFailure, WeChatHttp
from minilogin.wiring import Services

#: How long one answer of WeChat (or its silence) stands for the next probes.
WECHAT_PROBE_TTL = 30.0
#: The longest a dependency may take to answer a readiness probe.
CHECK_TIMEOUT = 2.0

router = APIRouter(tags=["operations"])


@dataclass
class WeChatProbe:
    """The last answer to "does WeChat's API URL answer HTTP?", per process."""

    checked_at: float = -WECHAT_PROBE_TTL
    ok: bool = False
    error: str | None = None

    async def check(self, http: WeChatHttp, url: str) -> tuple[bool, str | None]:
        now = time.monotonic()
        if now - self.checked_at >= WECHAT_PROBE_TTL:
            try:
                # Any HTTP answer, even 404, shows the host is reachable; nothing is asked of it.
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await http.get(url)
                self.ok, self.error = True, None
            except HttpFailure as exc:
                self.ok, self.error = False, exc.kind
            except TimeoutError as exc:
                self.ok, self.error = False, type(exc).__name__
            self.checked_at = time.monotonic()
        return self.ok, self.error


#: What a check may meet when its dependency is out.
_OUT: tuple[type[Exception], ...] = (TimeoutError, OSError, *UNAVAILABLE)


async def _timed(check: Awaitable[object]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await check
    except _OUT as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "seconds": round(time.perf_counter() - started, 4)}


async def readiness(svc: Services, probe: WeChatProbe) -> tuple[bool, dict[str, Any]]:
    """Whether the service can serve logins now, and what each check found."""
    checks: dict[str, Any] = {
        # Reading a pool that cannot exist (slugs are never empty) is one database round trip.
        "database": await _timed(svc.pools.get_pool("")),
    }
    if svc.settings.redis_url:
        checks["redis"] = await _timed(svc.ephemeral.get(keys.HEALTH_PROBE))
    url = svc.settings.wechat_api_url
    ok, error = await probe.check(svc.wechat_http, url)
    checks["wechat"] = {"ok": ok, "url": url} | ({"error": error} if error else {})
    warnings = []
    if svc.settings.uses_wechat_sandbox:
        warnings.append(f"sandbox: the WeChat API URL is {url}, not {WECHAT_API_URL}")
    ready = all(check["ok"] for check in checks.values())
    return ready, {"checks": checks, "warnings": warnings}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process is up and answering."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse | dict[str, Any]:
    """Readiness: 200 when logins can be served, else 503 with ``Retry-After``."""
    svc: Services | None = getattr(request.app.state, "services", None)
    if svc is None:
        body: dict[str, Any] = {"checks": {}, "warnings": []}
        ready = False
    else:
        probe: WeChatProbe = request.app.state.wechat_probe
        ready, body = await readiness(svc, probe)
    if ready:
        return {"status": "ready", **body}
    return JSONResponse(
        {
            "status": "not_ready",
            "error": "temporarily_unavailable",
            "message": "A dependency is unavailable; see checks.",
            **body,
        },
        503,
        headers={"Retry-After": "5"},
    )


def install(app: FastAPI) -> None:
    app.state.wechat_probe = WeChatProbe()
    app.include_router(router)
