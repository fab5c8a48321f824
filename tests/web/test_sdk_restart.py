"""The SDK rides out a restart of the server it waits on (issue 14 §3): headless Chromium on
the demo page of a real ``minilogin dev`` process (logins in progress in Redis with
append-only persistence); the process is killed while the page waits for the phone and
started again on the same port; the page keeps the same QR login, never shows an error, and
ends logged in once the phone allows."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from itertools import groupby
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.support.actors import Phone, scene_of
from tests.support.chromium import read_qr
from tests.support.redis_server import RestartableRedis, restartable_redis
from tests.support.server import free_port, minilogin_dev

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

T = TypeVar("T")

CODE_SHOWN = """(box) => {
  const image = box && box.querySelector('img');
  return box.dataset.status === 'pending' && image !== null && image.complete
    && image.naturalWidth > 0;
}"""
# Every status the code's container shows, in order.
RECORD_STATUSES = """(box) => {
  window.statuses = [box.dataset.status];
  new MutationObserver(() => window.statuses.push(box.dataset.status))
    .observe(box, { attributes: true, attributeFilter: ['data-status'] });
}"""


def on_the_phone(action: Callable[[Phone], Awaitable[T]], public: str, user: str) -> T:
    """Run a ``Phone`` call on a loop of its own: Playwright's sync API holds this thread's."""
    result: list[T] = []

    async def call() -> None:
        async with httpx.AsyncClient(timeout=20) as http:
            result.append(await action(Phone(http, public, user)))

    thread = threading.Thread(target=asyncio.run, args=(call(),))
    thread.start()
    thread.join(60)
    return result[0]


@pytest.fixture
def redis() -> Iterator[RestartableRedis]:
    with restartable_redis(appendonly=True) as server:
        yield server


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN")
    yield context.new_page()
    context.close()


def test_the_sdk_keeps_its_login_across_a_server_restart(
    tmp_path: Path, redis: RestartableRedis, page: Page
) -> None:
    port = free_port()
    env = {"MINILOGIN_REDIS_URL": redis.url()}
    user = f"user-{uuid.uuid4().hex[:8]}"
    with minilogin_dev(tmp_path, port, **env) as first:
        page.goto(f"{first.public}/demo/")
        box = page.get_by_test_id("qrcode")
        page.wait_for_function(CODE_SHOWN, arg=box.element_handle())
        page.evaluate(RECORD_STATUSES, box.element_handle())
        login_id = box.get_attribute("data-qrlogin-id")
        appid, scene = scene_of(read_qr(box.locator("img").first))
        scanned = on_the_phone(lambda phone: phone.scan(appid, scene), first.public, user)
        assert scanned.status_code == 200, scanned.text
        expect(box).to_have_attribute("data-status", "scanned")
        first.process.kill()
        first.process.wait()
    # The page meets a refused connection a few times while nothing listens.
    page.wait_for_timeout(1500)

    with minilogin_dev(tmp_path, port, **env) as second:
        confirmed = on_the_phone(
            lambda phone: phone.confirm(appid, str(scanned.json()["session"])),
            second.public,
            user,
        )
        assert confirmed.status_code == 200, confirmed.text
        expect(page.get_by_test_id("result")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("phone")).to_contain_text("+86")
        assert box.get_attribute("data-qrlogin-id") == login_id
        shown = [status for status, _ in groupby(page.evaluate("window.statuses"))]
        assert shown == ["pending", "scanned", "authorized"]
