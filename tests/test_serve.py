"""``minilogin serve`` is production (issue 12), shown with real processes as an operator runs
them: without the platform mini program's credentials it refuses to start; it serves no
sandbox and no demo; pointed at a separately started ``minilogin sandbox`` (the only way to run
it against one, and it warns) and configured only through the admin API, it completes a whole
login for a customer's page on another origin, driving the SDK in Chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import Page, expect

from minilogin.config import SANDBOX_PHONE_PATH
from tests.support.actors import decode_qr, scene_of
from tests.support.chromium import read_qr
from tests.support.server import Instance, free_port, launch, wait_until_serving
from tests.support.tokens import verified_claims

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.support.chromium"]

SDK = Path(__file__).parents[1] / "src" / "minilogin" / "static" / "minilogin.js"
SITE = Path(__file__).with_name("customer_site")
ADMIN_TOKEN = "serve-test-admin-token"
#: The platform's mini program: the sandbox knows every AppID, the first secret used is its own.
APP_ID = "wx5e7a1c2b3d4f6a8b"
APP_SECRET = "9d1c0e8f7a6b5c4d3e2f1a0b9c8d7e6f"
PRIVATE_APP_ID = "wx0b1c2d3e4f5a6b7c"
#: The SDK's box shows a loaded code of the QR login it names.
CODE_SHOWN = """(box) => {
  const image = box && box.querySelector('img');
  return box.dataset.status === 'pending' && image !== null && image.complete
    && image.naturalWidth > 0 && image.src.includes(`/${box.dataset.qrloginId}/image.png`);
}"""


def serve_without(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minilogin", "serve", "--port", str(free_port())],
        env={"PATH": "/usr/bin:/bin", "MINILOGIN_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "env",
    [
        {},
        {
            "MINILOGIN_WECHAT_APP_ID": APP_ID,
            "MINILOGIN_WECHAT_API_URL": "http://127.0.0.1:9/_sandbox/wechat",
        },
    ],
    ids=["nothing", "a sandbox and no secret"],
)
def test_serve_refuses_to_start_without_the_mini_programs_credentials(
    tmp_path: Path, env: dict[str, str]
) -> None:
    data_dir = tmp_path / "fresh"

    refused = serve_without(data_dir, **env)

    assert refused.returncode != 0
    assert "MINILOGIN_WECHAT_APP_ID" in refused.stderr
    assert "MINILOGIN_WECHAT_APP_SECRET" in refused.stderr
    assert not (data_dir / "minilogin.db").exists(), "it stopped before doing anything"


@dataclass
class Deployment:
    """A ``minilogin sandbox``, a ``minilogin serve`` pointed at it, and a customer's web
    server on an origin of its own."""

    sandbox: Instance
    server: Instance
    site: str


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("serve")
    site_dir = folder / "site"
    site_dir.mkdir()
    # The customer's build: their page and the SDK, served by their own web server.
    shutil.copy(SITE / "index.html", site_dir)
    shutil.copy(SDK, site_dir)
    site_port = free_port()
    site = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(site_port), "--bind", "127.0.0.1"],
        cwd=site_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server_port = free_port()
    # The sandbox's simulated mini program calls this server, as the real one calls its own.
    simulator = ["sandbox", "--server-url", f"http://127.0.0.1:{server_port}"]
    sandbox = launch(folder / "sandbox", simulator, {}, free_port())
    server = launch(
        folder / "serve",
        ["serve"],
        {
            "MINILOGIN_WECHAT_API_URL": f"{sandbox.url}/_sandbox/wechat",
            "MINILOGIN_WECHAT_APP_ID": APP_ID,
            "MINILOGIN_WECHAT_APP_SECRET": APP_SECRET,
            "MINILOGIN_ADMIN_TOKEN": ADMIN_TOKEN,
        },
        server_port,
    )
    try:
        wait_until_serving(sandbox, "/_sandbox/wechat/stats")
        wait_until_serving(server, "/static/minilogin.js")
        yield Deployment(sandbox, server, f"http://127.0.0.1:{site_port}")
    finally:
        server.stop()
        sandbox.stop()
        site.terminate()
        site.wait(10)


def test_serve_warns_that_its_wechat_is_a_sandbox(deployment: Deployment) -> None:
    printed = deployment.server.log.read_text()
    sandbox = f"{deployment.sandbox.url}/_sandbox/wechat"
    assert f"WARNING: MINILOGIN_WECHAT_API_URL is a WeChat sandbox ({sandbox})" in printed


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_sandbox/phone"),
        ("GET", "/_sandbox/wechat/stats"),
        ("POST", "/_sandbox/wechat/cgi-bin/stable_token"),
        ("POST", "/_sandbox/wx/login"),
        ("PUT", "/_sandbox/wx/users/mallory"),
        ("GET", "/"),
        ("GET", "/demo/"),
        ("GET", "/demo/callback"),
        ("GET", "/demo/api/phone-url/any"),
    ],
)
def test_serve_has_no_sandbox_and_no_demo(deployment: Deployment, method: str, path: str) -> None:
    response = httpx.request(
        method, f"{deployment.server.url}{path}", json={"appid": APP_ID, "user": "mallory"}
    )

    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"


class Admin:
    """An operator's automation, through the admin API only."""

    def __init__(self, server: Instance) -> None:
        self.http = httpx.Client(
            base_url=f"{server.url}/admin/api",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=20,
        )

    def call(self, method: str, path: str, status: int, **body: Any) -> Any:
        response = self.http.request(method, path, json=body or None)
        assert response.status_code == status, response.text
        return None if status == 204 else response.json()

    def application(self, pool: str, site: str, source: dict[str, Any]) -> str:
        """A single-page application of ``pool`` at ``site`` that logs in with ``source``."""
        created = self.call(
            "POST",
            f"/pools/{pool}/applications",
            201,
            name="Customer shop",
            type="spa",
            redirect_uris=[f"{site}/callback"],
            web_origins=[site],
        )
        self.call("POST", f"/pools/{pool}/connections", 201, **source)
        client_id: str = created["client_id"]
        path = f"/pools/{pool}/applications/{client_id}/connections/{source['unique_id']}"
        self.call("PUT", path, 204)
        return client_id


