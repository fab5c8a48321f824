"""``/docs`` (Swagger UI) without internet: every script, style and icon the page names is on
the server and loads; in Chromium, with every request to another host refused as on an
intranet, the page renders the API's operations."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Route, expect
from tests.support.live_server import LiveServer, live_server

pytest_plugins = ["tests.support.chromium"]


class Assets(HTMLParser):
    """The addresses of the scripts, stylesheets and icons a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and named.get("src"):
            self.urls.append(str(named["src"]))
        if tag == "link" and named.get("href"):
            self.urls.append(str(named["href"]))


async def test_every_asset_of_the_page_is_served_here(http: httpx.AsyncClient) -> None:
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    response = await http.get("/docs")
    assert response.status_code == 200
    parser = Assets()
    parser.feed(response.text)
    assert {url[url.rindex(".") :] for url in parser.urls} == set(kinds)
    for url in parser.urls:
        parsed = urlparse(url)
        assert (parsed.scheme, parsed.netloc) == ("", ""), f"{url} is not on the server"
        asset = await http.get(url)
        assert asset.status_code == 200, url
        assert kinds[url[url.rindex(".") :]] in asset.headers["content-type"]
        assert len(asset.content) > 1000, url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("docs")) as running:
        yield running


@pytest.mark.browser
@pytest.mark.slow
def test_the_page_renders_with_no_other_host_reachable(
    server: LiveServer, chromium: Browser
) -> None:
    refused: list[str] = []

    def intranet(route: Route) -> None:
        if route.request.url.startswith(f"{server.public}/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context = chromium.new_context()
    try:
        context.route("**/*", intranet)
        page = context.new_page()
        page.goto(f"{server.public}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("minilogin")
        expect(page.locator(".opblock-summary-path").first).to_be_visible()
        expect(page.get_by_text("/pools/{pool}/api/qrcodes").first).to_be_visible()
    finally:
        context.close()
    assert refused == []
