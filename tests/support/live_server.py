"""The test's own minilogin app served over real HTTP (uvicorn in a thread), for browser tests
that need what a separate ``minilogin dev`` process can't give: test pages mounted on the
server's own origin (the registered web origin of the applications they use), the movable
``clock`` and direct access to the stores for setting up pools and applications.

The server's event loop runs in its thread; ``run()`` hands it a coroutine (store set-up,
the ``Phone`` actor's HTTP calls) and waits for the result, so sync tests (Playwright's sync
API) can use the async helpers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from minilogin.app import create_app
from minilogin.sandbox.app import create_sandbox_app
from minilogin.storage.sql.migrate import upgrade_async
from minilogin.wiring import Services
from tests.conftest import Clock, sandbox_settings
from tests.support.actors import Phone
from tests.support.server import free_port

T = TypeVar("T")


@dataclass
class LiveServer:
    public: str
    app: FastAPI
    clock: Clock
    loop: asyncio.AbstractEventLoop

    def issuer(self, pool: str = "demo") -> str:
        return f"{self.public}/pools/{pool}"

    @property
    def services(self) -> Services:
        svc: Services = self.app.state.services
        return svc

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def phone(self, user: str) -> SyncPhone:
        return SyncPhone(self, user)


class SyncPhone:
    """The ``Phone`` actor (API.md §3–4 over HTTP), its calls run on the server's loop."""

    def __init__(self, server: LiveServer, user: str) -> None:
        self.server = server
        self.user = user

    def _do(self, action: str, *args: Any, **kwargs: Any) -> Any:
        async def call() -> Any:
            async with httpx.AsyncClient(timeout=10) as http:
                phone = Phone(http, self.server.public, self.user)
                result = await getattr(phone, action)(*args, **kwargs)
                if isinstance(result, httpx.Response):
                    await result.aread()
                return result

        return self.server.run(call())

    def set_profile(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._do("set_profile", **fields)
        return result

    def scan(self, appid: str, scene: str) -> httpx.Response:
        response: httpx.Response = self._do("scan", appid, scene)
        return response

    def confirm(self, appid: str, session: str, **profile: str) -> httpx.Response:
        response: httpx.Response = self._do("confirm", appid, session, **profile)
        return response

    def cancel(self, session: str) -> httpx.Response:
        response: httpx.Response = self._do("cancel", session)
        return response

    def scan_and_allow(self, appid: str, scene: str, **profile: str) -> None:
        scanned = self.scan(appid, scene)
        assert scanned.status_code == 200, scanned.text
        confirmed = self.confirm(appid, scanned.json()["session"], **profile)
        assert confirmed.status_code == 200, confirmed.text


@contextmanager
def serving(
    app: Any, port: int, *, before: Callable[[], Awaitable[None]] | None = None
) -> Iterator[asyncio.AbstractEventLoop]:
    """An ASGI app served by uvicorn on ``port`` in a thread of its own; ``before`` runs on
    the server's loop first. Yields that loop; the server stops when the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            # A page left open keeps its event stream: don't wait for it when stopping.
            timeout_graceful_shutdown=1,
        )
    )
    loop = asyncio.new_event_loop()
    failure: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            if before is not None:
                loop.run_until_complete(before())
            loop.run_until_complete(server.serve())
        except BaseException as error:  # reported to the test below
            failure.append(error)
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if failure or not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {failure}")
            thread.join(0.05)
        yield loop
    finally:
        server.should_exit = True
        thread.join(15)


@contextmanager
def live_server(
    data_dir: Path, *, pages: dict[str, Path] | None = None, **settings: Any
) -> Iterator[LiveServer]:
    """The app with the demo seed on a free port; ``pages`` mounts folders of static test
    pages (``{"/testpages": folder}``) on the server's own origin."""
    port = free_port()
    config = sandbox_settings(f"http://127.0.0.1:{port}", data_dir, **settings)
    clock = Clock()
    # As ``minilogin dev``: the sandbox on the server's origin, reached over the network.
    app = create_app(config, seed=True, sandbox=create_sandbox_app(config.public_url), clock=clock)
    for prefix, folder in (pages or {}).items():
        app.mount(prefix, StaticFiles(directory=folder, html=True))
    with serving(app, port, before=lambda: upgrade_async(config.database_url)) as loop:
        yield LiveServer(config.public_url, app, clock, loop)