def sandbox_phone(deployment: Deployment, user: str, appid: str, kind: str) -> str:
    """What the sandbox's WeChat gives the phone of ``user`` (``wx.login``'s code or the
    phone-number button's), over HTTP to the sandbox process."""
    response = httpx.post(
        f"{deployment.sandbox.url}/_sandbox/wx/{kind}", json={"appid": appid, "user": user}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


@dataclass
class CustomerPage:
    page: Page
    issuer: str
    client_id: str
    phone_url: str  # what its code opens

    def claims(self) -> dict[str, Any]:
        """The ID token the page got, checked as the customer's backend would check it."""
        result = self.page.get_by_test_id("result")
        expect(result).not_to_be_empty(timeout=15000)
        assert self.page.get_by_test_id("error").inner_text() == ""
        jwks = httpx.get(f"{self.issuer}/oidc/jwks").json()
        id_token = json.loads(result.inner_text())["idToken"]
        return verified_claims(id_token, jwks, iss=self.issuer, aud=self.client_id)


def customer_page(deployment: Deployment, chromium: PlaywrightBrowser, pool: str) -> CustomerPage:
    """A new pool set up through the admin API for the customer's site, and the site's page
    showing its code."""
    admin = Admin(deployment.server)
    admin.call("POST", "/pools", 201, slug=pool, name=pool.title())
    client_id = admin.application(
        pool, deployment.site, {"unique_id": "wechat", "display_name": "WeChat"}
    )
    issuer = f"{deployment.server.url}/pools/{pool}"
    page = chromium.new_page()
    page.goto(f"{deployment.site}/index.html?issuer={issuer}&client={client_id}")
    box = page.get_by_test_id("qrcode")
    page.wait_for_function(CODE_SHOWN, arg=box.element_handle())
    phone_url = read_qr(box.locator("img").first)
    # The code was made by the sandbox process and opens its own phone simulator.
    sandbox = deployment.sandbox.url
    assert phone_url.startswith(f"{sandbox}{SANDBOX_PHONE_PATH}?appid={APP_ID}&"), phone_url
    return CustomerPage(page, issuer, client_id, phone_url)


@pytest.mark.browser
def test_a_page_on_another_origin_logs_in_through_a_separate_sandbox(
    deployment: Deployment, chromium: PlaywrightBrowser
) -> None:
    server, sandbox = deployment.server.url, deployment.sandbox.url
    customer = customer_page(deployment, chromium, "shop")
    user = "carol"
    profile = httpx.put(f"{sandbox}/_sandbox/wx/users/{user}", json={"phone": "+8613600136000"})
    assert profile.status_code == 200, profile.text
    appid, scene = scene_of(customer.phone_url)

    js_code = sandbox_phone(deployment, user, appid, "login")
    scanned = httpx.post(
        f"{server}/api/miniprogram/scan", json={"scene": scene, "js_code": js_code}
    )
    assert scanned.status_code == 200, scanned.text
    expect(customer.page.get_by_test_id("qrcode")).to_have_attribute("data-status", "scanned")
    phone_code = sandbox_phone(deployment, user, appid, "phone_code")
    confirmed = httpx.post(
        f"{server}/api/miniprogram/confirm",
        json={"session": scanned.json()["session"], "phone_code": phone_code},
    )
    assert confirmed.json() == {"status": "authorized"}

    claims = customer.claims()
    assert claims["phone_number"] == "+8613600136000"
    assert claims["phone_number_verified"] is True
    customer.page.close()


@pytest.mark.browser
def test_the_sandboxs_phone_simulator_logs_the_page_in(
    deployment: Deployment, chromium: PlaywrightBrowser
) -> None:
    customer = customer_page(deployment, chromium, "outlet")
    phone = chromium.new_page(locale="en-US")

    phone.goto(customer.phone_url)
    phone.get_by_test_id("user").fill("dora")
    phone.get_by_test_id("phone").fill("+8613500135000")
    phone.get_by_test_id("scan").click()
    expect(phone.get_by_test_id("app-name")).to_have_text("Customer shop")
    phone.get_by_test_id("allow").click()

    expect(phone.get_by_test_id("result")).to_have_attribute("data-status", "authorized")
    assert customer.claims()["phone_number"] == "+8613500135000"
    phone.close()
    customer.page.close()


def test_a_private_sources_codes_come_from_the_configured_wechat(
    deployment: Deployment,
) -> None:
    admin = Admin(deployment.server)
    admin.call("POST", "/pools", 201, slug="brand", name="Brand")
    source = {
        "unique_id": "own-mini-program",
        "display_name": "WeChat",
        "private_deployment": True,
        "app_id": PRIVATE_APP_ID,
        "app_secret": "a-secret-of-the-brands-own-mini-program",
    }
    client_id = admin.application("brand", deployment.site, source)
    issuer = f"{deployment.server.url}/pools/brand"

    created = httpx.post(
        f"{issuer}/api/qrcodes",
        json={
            "client_id": client_id,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    assert created.status_code == 201, created.text
    phone_url = decode_qr(httpx.get(created.json()["image_url"]).content)
    assert phone_url.startswith(
        f"{deployment.sandbox.url}{SANDBOX_PHONE_PATH}?appid={PRIVATE_APP_ID}&"
    ), phone_url
