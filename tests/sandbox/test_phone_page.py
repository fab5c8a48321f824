"""The sandbox's phone simulator in Chromium: each way the phone-number button can fail in the
real mini program (miniprogram/lib/phone.js) can be tried, and ends as the mini program ends
it, on the phone and on the computer."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.support.server import RunningServer, minilogin_dev

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with minilogin_dev(tmp_path_factory.mktemp("phone-page")) as running:
        yield running


@pytest.fixture
def phone(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


def computer_login(server: RunningServer) -> tuple[str, dict[str, str], str]:
    """A QR login as the PC page makes one: its status URL, the secret's header, and the
    phone simulator's URL its code holds."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    created = httpx.post(
        f"{server.issuer()}/api/qrcodes",
        json={
            "client_id": "demo",
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
            "scope": "openid phone",
        },
    ).json()
    auth = {"Authorization": f"Bearer {created['secret']}"}
    where = httpx.get(f"{server.public}/demo/api/phone-url/{created['id']}", headers=auth)
    return f"{server.issuer()}/api/qrcodes/{created['id']}", auth, where.json()["phone_url"]


@pytest.mark.parametrize(
    ("answer", "status", "login", "error"),
    [
        ("not_permitted", "phone_not_permitted", "cancelled", "phone_unavailable"),
        ("outdated", "wechat_outdated", "cancelled", "phone_unavailable"),
        ("privacy", "privacy_denied", "scanned", None),
        ("decline", "phone_denied", "cancelled", "phone_denied"),
    ],
)
def test_each_failure_of_the_phone_button_ends_as_in_the_mini_program(
    server: RunningServer, phone: Page, answer: str, status: str, login: str, error: str | None
) -> None:
    url, auth, phone_url = computer_login(server)
    phone.goto(phone_url)
    phone.get_by_test_id("user").fill(f"user-{answer}")
    phone.get_by_test_id("phone-answer").select_option(answer)
    phone.get_by_test_id("scan").click()
    expect(phone.get_by_test_id("app-name")).to_have_text("演示应用 Demo app")

    phone.get_by_test_id("allow").click()

    expect(phone.get_by_test_id("result")).to_have_attribute("data-status", status)
    state = httpx.get(url, headers=auth).json()
    assert (state["status"], state.get("error")) == (login, error)


def test_after_the_privacy_prompt_retry_goes_back_to_the_request(
    server: RunningServer, phone: Page
) -> None:
    url, auth, phone_url = computer_login(server)
    phone.goto(phone_url)
    phone.get_by_test_id("user").fill("user-privacy-retry")
    phone.get_by_test_id("phone-answer").select_option("privacy")
    phone.get_by_test_id("scan").click()
    phone.get_by_test_id("allow").click()
    expect(phone.get_by_test_id("result")).to_have_attribute("data-status", "privacy_denied")

    phone.get_by_test_id("retry").click()
    phone.get_by_test_id("allow").click()

    expect(phone.get_by_test_id("result")).to_have_attribute("data-status", "authorized")
    assert httpx.get(url, headers=auth).json()["status"] == "authorized"
