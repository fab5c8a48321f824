"""The JavaScript SDK and the ``<minilogin-login>`` component in headless Chromium, on test pages
of a customer's site on another origin than the server (registered as the demo application's
web origin), loading the SDK from the server across origins, used the way a person meets
them: the page shows a code, the phone reads it from a screenshot of the page as a camera
would, scans and allows through the sandbox, and the page ends logged in.

With ``MINILOGIN_SCREENSHOTS=1`` the run also saves ``docs/screenshots/component-*.png``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.support.actors import scene_of
from tests.support.chromium import read_qr, screenshot_for_docs
from tests.support.configuration import ask_binding_application
from tests.support.live_server import LiveServer, live_server
from tests.support.site import ADMIN_TOKEN, allow_origin, customer_site

from minilogin.core.entities import User
from minilogin.storage.crypto import hash_password

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = Path(__file__).with_name("pages")

# A container the SDK draws into shows a code once the image of its current QR login loaded.
CODE_SHOWN = """(box) => {
  const image = box && box.querySelector('img');
  return box.dataset.status === 'pending' && image !== null && image.complete
    && image.naturalWidth > 0 && image.src.includes(`/${box.dataset.qrloginId}/image.png`);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("sdk"), admin_token=ADMIN_TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def site(server: LiveServer) -> Iterator[str]:
    """The customer's site with the test pages, its origin a web origin of the demo app."""
    with customer_site(PAGES, server.public) as origin:
        allow_origin(server.public, "demo", origin)
        yield origin


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1100, "height": 760})
    yield context.new_page()
    context.close()


def shown_code(box: Locator, previous: str | None = None) -> tuple[str, str]:
    """The AppID and scene of the code ``box`` shows, read from a screenshot, once it is on
    screen (and, after a refresh, once it is another login's than ``previous``)."""
    box.page.wait_for_function(CODE_SHOWN, arg=box.element_handle())
    if previous is not None:
        expect(box).not_to_have_attribute("data-qrlogin-id", previous)
        box.page.wait_for_function(CODE_SHOWN, arg=box.element_handle())
    return scene_of(read_qr(box.locator("img").first))


def result_of(locator: Locator) -> dict[str, Any]:
    expect(locator).not_to_be_empty(timeout=15000)
    result: dict[str, Any] = json.loads(locator.inner_text())
    return result


def test_the_sdk_logs_in_on_a_page(server: LiveServer, site: str, page: Page) -> None:
    phone = server.phone("sdk-alice")
    phone.set_profile(phone="+8613700137001")
    page.goto(f"{site}/sdk.html")
    box = page.get_by_test_id("qrcode-0")
    appid, scene = shown_code(box)
    expect(box).to_contain_text("请使用微信扫一扫登录")
    scanned = phone.scan(appid, scene)
    assert scanned.status_code == 200
    expect(box).to_have_attribute("data-status", "scanned")
    expect(box).to_contain_text("扫码成功，请在手机上确认")
    assert box.inner_text().count("扫码成功") == 1, "on the code, not again under it"
    assert phone.confirm(appid, scanned.json()["session"], nickname="Alice").status_code == 200
    result = result_of(page.get_by_test_id("result-0"))
    assert result["user"]["phone_number"] == "+8613700137001"
    assert result["user"]["name"] == "Alice"
    assert result["user"]["iss"] == server.issuer()
    assert result["sameAccessToken"] is True
    assert result["hasRefreshToken"] is True
    expect(box).to_have_attribute("data-status", "authorized")
    events = page.evaluate("window.events")
    assert {"instance": 0, "name": "scanned", "status": "scanned"} in events


def test_two_instances_on_one_page_never_interfere(
    server: LiveServer, site: str, page: Page
) -> None:
    first, second = server.phone("two-a"), server.phone("two-b")
    first.set_profile(phone="+8613700137002")
    second.set_profile(phone="+8613700137003")
    page.goto(f"{site}/sdk.html?count=2")
    code_a = shown_code(page.get_by_test_id("qrcode-0"))
    code_b = shown_code(page.get_by_test_id("qrcode-1"))
    assert code_a != code_b
    # The second code is allowed first; each instance ends with its own person's tokens.
    second.scan_and_allow(*code_b)
    result_b = result_of(page.get_by_test_id("result-1"))
    expect(page.get_by_test_id("qrcode-0")).to_have_attribute("data-status", "pending")
    first.scan_and_allow(*code_a)
    result_a = result_of(page.get_by_test_id("result-0"))
    assert result_a["user"]["phone_number"] == "+8613700137002"
    assert result_b["user"]["phone_number"] == "+8613700137003"
    assert result_a["user"]["sub"] != result_b["user"]["sub"]


