"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from minilogin import __version__, operations
from minilogin.config import Settings
from minilogin.seed import seed_demo
from minilogin.web import (
    admin_api,
    api_docs,
    applications_api,
    console,
    demo,
    errors,
    favicon,
    hosted,
    login_api,
    miniprogram_api,
    oidc_api,
    sdk_assets,
    shutdown,
)
from minilogin.web.cors import OriginCache
from minilogin.web.deps import warm_up
from minilogin.web.edge import EdgeMiddleware
from minilogin.web.lane import LoginLane
from minilogin.wiring import open_services

STATIC = Path(__file__).parent / "static"
#: The collector's thresholds once started (``gc.set_threshold``; CPython's are 700, 10, 10).
#: A waiting browser's request lives up to 25 s, so every object it holds outlives the young
#: generations and is scanned again by each older collection: with 10,000 long polls waiting
#: (in-process, counted with ``gc.callbacks``, 30 s, twice) the defaults spent 2.1–2.3 s of
#: CPU in the collector, in 8 full collections of up to 0.43 s each, every waiting browser
#: paused meanwhile; these thresholds, 0.36 s in 15 young collections of at most 0.09 s.
#: Cycles are still collected, after 50,000 allocations more than releases.
GC_THRESHOLDS = (50_000, 20, 10)


def create_app(
    settings: Settings | None = None,
    *,
    seed: bool = False,
    sandbox: FastAPI | None = None,
    clock: Callable[[], float] = time.time,
    wechat_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the service. ``seed`` creates the demo pool, application and identity source and
    serves the demo pages; ``sandbox`` is a WeChat sandbox (``sandbox/app.py``) whose
    routes this app serves too, as ``minilogin dev`` does. Without either it is production:
    what ``minilogin serve`` runs. ``clock`` is the wall clock every deadline is measured on;
    ``wechat_transport`` carries the WeChat client's requests (by default, the network: the
    server reaches WeChat, or its own sandbox, only at ``MINILOGIN_WECHAT_API_URL``)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = await open_services(settings, wechat_transport, clock)
        await asyncio.to_thread(warm_up)
        if seed:
            await seed_demo(svc.pools, svc.applications, svc.identity_sources, settings)
        app.state.services = svc
        app.state.origins = OriginCache(svc)
        if gc.get_freeze_count() == 0:
            # What start-up made lives as long as the process: keep it out of every later full
            # collection, which otherwise pauses all waiting browsers for tens of milliseconds.
            # Once per process: a process that builds many apps (the tests) must not pin them.
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        try:
            with shutdown.on_stop_signal(svc.waiting.stop):
                yield
        finally:
            await svc.close()

    app = FastAPI(
        title="minilogin",
        version=__version__,
        summary="Log in to a PC website by scanning a WeChat mini program code.",
        lifespan=lifespan,
        # Served by api_docs from a package instead of FastAPI's CDN.
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry instrumentation asks the global providers whether any is
        # configured on every request: 4–7 µs of a hello-world's 46–54 µs in-process (issue
        # 17). minilogin configures none and ships no OpenTelemetry SDK; its requests are
        # observed at the edge (``web/edge.py``: logs and metrics).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    errors.install(app)
    # Innermost: the edge wraps the lane as it wraps the routes.
    app.add_middleware(LoginLane)
    app.add_middleware(
        EdgeMiddleware,
        max_body=settings.max_body_bytes,
        max_logo=settings.max_logo_upload_bytes,
        pool_domain=settings.pool_domain,
    )
    app.include_router(login_api.router)
    app.include_router(miniprogram_api.router)
    app.include_router(oidc_api.router)
    app.include_router(hosted.router)
    app.include_router(applications_api.router)
    if seed:
        app.include_router(demo.router)
    app.include_router(admin_api.router)
    app.include_router(admin_api.public_router)
    app.include_router(console.router)
    app.include_router(favicon.router)
    if sandbox is not None:
        app.include_router(sandbox.router)
    api_docs.install(app)
    app.include_router(sdk_assets.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    operations.install(app, settings)
    return app
