"""The hosted login page ``{issuer}/oidc/auth`` in headless Chromium, reached from a single page
app on a customer's site (another origin than the server) through the SDK: in redirect mode
(back to the registered ``redirect_uri`` with ``code`` and ``state``) and in popup mode (a real
popup window posting the response to its opener), then refresh-token rotation and logout from
the same page.

With ``MINILOGIN_SCREENSHOTS=1`` the run also saves ``docs/screenshots/hosted-*.png``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.support.chromium import screenshot_for_docs
from tests.support.live_server import LiveServer, live_server
from tests.support.site import customer_site
from tests.web.test_sdk import result_of, shown_code

from minilogin.core.entities import Application, ApplicationType
from minilogin.seed import DEMO_CONNECTION

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = Path(__file__).with_name("pages")
CLIENT = "spa-test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("hosted")) as running:
        yield running


@pytest.fixture(scope="module")
def site(server: LiveServer) -> Iterator[str]:
    """The single page app on a customer's site, registered as the spa-test application."""
    with customer_site(PAGES, server.public) as origin:

        async def register() -> None:
            store = server.services
            pool = await store.pools.get_pool("demo")
            assert pool is not None
            await store.applications.create_application(
                Application(
                    pool_id=pool.id,
                    client_id=CLIENT,
                    name="测试应用 Test SPA",
                    type=ApplicationType.SPA,
                    redirect_uris=[f"{origin}/callback.html"],
                    web_origins=[origin],
                    post_logout_redirect_uris=[f"{origin}/rp.html"],
                )
            )
            await store.identity_sources.enable_identity_source(pool.id, CLIENT, DEMO_CONNECTION)

        server.run(register())
        yield origin


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1100, "height": 760})
    yield context.new_page()
    context.close()


def log_in_on_the_hosted_page(
    server: LiveServer, hosted: Page, user: str, phone: str, screenshots: str
) -> None:
    expect(hosted.get_by_test_id("pool-name")).to_have_text("minilogin 演示 / demo")
    expect(hosted.get_by_test_id("application-name")).to_have_text("测试应用 Test SPA")
    appid, scene = shown_code(hosted.get_by_test_id("qrcode"))
    screenshot_for_docs(hosted, f"{screenshots}-code")
    person = server.phone(user)
    person.set_profile(phone=phone)
    scanned = person.scan(appid, scene)
    assert scanned.status_code == 200, scanned.text
    expect(hosted.get_by_test_id("qrcode")).to_have_attribute("data-status", "scanned")
    screenshot_for_docs(hosted, f"{screenshots}-scanned")
    assert person.confirm(appid, scanned.json()["session"]).status_code == 200


def test_redirect_mode_returns_code_and_state_to_the_registered_redirect_uri(
    server: LiveServer, site: str, page: Page
) -> None:
    page.goto(f"{site}/rp.html")
    page.get_by_test_id("redirect").click()
    page.wait_for_url(f"{server.issuer()}/oidc/auth?**")
    log_in_on_the_hosted_page(server, page, "hosted-redirect", "+8613600136001", "hosted")
    page.wait_for_url(f"{site}/callback.html**")
    result = result_of(page.get_by_test_id("result"))
    assert result["user"]["phone_number"] == "+8613600136001"
    assert result["user"]["aud"] == CLIENT
    assert result["hasRefreshToken"] is True
    # handleRedirectCallback() took the code and state out of the address bar.
    assert result["url"] == f"{site}/callback.html"


def test_popup_mode_posts_the_response_to_the_opener(
    server: LiveServer, site: str, page: Page
) -> None:
    page.goto(f"{site}/rp.html?lang=en")
    with page.expect_popup() as popup_info:
        page.get_by_test_id("popup").click()
    popup = popup_info.value
    popup.wait_for_url(f"{server.issuer()}/oidc/auth?**")
    expect(popup.get_by_test_id("login")).to_contain_text("Scan with WeChat to log in")
    log_in_on_the_hosted_page(server, popup, "hosted-popup", "+8613600136002", "hosted-popup")
    popup.wait_for_event("close")
    result = result_of(page.get_by_test_id("result"))
    assert result["user"]["phone_number"] == "+8613600136002"
    assert result["hasRefreshToken"] is True

    # getAccessToken() near expiry: one refresh for two callers, and the token rotates.
    page.get_by_test_id("refresh").click()
    expect(page.get_by_test_id("result")).to_contain_text('"refreshed":true')
    refreshed = result_of(page.get_by_test_id("result"))
    assert refreshed == {"refreshed": True, "shared": True, "rotated": True}

    # Logout revokes the refresh token and comes back to the registered page.
    tokens: dict[str, Any] = page.evaluate("window.ml.getTokens()")
    page.get_by_test_id("logout").click()
    page.wait_for_url(f"{site}/rp.html")
    after = httpx.post(
        f"{server.issuer()}/oidc/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refreshToken"],
            "client_id": CLIENT,
        },
    )
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")
    assert page.evaluate("window.ml.getTokens()") is None


def test_cancelling_on_the_hosted_page_answers_access_denied(
    server: LiveServer, site: str, page: Page
) -> None:
    page.goto(f"{site}/rp.html")
    page.get_by_test_id("redirect").click()
    page.wait_for_url(f"{server.issuer()}/oidc/auth?**")
    shown_code(page.get_by_test_id("qrcode"))
    page.get_by_test_id("cancel").click()
    page.wait_for_url(f"{site}/callback.html**")
    expect(page.get_by_test_id("error")).to_have_text("access_denied")


def test_a_wrong_redirect_uri_shows_an_error_page_and_goes_nowhere(
    server: LiveServer, page: Page
) -> None:
    response = page.goto(
        f"{server.issuer()}/oidc/auth?response_type=code&client_id={CLIENT}"
        "&redirect_uri=https://evil.example/cb&code_challenge_method=S256"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&ui_locales=en"
    )
    assert response is not None
    assert response.status == 400
    assert page.url.startswith(server.issuer())
    expect(page.get_by_test_id("heading")).to_have_text("The login can't go on")
    expect(page.get_by_test_id("error")).to_have_text("redirect_uri_mismatch")
    screenshot_for_docs(page, "hosted-error")
    assert json.loads(page.evaluate("JSON.stringify(document.documentElement.lang)")) == "en"
