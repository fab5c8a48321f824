"""``examples/relying_party`` against a running minilogin: Authlib's standard OIDC client, set
up from discovery alone, logs a person in through the hosted page in Chromium (the phone in
the sandbox), validates the ID token on the example's backend, and logs out again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from examples.relying_party.app import create_app
from playwright.sync_api import Browser, Page, expect

from minilogin.core.entities import Application, ApplicationType
from minilogin.core.tokens import digest
from minilogin.seed import DEMO_CONNECTION
from tests.support.live_server import LiveServer, live_server, serving
from tests.support.server import free_port
from tests.support.site import ADMIN_TOKEN, allow_origin, customer_site
from tests.web.test_sdk import shown_code

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLIENT = "rp-example"
SECRET = "rp-example-secret-0123456789"


@dataclass
class Sites:
    minilogin: LiveServer
    rp: str


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    port = free_port()
    rp = f"http://127.0.0.1:{port}"
    with live_server(tmp_path_factory.mktemp("rp")) as server:

        async def register() -> None:
            store = server.services.durable
            pool = await store.get_pool("demo")
            assert pool is not None
            await store.create_application(
                Application(
                    pool_id=pool.id,
                    client_id=CLIENT,
                    name="示例网站 Example site",
                    type=ApplicationType.WEB,
                    redirect_uris=[f"{rp}/callback"],
                    post_logout_redirect_uris=[f"{rp}/"],
                    client_secret_hash=digest(SECRET),
                )
            )
            await store.enable_identity_source(pool.id, CLIENT, DEMO_CONNECTION)

        server.run(register())
        app = create_app(server.issuer(), CLIENT, SECRET, rp, "test-session-secret")
        with serving(app, port):
            yield Sites(server, rp)


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1000, "height": 760})
    yield context.new_page()
    context.close()


def test_the_example_logs_in_through_discovery_and_validates_the_id_token(
    sites: Sites, page: Page
) -> None:
    server = sites.minilogin
    phone = server.phone("rp-alice")
    phone.set_profile(phone="+8613400134001", nickname="Alice")
    page.goto(f"{sites.rp}/")
    page.get_by_test_id("login").click()
    page.wait_for_url(f"{server.issuer()}/oidc/auth?**")
    expect(page.get_by_test_id("application-name")).to_have_text("示例网站 Example site")
    phone.scan_and_allow(*shown_code(page.get_by_test_id("qrcode")))
    page.wait_for_url(f"{sites.rp}/")
    expect(page.get_by_test_id("welcome")).to_have_text("你好 +8613400134001")
    claims = json.loads(page.get_by_test_id("claims").inner_text())
    assert claims["iss"] == server.issuer()
    assert claims["aud"] == CLIENT
    assert claims["amr"] == ["wechat_mp_qrcode"]
    assert claims["nonce"]

    page.get_by_test_id("logout").click()
    page.wait_for_url(f"{sites.rp}/")
    expect(page.get_by_test_id("login")).to_be_visible()


def test_the_static_page_example_uses_the_sdk(tmp_path: Path, page: Page) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "static_page"
    with (
        live_server(tmp_path, admin_token=ADMIN_TOKEN) as server,
        customer_site(examples, server.public) as site,
    ):
        # The page runs on a site of its own and imports the SDK from the server.
        allow_origin(server.public, "demo", site)
        phone = server.phone("static-bob")
        phone.set_profile(phone="+8613400134002")
        page.goto(f"{site}/?issuer={server.issuer()}")
        phone.scan_and_allow(*shown_code(page.get_by_test_id("qrcode")))
        expect(page.get_by_test_id("hello")).to_have_text("你好 +8613400134002")
        userinfo = json.loads(page.get_by_test_id("userinfo").inner_text())
        assert userinfo["phone_number"] == "+8613400134002"
        page.get_by_test_id("logout").click()
        shown_code(page.get_by_test_id("qrcode"))