def test_a_code_cancelled_on_the_phone_is_refreshed_by_a_click(
    server: LiveServer, site: str, page: Page
) -> None:
    phone = server.phone("sdk-cancel")
    phone.set_profile(phone="+8613700137004")
    page.goto(f"{site}/sdk.html?lang=en")
    box = page.get_by_test_id("qrcode-0")
    appid, scene = shown_code(box)
    expect(box).to_contain_text("Scan with WeChat to log in")
    scanned = phone.scan(appid, scene)
    assert phone.cancel(scanned.json()["session"]).status_code == 200
    expect(box).to_have_attribute("data-status", "cancelled")
    expect(box).to_contain_text("You cancelled this login on the phone")
    cancelled_id = box.get_attribute("data-qrlogin-id")
    assert cancelled_id
    page.get_by_test_id("qrcode-overlay").click()
    new_code = shown_code(box, previous=cancelled_id)
    assert new_code != (appid, scene)
    phone.scan_and_allow(*new_code)
    assert result_of(page.get_by_test_id("result-0"))["user"]["phone_number"] == "+8613700137004"
    assert {"instance": 0, "name": "cancelled", "status": "cancelled"} in page.evaluate(
        "window.events"
    )


def test_an_expired_code_is_refreshed_and_the_new_one_logs_in(
    server: LiveServer, site: str, page: Page
) -> None:
    """Expiry without waiting two minutes: the server's clock and the page's clock both move
    past the code's deadline; the SDK asks when its code should have expired, shows the
    expired state, and a click shows a new code that logs in."""
    phone = server.phone("sdk-expiry")
    phone.set_profile(phone="+8613700137005")
    page.clock.install()
    page.goto(f"{site}/sdk.html")
    box = page.get_by_test_id("qrcode-0")
    expired_code = shown_code(box)
    expired_id = box.get_attribute("data-qrlogin-id")
    assert expired_id
    server.clock.advance(121)
    page.clock.fast_forward(121_000)
    expect(box).to_have_attribute("data-status", "expired")
    expect(box.get_by_test_id("qrcode-overlay")).to_have_text("二维码已过期点击刷新")
    expect(box.get_by_test_id("qrcode-caption")).to_have_text("")
    assert box.inner_text().count("二维码已过期") == 1, "each status is said once"
    assert phone.scan(*expired_code).status_code == 410
    page.get_by_test_id("qrcode-overlay").click()
    new_code = shown_code(box, previous=expired_id)
    phone.scan_and_allow(*new_code)
    assert result_of(page.get_by_test_id("result-0"))["user"]["phone_number"] == "+8613700137005"
    assert {"instance": 0, "name": "expired", "status": "expired"} in page.evaluate("window.events")


def test_auto_refresh_shows_a_new_code_by_itself(server: LiveServer, site: str, page: Page) -> None:
    phone = server.phone("sdk-auto")
    page.goto(f"{site}/sdk.html?auto=1")
    box = page.get_by_test_id("qrcode-0")
    appid, scene = shown_code(box)
    first_id = box.get_attribute("data-qrlogin-id")
    assert first_id
    phone.cancel(phone.scan(appid, scene).json()["session"])
    assert shown_code(box, previous=first_id) != (appid, scene)


def test_the_component_logs_in_and_fires_its_login_event(
    server: LiveServer, site: str, page: Page
) -> None:
    phone = server.phone("component-alice")
    phone.set_profile(phone="+8613700137006")
    page.goto(f"{site}/component.html")
    element = page.locator("minilogin-login")
    # One tab per identity source enabled for the application, with its display name.
    expect(page.get_by_test_id("tab-wechat-mp-qrcode")).to_have_text("微信扫码登录")
    expect(page.get_by_test_id("tab-wechat-mp-qrcode")).to_have_attribute("aria-selected", "true")
    box = page.get_by_test_id("qrcode")
    appid, scene = shown_code(box)
    expect(element).to_contain_text("请使用微信扫一扫登录")
    # Sandbox mode: the component links the phone simulator page its code holds.
    simulator = page.get_by_test_id("phone-simulator")
    expect(simulator).to_have_attribute("href", re.compile(rf"/_sandbox/phone\?.*scene={scene}"))
    screenshot_for_docs(element, "component-code")
    scanned = phone.scan(appid, scene)
    expect(box).to_have_attribute("data-status", "scanned")
    screenshot_for_docs(element, "component-scanned")
    assert phone.confirm(appid, scanned.json()["session"]).status_code == 200
    event = result_of(page.get_by_test_id("login-event"))
    assert event["user"]["phone_number"] == "+8613700137006"
    assert event["hasAccessToken"] is True
    # Themed with CSS custom properties from the page, through the shadow root.
    accent = page.get_by_test_id("tab-wechat-mp-qrcode").evaluate(
        "tab => getComputedStyle(tab).color"
    )
    assert accent == "rgb(47, 107, 255)"


