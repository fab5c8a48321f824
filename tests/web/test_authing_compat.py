"""``static/authing-compat.js``: a page written against Authing's
``wxqrcode.startScanning(domId, {onSuccess, onError, onScanned, onExpired, onCancel})``, served
from an origin of its own (another port), logs in through minilogin in headless Chromium with
only its import and constructor changed. The code expires, is refreshed, is cancelled on the
phone, is refreshed again and is allowed; each of Authing's callbacks fires with Authing's
shapes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles
from tests.support.live_server import LiveServer, live_server, serving
from tests.support.server import free_port
from tests.web.test_sdk import shown_code

from minilogin.core.entities import Application
from minilogin.seed import DEMO_CONNECTION

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = Path(__file__).with_name("pages")
CLIENT = "authing-page"


@dataclass
class Sites:
    minilogin: LiveServer
    page: str


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with live_server(tmp_path_factory.mktemp("authing")) as server:

        async def register() -> None:
            store = server.services
            pool = await store.pools.get_pool("demo")
            assert pool is not None
            await store.applications.create_application(
                Application(pool.id, CLIENT, "Authing 迁移页", web_origins=[origin])
            )
            await store.identity_sources.enable_identity_source(pool.id, CLIENT, DEMO_CONNECTION)

        server.run(register())
        pages = Starlette()
        pages.mount("/", StaticFiles(directory=PAGES))
        with serving(pages, port):
            yield Sites(server, origin)


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 800, "height": 600})
    yield context.new_page()
    context.close()


def events(page: Page, name: str) -> list[list[Any]]:
    recorded: list[list[Any]] = page.evaluate("window.events")
    return [event for event in recorded if event[0] == name]


def test_a_page_written_for_authing_logs_in_with_its_callbacks(sites: Sites, page: Page) -> None:
    server = sites.minilogin
    phone = server.phone("authing-carol")
    phone.set_profile(phone="+8613800138055")
    page.clock.install()
    page.goto(f"{sites.page}/authing.html?issuer={server.issuer()}&client_id={CLIENT}")
    box = page.get_by_test_id("qrcode")

    # The first code expires: onExpired.
    first = box_id(page)
    shown_code(box)
    server.clock.advance(121)
    page.clock.fast_forward(121_000)
    expect(box).to_have_attribute("data-status", "expired")
    assert events(page, "expired") == [["expired"]]

    # Refreshed by a click, scanned, then cancelled on the phone: onScanned, onCancel.
    page.get_by_test_id("qrcode-overlay").click()
    appid, scene = shown_code(box, previous=first)
    scanned = phone.scan(appid, scene)
    expect(box).to_have_attribute("data-status", "scanned")
    assert phone.cancel(scanned.json()["session"]).status_code == 200
    expect(box).to_have_attribute("data-status", "cancelled")
    # Before the person allows, WeChat has told nothing about them yet.
    assert events(page, "scanned")[0][1] == {"nickname": None, "photo": None}
    assert events(page, "cancel") == [["cancel"]]

    # A third code, allowed: onSuccess with Authing's user and the tokens.
    cancelled = box_id(page)
    page.get_by_test_id("qrcode-overlay").click()
    phone.scan_and_allow(*shown_code(box, previous=cancelled), nickname="Carol")
    page.wait_for_function("window.events.some((event) => event[0] === 'success')")
    [[_, user, has_tokens]] = events(page, "success")
    assert has_tokens is True
    assert user["phone"] == "13800138055", "mainland numbers without +86, as Authing keeps them"
    assert user["phoneNumber"] == "+8613800138055"
    assert user["phoneVerified"] is True
    assert user["nickname"] == "Carol"
    claims = json.loads(base64.urlsafe_b64decode(user["token"].split(".")[1] + "=="))
    assert (claims["sub"], claims["aud"]) == (user["id"], CLIENT)

    assert events(page, "start") == [["start", None]]
    assert [event[1] for event in events(page, "codeShow")] == [True]
    assert [event[1] for event in events(page, "result")] == [0, -1, 0, 1, 3, 0, 1, 2]
    assert events(page, "error") == []


def box_id(page: Page) -> str:
    page.wait_for_function("document.querySelector('[data-testid=qrcode]').dataset.qrloginId")
    qrlogin_id = page.get_by_test_id("qrcode").get_attribute("data-qrlogin-id")
    assert qrlogin_id
    return qrlogin_id
