"""The sandbox over HTTP: WeChat's paths answer as WeChat does, the simulated phone and the
controls answer minilogin's error bodies, the phone page is served, and nothing answers 5xx."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import expect
from tests.support.actors import decode_qr
from tests.support.server import RunningServer, minilogin_dev

from minilogin.core.pkce import s256
from minilogin.sandbox.routes import create_sandbox_router

pytest_plugins = ["tests.support.chromium"]

APPID = "wx1234567890abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
WECHAT = "/_sandbox/wechat"


async def stable_token(http: httpx.AsyncClient, **extra: object) -> httpx.Response:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **extra}
    return await http.post(f"{WECHAT}/cgi-bin/stable_token", json=body)


async def test_errors_are_json_with_http_200(http: httpx.AsyncClient) -> None:
    response = await http.get(
        f"{WECHAT}/sns/jscode2session",
        params={"appid": APPID, "secret": SECRET, "js_code": "nope", "grant_type": "x"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errcode"] == 40002


async def test_a_code_is_a_jpeg_image(http: httpx.AsyncClient) -> None:
    token = (await stable_token(http)).json()["access_token"]

    response = await http.post(
        f"{WECHAT}/wxa/getwxacodeunlimit",
        params={"access_token": token},
        json={"scene": "abc", "width": 300},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8\xff")


async def test_a_code_error_is_json_with_http_200(http: httpx.AsyncClient) -> None:
    token = (await stable_token(http)).json()["access_token"]

    response = await http.post(
        f"{WECHAT}/wxa/getwxacodeunlimit", params={"access_token": token}, json={"scene": ""}
    )

    assert response.status_code == 200
    assert response.json()["errcode"] == 40169
    assert "invalid length for scene" in response.json()["errmsg"]


@pytest.mark.parametrize(
    ("method", "path", "errcode"),
    [
        ("POST", "cgi-bin/token", 43001),
        ("POST", "sns/jscode2session", 43001),
        ("GET", "cgi-bin/stable_token", 43002),
        ("GET", "wxa/getwxacodeunlimit", 43002),
        ("GET", "wxa/business/getuserphonenumber", 43002),
    ],
)
async def test_the_wrong_method_is_refused_as_wechat_does(
    http: httpx.AsyncClient, method: str, path: str, errcode: int
) -> None:
    response = await http.request(method, f"{WECHAT}/{path}")

    assert (response.status_code, response.json()["errcode"]) == (200, errcode)


async def test_faults_delay_and_fail_the_next_calls(http: httpx.AsyncClient) -> None:
    added = await http.post(
        f"{WECHAT}/faults", json={"path": "cgi-bin/stable_token", "errcode": 45011, "times": 2}
    )
    assert added.json() == {
        "path": "cgi-bin/stable_token",
        "errcode": 45011,
        "times": 2,
        "delay_ms": 0,
    }

    answers = [(await stable_token(http)).json() for _ in range(3)]

    assert [a.get("errcode") for a in answers] == [45011, 45011, None]
    assert answers[0]["errmsg"].startswith("api minute-quota reach limit")
    assert "access_token" in answers[2]


async def test_faults_can_be_cleared(http: httpx.AsyncClient) -> None:
    await http.post(f"{WECHAT}/faults", json={"path": "cgi-bin/stable_token", "times": 5})

    cleared = await http.delete(f"{WECHAT}/faults")

    assert cleared.status_code == 204
    assert "access_token" in (await stable_token(http)).json()


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b'{"path": "nowhere"}', b'{"path": "cgi-bin/token", "times": -1}'],
)
async def test_bad_faults_answer_400(http: httpx.AsyncClient, content: bytes) -> None:
    response = await http.post(f"{WECHAT}/faults", content=content)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["message"]


async def test_stats_count_calls_per_path(http: httpx.AsyncClient) -> None:
    await stable_token(http)
    await stable_token(http)
    await http.get(f"{WECHAT}/sns/jscode2session")

    stats = (await http.get(f"{WECHAT}/stats")).json()

    assert stats == {"calls": {"cgi-bin/stable_token": 2, "sns/jscode2session": 1}}


@pytest.mark.parametrize(
    "body",
    [
        {"country_code_as_number": "yes"},
        {"codes_per_minute": 0},
        {"codes_per_minute": "5000"},
        {"codes_per_minute": True},
        {"unknown": 1},
        {},
        [],
    ],
)
async def test_bad_options_answer_400(http: httpx.AsyncClient, body: object) -> None:
    response = await http.put(f"{WECHAT}/options", json=body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_options_change_one_thing_at_a_time(http: httpx.AsyncClient) -> None:
    response = await http.put(f"{WECHAT}/options", json={"codes_per_minute": 10})

    assert response.json() == {"country_code_as_number": False, "codes_per_minute": 10}


async def test_the_simulated_phone_gives_codes(http: httpx.AsyncClient) -> None:
    login = await http.post("/_sandbox/wx/login", json={"appid": APPID, "user": "alice"})
    phone = await http.post("/_sandbox/wx/phone_code", json={"appid": APPID, "user": "alice"})

    assert login.status_code == phone.status_code == 200
    assert login.json()["code"] != phone.json()["code"]


@pytest.mark.parametrize(
    "content", [b"", b"not json", b"[]", b'{"appid": "wx"}', b'{"user": "a"}', b'{"appid": 1}']
)
async def test_the_simulated_phone_refuses_bad_bodies(
    http: httpx.AsyncClient, content: bytes
) -> None:
    for path in ("/_sandbox/wx/login", "/_sandbox/wx/phone_code"):
        response = await http.post(path, content=content)

        assert response.status_code == 400
        assert set(response.json()) == {"error", "message"}


async def test_users_are_created_on_first_use_and_can_be_changed(http: httpx.AsyncClient) -> None:
    created = await http.get(f"/_sandbox/wx/users/frank?appid={APPID}")
    assert created.status_code == 200
    assert created.json()["phone"].startswith("+86138")
    assert created.json()["openid"].startswith("o")

    changed = await http.put(
        "/_sandbox/wx/users/frank",
        json={"phone": "+8613800138000", "unionid": "union-1", "nickname": "Frank"},
    )

    assert changed.json() == {
        "user": "frank",
        "phone": "+8613800138000",
        "unionid": "union-1",
        "nickname": "Frank",
    }
    assert (await http.get("/_sandbox/wx/users/frank")).json() == changed.json()


async def test_a_phone_that_is_not_e164_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.put("/_sandbox/wx/users/frank", json={"phone": "13800138000"})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_phone"


async def test_the_phone_page_is_served_with_its_scene(http: httpx.AsyncClient) -> None:
    response = await http.get("/_sandbox/phone", params={"appid": APPID, "scene": "a=1&b"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="zh-CN">' in page
    assert 'name="viewport"' in page
    for testid in ("user", "scan", "app-name", "browser", "ip", "allow", "deny", "result"):
        assert f'data-testid="{testid}"' in page
    assert '"scene": "a=1\\u0026b"' in page
    assert f'"appid": "{APPID}"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "nothing from another origin"


async def test_the_phone_page_defaults_to_the_sandbox_mini_program(
    http: httpx.AsyncClient,
) -> None:
    page = (await http.get("/_sandbox/phone?lang=en")).text

    assert '<html lang="en">' in page
    assert '"appid": "wx0000000000sandbox"' in page
    assert '"scene": ""' in page


async def test_the_phone_page_escapes_what_it_is_given(http: httpx.AsyncClient) -> None:
    hostile = "</script><script>alert(1)</script>"

    page = (await http.get("/_sandbox/phone", params={"scene": hostile, "appid": hostile})).text

    assert hostile not in page
    assert "<script>alert(1)" not in page


@pytest.mark.parametrize(
    ("name", "content_type", "marker"),
    [
        ("phone.js", "text/javascript", "/api/miniprogram/scan"),
        ("phone.css", "text/css", "--green"),
        ("favicon.svg", "image/svg+xml", "<title>minilogin</title>"),
    ],
)
async def test_the_phone_page_assets_are_served(
    http: httpx.AsyncClient, name: str, content_type: str, marker: str
) -> None:
    response = await http.get(f"/_sandbox/static/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert marker in response.text


async def test_unknown_assets_are_not_found(http: httpx.AsyncClient) -> None:
    for name in ("nope.js", "..%2F..%2Femulator.py", "phone.html"):
        response = await http.get(f"/_sandbox/static/{name}")
        assert response.status_code == 404


JUNK = [
    b"",
    b"{",
    b"[]",
    b"null",
    b'"x"',
    b"1e999999",
    b"{" * 50_000,
    b"\xff\xfe\x00",
    b'{"scene": "a", "env_version": {}, "page": [], "width": 1e400, "code": {}}',
    b'{"grant_type": "client_credential", "appid": [], "secret": {}, "force_refresh": []}',
    b'{"appid": {}, "user": [], "path": {}, "phone": [], "country_code_as_number": {}}',
]


@pytest.mark.parametrize("content", JUNK)
async def test_no_input_causes_a_5xx(http: httpx.AsyncClient, content: bytes) -> None:
    token = (await stable_token(http)).json()["access_token"]
    paths = [
        f"{WECHAT}/cgi-bin/token?appid=&secret=",
        f"{WECHAT}/cgi-bin/stable_token",
        f"{WECHAT}/sns/jscode2session?js_code=%00",
        f"{WECHAT}/wxa/getwxacodeunlimit?access_token={token}",
        f"{WECHAT}/wxa/business/getuserphonenumber?access_token={token}",
        f"{WECHAT}/faults",
        "/_sandbox/wx/login",
        "/_sandbox/wx/phone_code",
    ]
    for path in paths:
        response = await http.post(path, content=content)
        assert response.status_code < 500, path
    for path in ("/_sandbox/wx/users/%00", "/_sandbox/wx/users/x", f"{WECHAT}/options"):
        response = await http.put(path, content=content)
        assert response.status_code < 500, path
    response = await http.get("/_sandbox/wx/users/a?appid=%00")
    assert response.status_code < 500


async def test_each_router_has_its_own_sandbox() -> None:
    apps = [FastAPI(), FastAPI()]
    for app in apps:
        app.include_router(create_sandbox_router("http://one.test"))
    first, second = (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://one.test")
        for app in apps
    )
    async with first, second:
        await first.put("/_sandbox/wx/users/gail", json={"nickname": "Gail"})
        await first.post(f"{WECHAT}/faults", json={"path": "cgi-bin/token"})

        assert (await second.get("/_sandbox/wx/users/gail")).json()["nickname"] is None
        assert (await second.get(f"{WECHAT}/stats")).json() == {"calls": {}}


# The phone page in a browser, against a running minilogin ----------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with minilogin_dev(tmp_path_factory.mktemp("phone-page")) as running:
        yield running


def pc_login(server: RunningServer) -> tuple[str, str, str]:
    """A QR login created as the PC page does; its id, secret, and the URL its code holds."""
    response = httpx.post(
        f"{server.issuer()}/api/qrcodes",
        json={
            "client_id": "demo",
            "code_challenge": s256(secrets.token_urlsafe(48)),
            "code_challenge_method": "S256",
        },
        headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0"},
    )
    assert response.status_code == 201, response.text
    login = response.json()
    image = httpx.get(login["image_url"]).content
    return login["id"], login["secret"], decode_qr(image)


def pc_status(server: RunningServer, login_id: str, secret: str) -> str:
    response = httpx.get(
        f"{server.issuer()}/api/qrcodes/{login_id}", headers={"Authorization": f"Bearer {secret}"}
    )
    status: str = response.json()["status"]
    return status


@pytest.mark.browser
@pytest.mark.slow
def test_the_phone_page_logs_the_pc_in(server: RunningServer, chromium: PlaywrightBrowser) -> None:
    login_id, secret, phone_url = pc_login(server)
    page = chromium.new_page(locale="zh-CN")

    page.goto(phone_url)
    expect(page.get_by_test_id("user")).to_have_value("alice")
    page.get_by_test_id("phone").fill("+8613900139000")
    page.get_by_test_id("scan").click()

    expect(page.get_by_test_id("app-name")).not_to_be_empty()
    expect(page.get_by_test_id("browser")).to_contain_text("Chrome")
    expect(page.get_by_test_id("ip")).to_have_text("127.0.0.1")
    expect(page.get_by_test_id("allow")).to_have_text("允许使用手机号")
    page.get_by_test_id("allow").click()

    expect(page.get_by_test_id("result")).to_have_attribute("data-status", "authorized")
    expect(page.get_by_test_id("result")).to_contain_text("登录成功")
    assert pc_status(server, login_id, secret) == "authorized"
    user = httpx.get(f"{server.public}/_sandbox/wx/users/alice").json()
    assert user["phone"] == "+8613900139000"
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_phone_page_can_deny(server: RunningServer, chromium: PlaywrightBrowser) -> None:
    login_id, secret, phone_url = pc_login(server)
    page = chromium.new_page(locale="en-US")

    page.goto(phone_url)
    page.get_by_test_id("user").fill("bob")
    page.get_by_test_id("scan").click()
    expect(page.get_by_test_id("deny")).to_have_text("Deny")
    page.get_by_test_id("deny").click()

    expect(page.get_by_test_id("result")).to_have_attribute("data-status", "cancelled")
    assert pc_status(server, login_id, secret) == "cancelled"
    assert page.evaluate("localStorage.getItem('minilogin.sandbox.user')") == "bob"
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_second_phone_sees_the_code_is_taken(
    server: RunningServer, chromium: PlaywrightBrowser
) -> None:
    _, _, phone_url = pc_login(server)
    first, second = chromium.new_page(), chromium.new_page()
    first.goto(phone_url)
    first.get_by_test_id("user").fill("carol")
    first.get_by_test_id("scan").click()
    expect(first.get_by_test_id("allow")).to_be_visible()

    second.goto(phone_url)
    second.get_by_test_id("user").fill("dave")
    second.get_by_test_id("scan").click()

    result = second.get_by_test_id("result")
    expect(result).to_have_attribute("data-status", "already_scanned")
    expect(second.get_by_test_id("result-message")).not_to_be_empty()
    expect(second.get_by_test_id("retry")).to_be_hidden()
    first.close()
    second.close()


@pytest.mark.browser
@pytest.mark.slow
def test_without_a_scene_the_page_explains_what_to_do(
    server: RunningServer, chromium: PlaywrightBrowser
) -> None:
    page = chromium.new_page()

    page.goto(f"{server.public}/_sandbox/phone?lang=en")

    expect(page.get_by_test_id("no-scene")).to_contain_text("Scan the code on your computer")
    expect(page.get_by_test_id("scan")).to_be_hidden()
    page.close()