def test_the_component_speaks_english(server: LiveServer, site: str, page: Page) -> None:
    page.goto(f"{site}/component.html?lang=en")
    box = page.get_by_test_id("qrcode")
    shown_code(box)
    expect(page.locator("minilogin-login")).to_contain_text("Scan with WeChat to log in")


def test_the_component_says_what_is_wrong_with_its_configuration(
    server: LiveServer, site: str, page: Page
) -> None:
    page.goto(f"{site}/component.html?client=nobody&lang=en")
    expect(page.locator("minilogin-login")).to_contain_text("This application does not exist.")


def test_the_component_shows_the_binding_step_and_links_an_existing_account(
    server: LiveServer, site: str, page: Page
) -> None:
    """Association "ask binding": the component asks for an existing account's password
    (a wrong one is refused without ending the login) and goes on to the tokens."""

    async def set_up() -> str:
        store = server.services
        pool = await ask_binding_application(
            store, site, client_id="bind-app", name="Bind", connection="wechat-bind"
        )
        carol = await store.users.create_user(
            User(pool_id=pool.id, username="carol", password_hash=hash_password("carol-pass-1"))
        )
        return carol.id

    carol = server.run(set_up())
    phone = server.phone("bind-carol")
    phone.set_profile(phone="+8613700137009")
    page.goto(f"{site}/component.html?client=bind-app&lang=en")
    appid, scene = shown_code(page.get_by_test_id("qrcode"))
    phone.scan_and_allow(appid, scene)
    binding = page.get_by_test_id("binding")
    expect(binding).to_be_visible()
    expect(binding).to_contain_text("+86 137****7009")
    expect(page.get_by_test_id("binding-create")).to_be_visible()
    page.get_by_test_id("binding-username").fill("carol")
    page.get_by_test_id("binding-password").fill("wrong-password")
    page.get_by_test_id("binding-submit").click()
    expect(page.get_by_test_id("binding-error")).to_have_text("The account or password is wrong.")
    expect(page.get_by_test_id("qrcode")).to_have_attribute("data-status", "needs_binding")
    page.get_by_test_id("binding-password").fill("carol-pass-1")
    page.get_by_test_id("binding-submit").click()
    event = result_of(page.get_by_test_id("login-event"))
    assert event["user"]["sub"] == carol
    expect(binding).to_be_hidden()


@pytest.fixture(scope="module")
def recycling_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("sdk-recycling"), admin_token=ADMIN_TOKEN, code_pool_recycle=True
    ) as running:
        yield running


@pytest.fixture(scope="module")
def recycling_site(recycling_server: LiveServer) -> Iterator[str]:
    with customer_site(PAGES, recycling_server.public) as origin:
        allow_origin(recycling_server.public, "demo", origin)
        yield origin


def test_with_recycled_codes_the_sdk_shows_the_digits_the_phone_must_pick(
    recycling_server: LiveServer, recycling_site: str, page: Page
) -> None:
    server = recycling_server
    phone = server.phone("sdk-matcher")
    phone.set_profile(phone="+8613700137009")
    page.goto(f"{recycling_site}/sdk.html")
    box = page.get_by_test_id("qrcode-0")
    appid, scene = shown_code(box)
    shown = box.get_by_test_id("qrcode-match")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("在手机上选择这个数字")
    digits = shown.locator("strong").inner_text()
    scanned = phone.scan(appid, scene)
    assert digits in scanned.json()["match"]["choices"]
    expect(box).to_have_attribute("data-status", "scanned")
    expect(shown).to_have_text(f"{digits}扫码后，在手机上选择这个数字")
    allowed = phone.confirm(appid, scanned.json()["session"], match=digits)
    assert allowed.status_code == 200, allowed.text
    assert result_of(page.get_by_test_id("result-0"))["user"]["phone_number"] == "+8613700137009"
    expect(shown).to_be_hidden()
