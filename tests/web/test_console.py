"""The console in headless Chromium, walked the way an administrator walks it on a real
``minilogin dev`` server: log in with the credentials ``dev`` printed, create a user pool,
create the identity source through the WeChat card and the "PC mini program scan code" mode
(seeing a rule's message next to its field first), upload a logo, create an application,
switch the source on for it on the source's page, press "Experience login" and finish that
login with a phone through the sandbox. The code in the popup is read from a screenshot: the
logo sits in its centre and the code still decodes.

With ``MINILOGIN_SCREENSHOTS=1`` the run also saves the README's pictures in
``docs/screenshots/console-*.png``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from tests.support.actors import decode_qr, scene_of
from tests.support.chromium import screenshot_for_docs
from tests.support.server import RunningServer, minilogin_dev

pytest_plugins = ["tests.support.chromium"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOGO_COLOUR = (255, 122, 0)
# The SDK keeps the code's status in ``data-status``; the code is on screen once its image of
# the current QR login has loaded.
CODE_SHOWN = """() => {
  const box = document.querySelector('[data-testid=qrcode]');
  const image = box && box.querySelector('img');
  return box.dataset.status === 'pending' && image !== null && image.complete
    && image.naturalWidth > 0 && image.src.includes(`/${box.dataset.qrloginId}/image.png`);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with minilogin_dev(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    yield context.new_page()
    context.close()


def printed_credentials(server: RunningServer) -> tuple[str, str]:
    """What ``minilogin dev`` told the operator: the console's administrator and password."""
    match = re.search(r"/console/\s+\(user (\S+), password (\S+)\)", server.log.read_text())
    assert match, server.log.read_text()
    return match[1], match[2]


def logo_file(directory: Path) -> Path:
    path = directory / "acme-logo.png"
    Image.new("RGB", (320, 320), LOGO_COLOUR).save(path)
    return path


def centre_colour(png: bytes) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixel = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def scan_and_allow(server: RunningServer, phone_url: str, user: str, number: str) -> None:
    """The phone: WeChat opens the mini program with the scene, it logs in with ``wx.login``
    and the person taps "allow" on the phone-number button."""
    appid, scene = scene_of(phone_url)
    with httpx.Client(base_url=server.public, timeout=10) as phone:
        assert phone.put(f"/_sandbox/wx/users/{user}", json={"phone": number}).is_success
        js_code = phone.post("/_sandbox/wx/login", json={"appid": appid, "user": user}).json()
        scanned = phone.post(
            "/api/miniprogram/scan", json={"scene": scene, "js_code": js_code["code"]}
        )
        assert scanned.status_code == 200, scanned.text
        assert scanned.json()["application"]["name"] == "Acme 商城"
        phone_code = phone.post("/_sandbox/wx/phone_code", json={"appid": appid, "user": user})
        confirmed = phone.post(
            "/api/miniprogram/confirm",
            json={"session": scanned.json()["session"], "phone_code": phone_code.json()["code"]},
        )
        assert confirmed.json() == {"status": "authorized"}, confirmed.text


def test_an_administrator_sets_up_the_scan_code_login_and_experiences_it(
    server: RunningServer, page: Page, tmp_path: Path
) -> None:
    public = server.public
    page.goto(f"{public}/console/")
    expect(page).to_have_url(f"{public}/console/login")
    username, password = printed_credentials(server)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    screenshot_for_docs(page, "console-login")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "1")

    # A user pool of its own.
    page.get_by_test_id("nav-pools").click()
    page.get_by_test_id("pool-slug").fill("acme")
    page.get_by_test_id("pool-name").fill("Acme 公司")
    page.get_by_role("button", name="创建").click()
    expect(page).to_have_url(re.compile(r"#/pools/acme/dashboard$"))

    # Social identity sources → Create → the WeChat card → the mode → the form.
    page.get_by_test_id("nav-connections").click()
    page.get_by_role("link", name="创建社交身份源").click()
    # The card promises only the mode that exists.
    expect(page.get_by_test_id("provider-wechat")).to_contain_text("小程序码")
    expect(page.get_by_test_id("provider-wechat")).not_to_contain_text("公众号")
    page.get_by_test_id("provider-wechat").click()
    page.get_by_test_id("mode-mp-qrcode").click()
    form = page.get_by_test_id("connection-form")
    form.get_by_test_id("unique_id").fill("Acme_WeChat")
    form.get_by_test_id("display_name").fill("微信扫码登录")
    form.get_by_test_id("callback_url").fill("javascript:alert(1)")
    form.get_by_test_id("login_mode").select_option("login_and_register")
    form.get_by_test_id("association").select_option("field_match")
    form.get_by_test_id("qr_expires_in").fill("300")
    form.get_by_test_id("save-connection").click()
    # Every broken field at once, each under its own field.
    expect(form.get_by_test_id("error-unique_id")).to_contain_text("只能包含小写字母、数字和 -")
    expect(form.get_by_test_id("error-callback_url")).to_contain_text("必须是完整的 http(s) 地址")
    expect(form.get_by_test_id("unique_id")).to_be_focused()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot_for_docs(page, "console-connection-form")
    form.get_by_test_id("unique_id").fill("acme-wechat")
    form.get_by_test_id("save-connection").click()
    expect(form.get_by_test_id("error-callback_url")).to_be_visible()
    expect(form.get_by_test_id("error-unique_id")).to_be_hidden()
    form.get_by_test_id("callback_url").fill(f"{public}/after-login")
    form.get_by_test_id("save-connection").click()
    expect(page).to_have_url(re.compile(r"#/pools/acme/connections/acme-wechat$"))
    expect(page.get_by_role("heading", name="微信扫码登录")).to_be_visible()

    # The logo.
    page.get_by_test_id("logo-file").set_input_files(logo_file(tmp_path))
    expect(page.get_by_test_id("logo-image")).to_be_visible()

    # An application.
    page.get_by_test_id("nav-applications").click()
    page.get_by_test_id("create-application").click()
    page.get_by_test_id("app-name").fill("Acme 商城")
    page.get_by_test_id("redirect_uris").fill(f"{public}/shop/callback")
    expect(page.get_by_test_id("web_origins")).to_have_value(public)
    page.get_by_test_id("save-application").click()
    client_id = page.get_by_test_id("client-id").inner_text()
    assert re.fullmatch(r"[0-9a-f]{24}", client_id)

    # Switched on for it on the source's page, which lists who uses the source.
    page.get_by_test_id("nav-connections").click()
    page.get_by_test_id("connection-acme-wechat").click()
    switch = page.get_by_test_id(f"use-{client_id}")
    expect(switch).not_to_be_checked()
    switch.check()
    expect(page.locator("#toast")).to_have_text("已为该应用开启")
    page.reload()
    expect(page.get_by_test_id(f"use-{client_id}")).to_be_checked()
    screenshot_for_docs(page, "console-connection")

    # "Experience login": the application's login in a popup, finished with a phone.
    page.get_by_test_id("nav-applications").click()
    page.get_by_role("link", name="Acme 商城").click()
    expect(page.get_by_test_id("client-id")).to_have_text(client_id)
    screenshot_for_docs(page, "console-application")
    # Its ID tokens in ES256 instead of the default RS256; the experience login shows them.
    expect(page.get_by_test_id("id_token_signed_response_alg")).to_have_value("RS256")
    page.get_by_test_id("id_token_signed_response_alg").select_option("ES256")
    page.get_by_test_id("save-application").click()
    expect(page.locator("#toast")).to_have_text("已保存")
    page.reload()
    expect(page.get_by_test_id("id_token_signed_response_alg")).to_have_value("ES256")
    with page.expect_popup() as opened:
        page.get_by_test_id("experience-login").click()
    popup = opened.value
    popup.wait_for_function(CODE_SHOWN)
    code = popup.get_by_test_id("qrcode").locator("img").first
    picture = code.screenshot(animations="disabled")
    phone_url = decode_qr(picture)
    assert phone_url.startswith(f"{public}/_sandbox/phone?appid=wx0000000000sandbox&scene=")
    assert all(abs(a - b) <= 8 for a, b in zip(centre_colour(picture), LOGO_COLOUR, strict=True))
    screenshot_for_docs(popup, "console-experience-code")

    scan_and_allow(server, phone_url, "dave", "+8613800138044")
    expect(popup.get_by_test_id("experience-result")).to_be_visible()
    expect(popup.get_by_test_id("result-phone")).to_have_text("+8613800138044")
    claims = json.loads(popup.get_by_test_id("result-claims").inner_text())
    assert claims["aud"] == client_id
    assert claims["iss"] == f"{public}/pools/acme"
    assert claims["phone_number"] == "+8613800138044"
    assert claims["amr"] == ["wechat_mp_qrcode"]
    screenshot_for_docs(popup, "console-experience-result")
    expect(page.get_by_test_id("experience-summary")).to_contain_text("+8613800138044")

    # The dashboard counts the code, the user is there with its WeChat identity.
    page.get_by_test_id("nav-dashboard").click()
    for stage, count in (("shown", 1), ("scanned", 1), ("authorized", 1), ("consumed", 1)):
        expect(page.get_by_test_id(f"total-acme-wechat-{stage}")).to_have_text(str(count))
    screenshot_for_docs(page, "console-dashboard")
    page.get_by_test_id("nav-users").click()
    page.get_by_role("link", name="+8613800138044").click()
    expect(page.get_by_test_id("identities")).to_contain_text("wx0000000000sandbox")
    screenshot_for_docs(page, "console-user")
    page.get_by_test_id("nav-audit").click()
    audit = page.get_by_test_id("audit")
    # Labels and local times, not event codes and seconds since the epoch.
    expect(audit).to_contain_text("为应用开启身份源")
    expect(audit).to_contain_text("生成二维码")
    expect(audit).to_contain_text("新建账号")
    text = audit.inner_text()
    assert "admin.connection.enabled" not in text
    assert not re.search(r"\b1[0-9]{9}(\.[0-9]+)?\b", text), "no epoch seconds"
    assert re.search(r"过期时间\s*：?\s*20[0-9]{2}/", text), text
    first_time = audit.locator("tbody tr td").first.inner_text()
    assert re.fullmatch(r"20\d\d/\d{1,2}/\d{1,2} \d{2}:\d{2}:\d{2}", first_time), first_time
    screenshot_for_docs(page, "console-audit")
    page.get_by_test_id("audit-filter").select_option("service")
    expect(page.get_by_test_id("audit")).to_contain_text("管理员登录控制台")

    # A private mini program's credentials are tested with WeChat (the sandbox) when saved.
    page.get_by_test_id("nav-connections").click()
    page.get_by_test_id("connection-acme-wechat").click()
    form = page.get_by_test_id("connection-form")
    form.get_by_test_id("private_deployment").check()
    form.get_by_test_id("app_id").fill("wx_acme_own")
    form.get_by_test_id("app_secret").fill("acme-own-secret")
    form.get_by_test_id("save-connection").click()
    expect(page.locator("#toast")).to_have_text("已保存")
    # The page reads the source again: the secret is now "set", and stays unread.
    expect(form.get_by_test_id("app_secret")).to_have_attribute(
        "placeholder", "已设置，留空则保持不变"
    )
    form.get_by_test_id("app_secret").fill("not-the-acme-secret")
    form.get_by_test_id("save-connection").click()
    expect(form.get_by_test_id("error-app_secret")).to_contain_text("微信拒绝了这个 AppSecret")

    # The same console in English.
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("nav-connections")).to_have_text("Social identity sources")
    page.get_by_test_id("nav-connections").click()
    page.get_by_role("link", name="Create social identity source").click()
    expect(page.get_by_test_id("provider-wechat")).to_contain_text("WeChat")
