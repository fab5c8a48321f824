"""Making one code, without minilogin's HTTP: the renderer over a memory store, the real rate
limiter and the real WeChat client, which talks to the sandbox in-process over HTTP
(``httpx.ASGITransport``), all on a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from minilogin.codepool.policy import INVALID_PAGE, PAGE_BACKOFF
from minilogin.codepool.render import Renderer
from minilogin.core.entities import IdentitySource
from minilogin.core.errors import RateLimited
from minilogin.sandbox.app import create_sandbox_app
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.records import RateLimiter
from minilogin.wechat.client import WeChatClient
from minilogin.wechat.errors import WeChatError
from minilogin.wechat.token_cache import AccessTokenCache
from minilogin.wechat.transport import HttpxTransport
from minilogin.wechat.types import MiniProgram

PUBLIC = "http://sandbox.test"
BASE = f"{PUBLIC}/_sandbox/wechat"
CODE_CALLS = "wxa/getwxacodeunlimit"
APP = MiniProgram("wx1234567890abcdef", "0123456789abcdef0123456789abcdef")
SOURCE = IdentitySource(
    pool_id="pool-1",
    unique_id="wechat",
    display_name="WeChat",
    private_deployment=True,
    app_id=APP.app_id,
    app_secret=APP.app_secret,
    page="pages/login/login",
)
#: The sandbox's released mini program has no such page: WeChat answers 41030 for it.
MISSING = replace(SOURCE, page="pages/missing/missing")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # the start of a minute

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_sandbox_app(PUBLIC, clock))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC, timeout=5) as client:
        yield client


@pytest.fixture
def renderer(http: httpx.AsyncClient, clock: Clock) -> Renderer:
    store = MemoryStore(clock=clock)
    transport = HttpxTransport(http)
    tokens = AccessTokenCache(store, transport, BASE, clock=clock, poll_interval=0.01)
    wechat = WeChatClient(transport, BASE, tokens, clock=clock)
    return Renderer(store, wechat, RateLimiter(store), clock)


async def code_calls(http: httpx.AsyncClient) -> int:
    calls: int = (await http.get("/_sandbox/wechat/stats")).json()["calls"].get(CODE_CALLS, 0)
    return calls


async def test_codes_are_made_within_the_budget_of_each_minute(
    renderer: Renderer, http: httpx.AsyncClient, clock: Clock
) -> None:
    image = await renderer.render(SOURCE, APP, "scene0000000001", budget=2)
    await renderer.render(SOURCE, APP, "scene0000000002", budget=2)

    assert image.content_type in ("image/jpeg", "image/png")
    assert image.data
    with pytest.raises(RateLimited, match="qrcode_budget_exhausted"):
        await renderer.render(SOURCE, APP, "scene0000000003", budget=2)
    assert await code_calls(http) == 2  # the refused one never reached WeChat

    clock.now += 60  # the next minute has a budget of its own
    await renderer.render(SOURCE, APP, "scene0000000003", budget=2)
    assert await code_calls(http) == 3


async def test_a_refused_page_is_not_asked_for_again_before_its_back_off(
    renderer: Renderer, http: httpx.AsyncClient, clock: Clock
) -> None:
    with pytest.raises(WeChatError) as refused:
        await renderer.render(MISSING, APP, "scene0000000001", budget=10)
    assert refused.value.code == INVALID_PAGE
    first = await renderer.refusal(MISSING, APP)
    assert first is not None
    assert (first.page, first.failures) == ("pages/missing/missing", 1)
    assert first.retry_at - first.since == PAGE_BACKOFF

    with pytest.raises(WeChatError):  # within the back-off: refused without asking WeChat
        await renderer.render(MISSING, APP, "scene0000000002", budget=10)
    assert await code_calls(http) == 1

    clock.now = first.retry_at  # asked again, refused again: the back-off doubles
    with pytest.raises(WeChatError):
        await renderer.render(MISSING, APP, "scene0000000003", budget=10)
    assert await code_calls(http) == 2
    second = await renderer.refusal(MISSING, APP)
    assert second is not None
    assert (second.failures, second.since) == (2, first.since)
    assert second.retry_at - clock.now == 2 * PAGE_BACKOFF


async def test_a_corrected_page_is_asked_for_at_once(
    renderer: Renderer, http: httpx.AsyncClient
) -> None:
    with pytest.raises(WeChatError):
        await renderer.render(MISSING, APP, "scene0000000001", budget=10)

    assert await renderer.refusal(SOURCE, APP) is None  # the refusal names the old page
    await renderer.render(SOURCE, APP, "scene0000000002", budget=10)
    assert await code_calls(http) == 2
