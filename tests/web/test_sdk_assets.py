"""The SDK's public files as a customer's site meets them: readable from any origin, at an
address that changes only with the release (cached for a year) and at one that follows the
server (cached briefly), with the integrity hash that ``/static/sdk.json`` and ``minilogin sdk``
give; in Chromium, the ``<script type="module" integrity=…>`` tag that ``minilogin sdk`` prints
loads the SDK on another origin, and a wrong hash is refused.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page
from tests.conftest import PUBLIC
from tests.support.live_server import LiveServer, live_server
from tests.support.site import customer_site

from minilogin import __version__

pytest_plugins = ["tests.support.chromium"]

STATIC = Path(__file__).resolve().parents[2] / "src" / "minilogin" / "static"
SITE = "https://shop.example.com"


def sri(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


async def test_the_sdk_is_readable_from_any_site_and_cached_briefly(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/static/minilogin.js", headers={"Origin": SITE})
    assert response.status_code == 200
    assert response.content == (STATIC / "minilogin.js").read_bytes()
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=300"
    again = await http.get(
        "/static/minilogin.js", headers={"If-None-Match": response.headers["etag"]}
    )
    assert (again.status_code, again.content) == (304, b"")
    head = await http.head(f"/static/v{__version__}/minilogin.js")
    assert (head.status_code, head.headers["access-control-allow-origin"]) == (200, "*")
    types = await http.get("/static/minilogin.d.ts", headers={"Origin": SITE})
    assert types.content == (STATIC / "minilogin.d.ts").read_bytes()
    assert types.headers["access-control-allow-origin"] == "*"


async def test_the_release_address_is_immutable_and_names_only_this_release(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(f"/static/v{__version__}/minilogin.js")
    assert response.status_code == 200
    assert response.content == (STATIC / "minilogin.js").read_bytes()
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["access-control-allow-origin"] == "*"
    for path in ("/static/v0.0.0-other/minilogin.js", f"/static/v{__version__}/console.js"):
        missing = await http.get(path)
        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"


async def test_the_manifest_gives_each_files_address_and_integrity(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/static/sdk.json", headers={"Origin": SITE})
    assert response.headers["access-control-allow-origin"] == "*"
    listing = response.json()
    assert listing["version"] == __version__
    assert set(listing["files"]) == {"minilogin.js", "minilogin.d.ts"}
    for name, file in listing["files"].items():
        assert file["url"] == f"{PUBLIC}/static/v{__version__}/{name}"
        assert file["latest_url"] == f"{PUBLIC}/static/{name}"
        served = await http.get(file["url"])
        assert file["integrity"] == sri(served.content)


async def test_the_consoles_own_files_stay_same_origin(http: httpx.AsyncClient) -> None:
    response = await http.get("/static/console/console.js", headers={"Origin": SITE})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("assets")) as running:
        yield running


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    yield context.new_page()
    context.close()


def script_tag(public: str) -> str:
    """The tag ``minilogin sdk`` prints for this server, as an integrator copies it."""
    printed = subprocess.run(
        [sys.executable, "-m", "minilogin", "sdk"],
        env={**os.environ, "MINILOGIN_PUBLIC_URL": public},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in printed.splitlines() if line.startswith("<script"))


@pytest.mark.browser
@pytest.mark.slow
def test_a_page_on_another_site_loads_the_pinned_sdk_with_its_integrity(
    server: LiveServer, page: Page, tmp_path: Path
) -> None:
    tag = script_tag(server.public)
    integrity = tag.split('integrity="')[1].split('"')[0]
    forged = sri(b"not the SDK")
    (tmp_path / "pinned.html").write_text(f"<!doctype html><title>pinned</title>{tag}")
    (tmp_path / "forged.html").write_text(
        f"<!doctype html><title>forged</title>{tag.replace(integrity, forged)}"
    )
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    with customer_site(tmp_path, server.public) as site:
        page.goto(f"{site}/pinned.html")
        page.wait_for_function("() => customElements.get('minilogin-login') !== undefined")
        page.goto(f"{site}/forged.html", wait_until="load")
        assert page.evaluate("customElements.get('minilogin-login')") is None
    assert any("integrity" in text for text in refused), refused
