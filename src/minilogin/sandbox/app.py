"""The sandbox as an ASGI application of its own: what ``minilogin sandbox`` serves, and what
``minilogin dev`` serves beside minilogin on its own origin.

Its state (users, codes, access tokens, faults) lives in the one emulator the app holds, so
every minilogin instance pointed at one sandbox process sees the same WeChat.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI

from minilogin import __version__
from minilogin.sandbox.routes import create_sandbox_router
from minilogin.web import errors
from minilogin.web.framing import DenyFramingMiddleware


def create_sandbox_app(
    public_url: str, clock: Callable[[], float] = time.time, server_url: str | None = None
) -> FastAPI:
    """The sandbox whose codes open its phone simulator at ``{public_url}/_sandbox/phone``;
    the simulator's mini program calls minilogin at ``server_url``, by default on the
    sandbox's own origin (``minilogin dev``)."""
    app = FastAPI(
        title="minilogin WeChat sandbox",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    # Unknown paths and wrong methods answer minilogin's error body, as its own routes do.
    errors.install(app)
    app.add_middleware(DenyFramingMiddleware)  # its phone page, served alone
    server = f"{server_url.rstrip('/')}/" if server_url else ""
    app.include_router(create_sandbox_router(public_url.rstrip("/"), clock, server))
    return app
