"""The sandbox's app (what ``minilogin sandbox`` serves) in-process, and the WeChat client and
token cache talking to it over HTTP (``httpx.ASGITransport`` through ``HttpxTransport``), all on
a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from minilogin.sandbox.app import create_sandbox_app
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.wechat.client import WeChatClient
from minilogin.wechat.token_cache import AccessTokenCache
from minilogin.wechat.transport import HttpxTransport, ReqwestTransport, WeChatHttp
from minilogin.wechat.types import MiniProgram

PUBLIC = "http://sandbox.test"
BASE = f"{PUBLIC}/_sandbox/wechat"
APP_ID = "wx1234567890abcdef"
APP_SECRET = "0123456789abcdef0123456789abcdef"


class FakeClock:
    """Wall-clock seconds that only move when the test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> FastAPI:
    return create_sandbox_app(PUBLIC, clock)


@pytest.fixture
async def http(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC, timeout=5) as client:
        yield client


@pytest.fixture
def transport(http: httpx.AsyncClient) -> HttpxTransport:
    """The WeChat client's way to the sandbox (``http`` is the test's own, for the phone)."""
    return HttpxTransport(http)


@pytest.fixture(params=["pyreqwest", "httpx"])
async def network(request: pytest.FixtureRequest) -> AsyncIterator[WeChatHttp]:
    """Each transport over real sockets, as production reaches WeChat, 2 s a call."""
    transport: WeChatHttp = (
        ReqwestTransport(2.0)
        if request.param == "pyreqwest"
        else HttpxTransport(httpx.AsyncClient(timeout=2.0))
    )
    yield transport
    await transport.aclose()


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock=clock)


@pytest.fixture
def tokens(store: MemoryStore, transport: HttpxTransport, clock: FakeClock) -> AccessTokenCache:
    return AccessTokenCache(store, transport, BASE, clock=clock, poll_interval=0.01)


@pytest.fixture
def client(transport: HttpxTransport, tokens: AccessTokenCache) -> WeChatClient:
    return WeChatClient(transport, BASE, tokens)


@pytest.fixture
def program() -> MiniProgram:
    return MiniProgram(APP_ID, APP_SECRET)


class SandboxControl:
    """What a test does to the sandbox besides calling WeChat's API: act as the phone, set
    users, inject faults, read the call counters."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def login_code(self, user: str = "alice", appid: str = APP_ID) -> str:
        response = await self.http.post("/_sandbox/wx/login", json={"appid": appid, "user": user})
        response.raise_for_status()
        code: str = response.json()["code"]
        return code

    async def phone_code(self, user: str = "alice", appid: str = APP_ID) -> str:
        body = {"appid": appid, "user": user}
        response = await self.http.post("/_sandbox/wx/phone_code", json=body)
        response.raise_for_status()
        code: str = response.json()["code"]
        return code

    async def put_user(self, user: str, **fields: object) -> dict[str, object]:
        response = await self.http.put(f"/_sandbox/wx/users/{user}", json=fields)
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body

    async def fault(self, path: str, errcode: int, **extra: int) -> None:
        body = {"path": path, "errcode": errcode, **extra}
        response = await self.http.post("/_sandbox/wechat/faults", json=body)
        response.raise_for_status()

    async def calls(self, path: str) -> int:
        stats = (await self.http.get("/_sandbox/wechat/stats")).json()
        counted: int = stats["calls"].get(path, 0)
        return counted


@pytest.fixture
def wx(http: httpx.AsyncClient) -> SandboxControl:
    return SandboxControl(http)
