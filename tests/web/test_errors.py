"""Errors the client did not cause: a store that is unreachable or overloaded answers 503 with
the contract's error body and ``Retry-After``, never a bare crash."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
from tests.conftest import PUBLIC, sandbox_settings
from tests.support.actors import Browser
from tests.support.redis_server import redis_server

from minilogin.app import create_app
from minilogin.sandbox.app import create_sandbox_app
from minilogin.storage.sql.migrate import upgrade_async


async def test_redis_going_away_answers_503_with_the_contracts_body(
    tmp_path: Path,
) -> None:
    with contextlib.ExitStack() as redis_up:
        server = redis_up.enter_context(redis_server())
        settings = sandbox_settings(
            PUBLIC,
            tmp_path,
            redis_url=server.url(),
            redis_prefix="errors:",
            code_pool_min_size=0,
        )
        await upgrade_async(settings.database_url)
        wechat = create_sandbox_app(PUBLIC)
        app = create_app(
            settings, seed=True, sandbox=wechat, wechat_transport=httpx.ASGITransport(app=wechat)
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http:
                browser = Browser(http, f"{PUBLIC}/pools/demo")
                login = await browser.create()

                redis_up.close()  # Redis stops
                status = await http.get(
                    f"{PUBLIC}/pools/demo/api/qrcodes/{login.id}",
                    headers={**login.auth, "Accept-Language": "en"},
                )
                assert status.status_code == 503
                assert status.headers["retry-after"] == "1"
                assert status.json() == {
                    "error": "temporarily_unavailable",
                    "message": "The service is busy. Try again in a moment.",
                }
