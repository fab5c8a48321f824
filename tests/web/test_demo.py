"""The demo page ``{public}/demo/`` in headless Chromium, with the sandbox's phone simulator in a
second tab, used as a person would: the PC tab shows a code, the phone tab opens what the code
holds (read from a screenshot, as a camera reads the screen), scans, allows or denies, and the
PC tab follows live until it shows the ID token's claims.

With ``MINILOGIN_SCREENSHOTS=1`` the run also saves the README's pictures in
``docs/screenshots/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.support.chromium import read_qr, screenshot_for_docs
from tests.support.server import RunningServer, minilogin_dev
from tests.web.test_sdk import CODE_SHOWN as CODE_IN_BOX_SHOWN

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The SDK draws a code in the container and keeps its status in ``data-status``; the code is
# on screen once the image of the container's current QR login has loaded.
CODE_SHOWN = """() => {
  const box = document.querySelector('[data-testid=qrcode]');
  const image = box && box.querySelector('img');
  return box.dataset.status === 'pending' && image !== null && image.complete
    && image.naturalWidth > 0 && image.src.includes(`/${box.dataset.qrloginId}/image.png`);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with minilogin_dev(tmp_path_factory.mktemp("demo")) as running:
        yield running


@dataclass
class Tabs:
    """The computer's tab on the demo page and the phone simulator beside it."""

    pc: Page
    phone: Page

    @property
    def code(self) -> Locator:
        return self.pc.get_by_test_id("qrcode")

    def shown_code(self) -> str:
        """What the code on the PC tab holds, once it is on screen."""
        self.pc.wait_for_function(CODE_SHOWN)
        return read_qr(self.code.locator("img").first)

    def scan(self, phone_url: str, user: str, phone_number: str) -> None:
        self.phone.bring_to_front()
        self.phone.goto(phone_url)
        self.play_phone(user, phone_number)

    def play_phone(self, user: str, phone_number: str) -> None:
        """On the phone simulator page that is open: be ``user`` with that number, and scan."""
        self.phone.get_by_test_id("user").fill(user)
        self.phone.get_by_test_id("user").press("Tab")
        # Typed at once, as a person would: the number the sandbox knows for the user must not
        # overwrite or mix with what is being typed.
        number = self.phone.get_by_test_id("phone")
        number.fill(phone_number)
        expect(number).to_have_value(phone_number)
        self.phone.get_by_test_id("scan").click()
        expect(self.phone.get_by_test_id("app-name")).to_have_text("演示应用 Demo app")

    def allow(self) -> None:
        self.phone.get_by_test_id("allow").click()
        expect(self.phone.get_by_test_id("result")).to_have_attribute("data-status", "authorized")

    def logged_in_claims(self) -> dict[str, object]:
        expect(self.pc.get_by_test_id("result")).to_be_visible()
        expect(self.code).to_have_attribute("data-status", "authorized")
        claims: dict[str, object] = json.loads(self.pc.get_by_test_id("claims").inner_text())
        return claims


@pytest.fixture
def tabs(chromium: Browser) -> Iterator[Tabs]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1200, "height": 700})
    pc = context.new_page()
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    yield Tabs(pc, phone)
    context.close()


def test_logging_in_on_the_demo_page_with_the_phone_simulator(
    server: RunningServer, tabs: Tabs
) -> None:
    tabs.pc.goto(f"{server.public}/demo/")
    phone_url = tabs.shown_code()
    assert re.fullmatch(
        rf"{re.escape(server.public)}/_sandbox/phone\?appid=wx0000000000sandbox&scene=\w+",
        phone_url,
    )
    expect(tabs.code).to_contain_text("请使用微信扫一扫登录")
    # A laptop can't scan its own screen: the SDK links the simulator page the code holds.
    expect(tabs.pc.get_by_test_id("phone-simulator")).to_have_attribute("href", phone_url)
    expect(tabs.pc.get_by_test_id("phone-simulator")).to_have_text("沙箱模式：打开手机模拟器")
    screenshot_for_docs(tabs.pc, "demo-code")

    tabs.scan(phone_url, "alice", "+8613900139000")
    expect(tabs.phone.get_by_test_id("browser")).to_contain_text("Chrome")
    expect(tabs.phone.get_by_test_id("ip")).to_have_text("127.0.0.1")
    expect(tabs.code).to_have_attribute("data-status", "scanned")
    expect(tabs.code).to_contain_text("扫码成功，请在手机上确认")
    tabs.phone.get_by_test_id("nickname").fill("Alice")
    screenshot_for_docs(tabs.phone, "phone-request")
    screenshot_for_docs(tabs.pc, "demo-scanned")

    tabs.allow()

    claims = tabs.logged_in_claims()
    assert claims["phone_number"] == "+8613900139000"
    assert claims["phone_number_verified"] is True
    assert claims["iss"] == server.issuer()
    assert claims["aud"] == "demo"
    assert claims["amr"] == ["wechat_mp_qrcode"]
    assert claims["name"] == "Alice"
    expect(tabs.pc.get_by_test_id("phone")).to_have_text("+8613900139000")
    userinfo = json.loads(tabs.pc.get_by_test_id("userinfo").inner_text())
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["phone_number"] == "+8613900139000"
    screenshot_for_docs(tabs.pc, "demo-logged-in")


