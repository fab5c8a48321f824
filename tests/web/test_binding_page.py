"""The binding step of account identity association ("ask binding") on a PC page that uses the
SDK on a customer's site (another origin than the server), in headless Chromium: link an
existing account with its password, create a new account, and the lockout after five wrong
passwords. The phone is played through the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.support.actors import scene_of
from tests.support.chromium import read_qr
from tests.support.configuration import ask_binding_application
from tests.support.live_server import LiveServer, live_server
from tests.support.site import customer_site

from minilogin.core.entities import User
from minilogin.storage.crypto import hash_password

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = Path(__file__).with_name("pages")
PHONE = "+8613700137100"
CODE_SHOWN = """(box) => {
  const image = box && box.querySelector('img');
  return box.dataset.status === 'pending' && image !== null && image.complete
    && image.naturalWidth > 0 && image.src.includes(`/${box.dataset.qrloginId}/image.png`);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("binding")) as running:
        yield running


@pytest.fixture(scope="module")
def site(server: LiveServer) -> Iterator[str]:
    """The test pages on a customer's site of their own origin, the binder app's web origin."""
    with customer_site(PAGES, server.public) as origin:

        async def set_up() -> None:
            store = server.services
            pool = await ask_binding_application(
                store, origin, client_id="binder", name="Binder", connection="ask-binding"
            )
            await store.users.create_user(
                User(
                    pool_id=pool.id,
                    username="meimei",
                    phone="+8613900139100",
                    phone_verified=True,
                    password_hash=hash_password("meimei-secret"),
                )
            )

        server.run(set_up())
        yield origin


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1000, "height": 760})
    yield context.new_page()
    context.close()


def needs_binding(server: LiveServer, site: str, page: Page, person: str) -> Locator:
    """Open the page, scan and allow on the phone; the page now asks to bind."""
    page.goto(f"{site}/sdk.html?client=binder")
    box = page.get_by_test_id("qrcode-0")
    page.wait_for_function(CODE_SHOWN, arg=box.element_handle())
    appid, scene = scene_of(read_qr(box.locator("img").first))
    phone = server.phone(person)
    phone.set_profile(phone=PHONE)
    phone.scan_and_allow(appid, scene)
    expect(box).to_have_attribute("data-status", "needs_binding")
    expect(page.get_by_test_id("binding")).to_be_visible()
    return box


def user_on(page: Page) -> dict[str, object]:
    result = page.get_by_test_id("result-0")
    expect(result).not_to_be_empty(timeout=15000)
    user: dict[str, object] = json.loads(result.inner_text())["user"]
    return user


def test_link_an_existing_account(server: LiveServer, site: str, page: Page) -> None:
    needs_binding(server, site, page, "binder-link")
    expect(page.get_by_test_id("binding")).to_contain_text("+86 137****7100")
    page.get_by_test_id("binding-username").fill("13900139100")
    page.get_by_test_id("binding-password").fill("meimei-secret")
    page.get_by_test_id("binding-submit").click()
    user = user_on(page)
    assert user["phone_number"] == "+8613900139100", "the existing account, found by its phone"


def test_create_a_new_account(server: LiveServer, site: str, page: Page) -> None:
    needs_binding(server, site, page, "binder-create")
    page.get_by_test_id("binding-create").click()
    user = user_on(page)
    assert user["phone_number"] == PHONE
    assert user["phone_number_verified"] is True


def test_five_wrong_passwords_end_the_login(server: LiveServer, site: str, page: Page) -> None:
    box = needs_binding(server, site, page, "binder-guess")
    for attempt in range(1, 6):
        page.get_by_test_id("binding-username").fill("meimei")
        page.get_by_test_id("binding-password").fill(f"guess-{attempt}")
        page.get_by_test_id("binding-submit").click()
        if attempt < 5:
            expect(page.get_by_test_id("binding-error")).to_have_text("账号或密码错误。")
    expect(box).to_have_attribute("data-status", "cancelled")
    expect(box).to_contain_text("密码错误次数过多")
    expect(page.get_by_test_id("binding")).to_be_hidden()
