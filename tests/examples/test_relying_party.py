"""The examples against a running minilogin, started the way their own text says:
``examples/relying_party`` (Authlib's standard OIDC client, set up from discovery alone, logs a
person in through the hosted page in Chromium, validates the ID token on its backend and logs
out) and ``examples/static_page`` (the SDK on a site of its own origin)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import examples.relying_party.app as relying_party
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.live_server import live_server
from tests.support.server import free_port, minilogin_dev
from tests.support.site import ADMIN_TOKEN, allow_origin, customer_site
from tests.web.test_sdk import shown_code

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def docstring_commands() -> list[str]:
    """The shell commands the example's docstring tells a developer to run, one per line."""
    doc = relying_party.__doc__ or ""
    block = doc.split("::\n", 1)[1].strip("\n").split("\n\n", 1)[0]
    return [" ".join(command.split()) for command in block.replace("\\\n", " ").splitlines()]


def as_here(command: str, values: dict[str, str]) -> list[str]:
    for placeholder, value in values.items():
        command = command.replace(placeholder, value)
    return shlex.split(command)


def scan_and_allow(public: str, appid: str, scene: str, user: str, phone: str) -> None:
    """The person's phone in the sandbox (API.md §3–4): scan the code and allow the number."""
    with httpx.Client(base_url=public, timeout=10) as http:
        assert http.put(f"/_sandbox/wx/users/{user}", json={"phone": phone}).is_success
        person = {"appid": appid, "user": user}
        js_code = http.post("/_sandbox/wx/login", json=person).json()["code"]
        scanned = http.post("/api/miniprogram/scan", json={"scene": scene, "js_code": js_code})
        assert scanned.status_code == 200, scanned.text
        phone_code = http.post("/_sandbox/wx/phone_code", json=person).json()["code"]
        session = scanned.json()["session"]
        confirmed = http.post(
            "/api/miniprogram/confirm", json={"session": session, "phone_code": phone_code}
        )
        assert confirmed.status_code == 200, confirmed.text


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1000, "height": 760})
    yield context.new_page()
    context.close()


def test_the_example_starts_as_its_docstring_says_and_logs_in(tmp_path: Path, page: Page) -> None:
    """Beside a ``minilogin dev`` process, the docstring's commands, run as they are written
    (only the ports and the printed client credentials put in), register the example and
    start it; Authlib, set up from discovery alone, then logs a person in through the hosted
    page, validates the ID token on the example's backend, and logs out again."""
    install, create, enable, start = docstring_commands()
    assert install == "make install-examples"
    recipe = subprocess.run(
        ["make", "-n", "install-examples"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "sync --frozen --inexact --extra examples" in recipe.stdout
    rp_port = free_port()
    rp = f"http://127.0.0.1:{rp_port}"
    # The admin commands write to the database directly: let the server read it at once.
    with minilogin_dev(tmp_path, MINILOGIN_CONFIG_CACHE_TTL="0") as server:
        values = {
            "http://127.0.0.1:8000": server.public,
            "http://127.0.0.1:5000": rp,
            "--port 5000": f"--port {rp_port}",
        }
        environment = {**os.environ, "MINILOGIN_DATA_DIR": str(tmp_path)}
        created = subprocess.run(
            as_here(create, values), cwd=ROOT, env=environment, capture_output=True, check=True
        )
        application = json.loads(created.stdout)
        values |= {
            "<client_id>": application["client_id"],
            "<client_secret>": application["client_secret"],
        }
        subprocess.run(as_here(enable, values), cwd=ROOT, env=environment, check=True)
        words = as_here(start, values)
        # The leading NAME=value words are the environment, as the shell reads them.
        assignments = [word for word in words if ASSIGNMENT.match(word)]
        settings = dict(word.split("=", 1) for word in assignments)
        command = words[len(assignments) :]
        log = tmp_path / "rp.log"
        with log.open("wb") as out:
            example = subprocess.Popen(
                command, cwd=ROOT, env={**os.environ, **settings}, stdout=out, stderr=out
            )
        try:
            wait_until_up(f"{rp}/", example, log)
            page.goto(f"{rp}/")
            page.get_by_test_id("login").click()
            page.wait_for_url(f"{server.issuer()}/oidc/auth?**")
            expect(page.get_by_test_id("application-name")).to_have_text("Example site")
            appid, scene = shown_code(page.get_by_test_id("qrcode"))
            scan_and_allow(server.public, appid, scene, "rp-alice", "+8613400134001")
            page.wait_for_url(f"{rp}/")
            expect(page.get_by_test_id("welcome")).to_have_text("你好 +8613400134001")
            claims = json.loads(page.get_by_test_id("claims").inner_text())
            assert claims["iss"] == server.issuer()
            assert claims["aud"] == application["client_id"]
            assert claims["amr"] == ["wechat_mp_qrcode"]
            assert claims["nonce"]

            page.get_by_test_id("logout").click()
            page.wait_for_url(f"{rp}/")
            expect(page.get_by_test_id("login")).to_be_visible()
        finally:
            example.terminate()
            example.wait(10)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the example exited: {log.read_text()}")
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the example did not start: {log.read_text()}")
        time.sleep(0.1)


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