def test_a_denied_code_is_refreshed_by_a_click_and_the_new_one_logs_in(
    server: RunningServer, tabs: Tabs
) -> None:
    tabs.pc.goto(f"{server.public}/demo/")
    denied_url = tabs.shown_code()
    tabs.scan(denied_url, "bob", "+8613700137001")
    expect(tabs.code).to_have_attribute("data-status", "scanned")

    tabs.phone.get_by_test_id("deny").click()

    expect(tabs.phone.get_by_test_id("result")).to_have_attribute("data-status", "cancelled")
    expect(tabs.code).to_have_attribute("data-status", "cancelled")
    over_the_code = tabs.code.get_by_role("button")
    expect(over_the_code).to_have_text("你已在手机上取消本次登录点击刷新")
    expect(tabs.code.get_by_test_id("qrcode-caption")).to_have_text("")

    over_the_code.click()

    fresh_url = tabs.shown_code()
    assert fresh_url != denied_url
    tabs.scan(fresh_url, "bob", "+8613700137001")
    expect(tabs.code).to_have_attribute("data-status", "scanned")
    tabs.allow()
    assert tabs.logged_in_claims()["phone_number"] == "+8613700137001"


@pytest.fixture(scope="module")
def recycling_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with minilogin_dev(
        tmp_path_factory.mktemp("demo-recycling"), MINILOGIN_CODE_POOL_RECYCLE="true"
    ) as running:
        yield running


def test_with_recycled_codes_the_phone_simulator_picks_the_digits_the_pc_shows(
    recycling_server: RunningServer, tabs: Tabs
) -> None:
    server = recycling_server
    tabs.pc.goto(f"{server.public}/demo/")
    phone_url = tabs.shown_code()
    digits = tabs.code.get_by_test_id("qrcode-match").locator("strong").inner_text()
    assert re.fullmatch(r"\d\d", digits)
    tabs.scan(phone_url, "matcher", "+8613900139009")
    expect(tabs.phone.get_by_test_id("match")).to_be_visible()
    expect(tabs.phone.get_by_test_id("allow")).to_be_disabled()  # nothing picked yet
    tabs.phone.get_by_test_id(f"match-{digits}").click()
    tabs.allow()
    assert tabs.logged_in_claims()["phone_number"] == "+8613900139009"


def test_with_recycled_codes_a_wrong_pick_ends_the_login_on_both_sides(
    recycling_server: RunningServer, tabs: Tabs
) -> None:
    server = recycling_server
    tabs.pc.goto(f"{server.public}/demo/")
    phone_url = tabs.shown_code()
    digits = tabs.code.get_by_test_id("qrcode-match").locator("strong").inner_text()
    tabs.scan(phone_url, "guesser", "+8613900139008")
    choices = tabs.phone.get_by_test_id("match").locator("button")
    wrong = next(text for text in choices.all_inner_texts() if text != digits)
    tabs.phone.get_by_test_id(f"match-{wrong}").click()
    tabs.phone.get_by_test_id("allow").click()
    result = tabs.phone.get_by_test_id("result")
    expect(result).to_have_attribute("data-status", "match_failed")
    expect(result).to_contain_text("数字不一致")
    expect(tabs.code).to_have_attribute("data-status", "cancelled")
    expect(tabs.code).to_contain_text("手机上选择的数字与电脑上的不一致")


def test_the_hosted_page_is_finished_by_following_its_simulator_link(
    server: RunningServer, tabs: Tabs
) -> None:
    """The demo's other way in: the hosted login page, finished on a laptop alone through the
    "open the phone simulator" link it shows, back to the demo's redirect URI, which shows
    the result."""
    tabs.pc.goto(f"{server.public}/demo/")
    tabs.shown_code()
    tabs.pc.get_by_test_id("hosted-login").click()
    tabs.pc.wait_for_url(f"{server.issuer()}/oidc/auth?**")
    # The component draws in its shadow root, which only locators pierce.
    tabs.pc.wait_for_function(CODE_IN_BOX_SHOWN, arg=tabs.code.element_handle())
    phone_url = read_qr(tabs.code.locator("img").first)
    link = tabs.pc.get_by_test_id("phone-simulator")
    expect(link).to_have_attribute("href", phone_url)
    with tabs.pc.context.expect_page() as opened:
        link.click()
    tabs.phone.close()
    tabs.phone = opened.value
    tabs.phone.set_viewport_size({"width": 390, "height": 844})
    tabs.phone.wait_for_url(phone_url)
    tabs.play_phone("carol", "+8613600136000")
    expect(tabs.code).to_have_attribute("data-status", "scanned")
    tabs.allow()

    tabs.pc.wait_for_url(f"{server.public}/demo/callback")
    expect(tabs.pc.get_by_test_id("heading")).to_have_text("登录成功 · Logged in")
    expect(tabs.pc.get_by_test_id("phone")).to_have_text("+8613600136000")
    claims = json.loads(tabs.pc.get_by_test_id("claims").inner_text())
    assert claims["iss"] == server.issuer()
    assert claims["aud"] == "demo"
    assert claims["phone_number"] == "+8613600136000"
    userinfo = json.loads(tabs.pc.get_by_test_id("userinfo").inner_text())
    assert userinfo["sub"] == claims["sub"]


def test_the_callback_page_shows_what_went_wrong(server: RunningServer, tabs: Tabs) -> None:
    tabs.pc.goto(f"{server.public}/demo/")
    tabs.pc.get_by_test_id("hosted-login").click()
    tabs.pc.wait_for_url(f"{server.issuer()}/oidc/auth?**")
    tabs.pc.get_by_test_id("cancel").click()
    tabs.pc.wait_for_url(f"{server.public}/demo/callback**")
    expect(tabs.pc.get_by_test_id("error")).to_have_text("access_denied")
    expect(tabs.pc.get_by_test_id("result")).to_be_hidden()

    # Reached without a login of this browser's (a stale bookmark, a forged link).
    response = tabs.pc.goto(f"{server.public}/demo/callback?code=forged&state=forged")
    assert response is not None
    assert response.status == 200
    expect(tabs.pc.get_by_test_id("error")).to_have_text("invalid_state")
