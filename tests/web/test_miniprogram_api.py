"""The mini program's API (API.md §3), driven as the mini login mini program drives it,
against the WeChat sandbox."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests.conftest import PUBLIC, sandbox_settings
from tests.support.actors import Browser, BrowserLogin, Phone

from minilogin.config import Settings

QQ_BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/94.0.4606.71 Safari/537.36 Core/1.94.197.400 QQBrowser/11.7.5287.400"
)


async def scanned(browser: Browser, phone: Phone) -> tuple[BrowserLogin, str, str]:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    response = await phone.scan(appid, scene)
    assert response.status_code == 200, response.text
    return login, appid, response.json()["session"]


async def test_scan_shows_who_asks(browser: Browser, phone: Phone) -> None:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    response = await phone.scan(appid, scene)
    assert response.status_code == 200
    body = response.json()
    assert body["application"]["name"] == "演示应用 Demo app"
    assert body["request"]["browser"] == "Chrome · Windows"
    assert body["request"]["ip"] == "203.0.113.7"
    assert body["request"]["created_at"].endswith("Z")
    assert body["login_only"] is False
    assert 0 < body["expires_in"] <= 120
    assert (await browser.status(login))["status"] == "scanned"


@pytest.mark.parametrize(
    ("phone_ip", "differs", "phone_place"),
    [("220.181.38.148", True, "北京 北京市"), ("183.3.226.35", False, "广东省 深圳市")],
)
async def test_the_phone_learns_when_its_network_is_in_another_region(
    app: FastAPI, phone_ip: str, differs: bool, phone_place: str
) -> None:
    """The PC in Guangzhou; a phone on a network in Beijing is told, one in Shenzhen not."""
    pc = httpx.ASGITransport(app=app, client=("202.96.128.86", 50000))
    handset = httpx.ASGITransport(app=app, client=(phone_ip, 50001))
    async with (
        httpx.AsyncClient(transport=pc, headers={"User-Agent": QQ_BROWSER}) as pc_http,
        httpx.AsyncClient(transport=handset) as phone_http,
    ):
        browser = Browser(pc_http, f"{PUBLIC}/pools/demo")
        login = await browser.create()
        appid, scene = await browser.read_code(login)
        request = (await Phone(phone_http, PUBLIC, "wu").scan(appid, scene)).json()["request"]
    assert request["browser"] == "QQ Browser · Windows"
    assert request["location"] == "广东省 广州市"
    assert (request["region_differs"], request["phone_location"]) == (differs, phone_place)


async def test_the_first_scanner_wins(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    assert (await phone.scan(appid, scene)).status_code == 200
    again = await phone.scan(appid, scene)
    assert again.status_code == 200, "the same person reopening the mini program goes on"
    bob = Phone(http, PUBLIC, "bob")
    second = await bob.scan(appid, scene)
    assert (second.status_code, second.json()["error"]) == (409, "already_scanned")


@pytest.mark.parametrize("scene", ["unknown0123456789", "has space", "x" * 40])
async def test_unknown_scenes(phone: Phone, scene: str) -> None:
    response = await phone.scan("wx0000000000sandbox", scene)
    assert response.status_code in (400, 404)
    assert response.json()["error"] in ("scene_not_found", "invalid_request")


async def test_a_reused_js_code_is_refused_and_the_login_stays_pending(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    js_code = await phone.wx_login(appid)
    other = await browser.create()
    _, other_scene = await browser.read_code(other)
    first = await http.post(
        f"{PUBLIC}/api/miniprogram/scan", json={"scene": other_scene, "js_code": js_code}
    )
    assert first.status_code == 200
    reused = await http.post(
        f"{PUBLIC}/api/miniprogram/scan", json={"scene": scene, "js_code": js_code}
    )
    assert reused.status_code == 400
    assert reused.json()["error"].startswith("wechat_")
    assert (await browser.status(login))["status"] == "pending"


async def test_wechat_failing_during_scan_leaves_the_login_pending(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    fault = {"path": "sns/jscode2session", "errcode": -1, "times": 1}
    assert (await http.post(f"{PUBLIC}/_sandbox/wechat/faults", json=fault)).is_success
    failed = await phone.scan(appid, scene)
    assert (failed.status_code, failed.json()["error"]) == (424, "wechat_busy")
    assert (await browser.status(login))["status"] == "pending"
    assert (await phone.scan(appid, scene)).status_code == 200


async def test_confirm_authorizes_and_the_code_is_exchanged(browser: Browser, phone: Phone) -> None:
    login, appid, session = await scanned(browser, phone)
    confirmed = await phone.confirm(appid, session, nickname="Alice")
    assert confirmed.json() == {"status": "authorized"}
    status = await browser.status(login)
    assert status["status"] == "authorized"
    assert status["scanned"]["nickname"] == "Alice"
    tokens = await browser.exchange(login, status["code"])
    assert tokens.status_code == 200, tokens.text
    assert (await browser.status(login))["status"] == "consumed"


async def test_a_failed_confirm_leaves_the_login_scanned_and_confirmable(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login, appid, session = await scanned(browser, phone)
    fault = {"path": "wxa/business/getuserphonenumber", "errcode": -1, "times": 1}
    assert (await http.post(f"{PUBLIC}/_sandbox/wechat/faults", json=fault)).is_success
    failed = await phone.confirm(appid, session)
    assert (failed.status_code, failed.json()["error"]) == (424, "wechat_busy")
    assert (await browser.status(login))["status"] == "scanned"
    used = await phone.phone_code(appid)
    body = {"session": session, "phone_code": used}
    assert (await http.post(f"{PUBLIC}/api/miniprogram/confirm", json=body)).status_code == 200
    twice = await http.post(f"{PUBLIC}/api/miniprogram/confirm", json=body)
    assert (twice.status_code, twice.json()["error"]) == (409, "qrlogin_authorized")


async def test_a_reused_phone_code_is_refused(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    _, appid, first_session = await scanned(browser, phone)
    code = await phone.phone_code(appid)
    body = {"session": first_session, "phone_code": code}
    assert (await http.post(f"{PUBLIC}/api/miniprogram/confirm", json=body)).status_code == 200
    login, _, session = await scanned(browser, phone)
    reused = await http.post(
        f"{PUBLIC}/api/miniprogram/confirm", json={"session": session, "phone_code": code}
    )
    assert reused.status_code == 400
    assert reused.json()["error"].startswith("wechat_")
    assert (await browser.status(login))["status"] == "scanned"


async def test_confirm_with_an_unknown_session(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"{PUBLIC}/api/miniprogram/confirm", json={"session": "nope", "phone_code": "x"}
    )
    assert (response.status_code, response.json()["error"]) == (404, "session_not_found")


async def test_the_phone_cancels(browser: Browser, phone: Phone) -> None:
    login, appid, session = await scanned(browser, phone)
    response = await phone.cancel(session)
    assert response.json() == {"status": "cancelled"}
    status = await browser.status(login)
    assert (status["status"], status["error"]) == ("cancelled", "cancelled_by_user")
    late = await phone.confirm(appid, session)
    assert (late.status_code, late.json()["error"]) == (409, "qrlogin_cancelled")


@pytest.mark.parametrize("reason", ["phone_denied", "phone_quota", "phone_unavailable"])
async def test_the_phone_says_why_it_cancelled(browser: Browser, phone: Phone, reason: str) -> None:
    login, _, session = await scanned(browser, phone)
    assert (await phone.cancel(session, reason)).json() == {"status": "cancelled"}
    status = await browser.status(login)
    assert (status["status"], status["error"]) == ("cancelled", reason)
    assert status["message"]


async def test_an_unknown_cancel_reason_is_refused(browser: Browser, phone: Phone) -> None:
    login, _, session = await scanned(browser, phone)
    answer = await phone.cancel(session, "because")
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")
    assert (await browser.status(login))["status"] == "scanned"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("scan", {"scene": 1, "js_code": "x"}),
        ("scan", {"js_code": "x"}),
        ("confirm", {"session": "x"}),
        ("confirm", {"session": ["x"], "phone_code": "y"}),
        ("cancel", {}),
    ],
)
async def test_malformed_bodies(http: httpx.AsyncClient, path: str, body: object) -> None:
    response = await http.post(f"{PUBLIC}/api/miniprogram/{path}", json=body)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_returning_and_matching_users(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    """The first form of the account system: keyed on the verified phone (field match)."""

    async def login_as(person: Phone) -> dict[str, object]:
        login, appid, session = await scanned(browser, person)
        assert (await person.confirm(appid, session)).status_code == 200
        status = await browser.status(login)
        tokens = (await browser.exchange(login, status["code"])).json()
        info = await http.get(
            f"{PUBLIC}/pools/demo/oidc/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        result: dict[str, object] = info.json()
        return result

    await phone.set_profile(phone="+8613800138000")
    first = await login_as(phone)
    assert first["phone_number"] == "+8613800138000"
    assert first["phone_number_verified"] is True
    assert (await login_as(phone))["sub"] == first["sub"], "a returning WeChat identity"
    other_wechat = Phone(http, PUBLIC, "alice-second-wechat")
    await other_wechat.set_profile(phone="+8613800138000")
    assert (await login_as(other_wechat))["sub"] == first["sub"], "matched on the verified phone"
    stranger = Phone(http, PUBLIC, "carol")
    await stranger.set_profile(phone="+8613900139000")
    assert (await login_as(stranger))["sub"] != first["sub"]


async def test_a_bad_js_code_answers_alike_for_a_live_scene_and_an_unknown_one(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    """No oracle: whoever holds no good ``wx.login`` code can't tell which scenes are live."""
    login = await browser.create()
    appid, live = await browser.read_code(login)
    unknown = "Zz" * 11  # well-formed, as long as a real scene, and leased to nobody
    answers = []
    for scene in (live, unknown):
        response = await http.post(
            f"{PUBLIC}/api/miniprogram/scan", json={"scene": scene, "js_code": "bogus-code"}
        )
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400
    assert answers[0][1]["error"] == "wechat_invalid_code"
    assert (await browser.status(login))["status"] == "pending"
    # With a good code the unknown scene is simply not found.
    found = await phone.scan(appid, unknown)
    assert (found.status_code, found.json()["error"]) == (404, "scene_not_found")


async def test_without_recycling_no_number_matching_is_asked(
    browser: Browser, phone: Phone
) -> None:
    login = await browser.create()
    assert "match" not in login.body
    appid, scene = await browser.read_code(login)
    scan = await phone.scan(appid, scene)
    assert "match" not in scan.json()
    assert "match" not in await browser.status(login)


class TestNumberMatchingWhenCodesAreRecycled:
    """``MINILOGIN_CODE_POOL_RECYCLE=true``: a code may have been photographed during an
    earlier login, so the phone must pick the two digits that this login's PC shows."""

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return sandbox_settings(PUBLIC, tmp_path, code_pool_recycle=True)

    async def test_the_pc_shows_digits_and_the_phone_offers_them_among_others(
        self, browser: Browser, phone: Phone
    ) -> None:
        login = await browser.create()
        digits = login.body["match"]
        assert len(digits) == 2
        assert digits.isdigit()
        assert (await browser.status(login))["match"] == digits
        appid, scene = await browser.read_code(login)
        scan = (await phone.scan(appid, scene)).json()
        assert scan["match"]["required"] is True
        choices = scan["match"]["choices"]
        assert digits in choices
        assert len(set(choices)) == len(choices) >= 3
        # Scanning again offers the same choices: nothing to learn by comparing them.
        assert (await phone.scan(appid, scene)).json()["match"]["choices"] == choices
        assert (await browser.status(login))["match"] == digits  # still shown while scanned

    async def test_the_right_digits_allow_the_login(self, browser: Browser, phone: Phone) -> None:
        login = await browser.create()
        appid, scene = await browser.read_code(login)
        session = (await phone.scan(appid, scene)).json()["session"]
        allowed = await phone.confirm(appid, session, match=login.body["match"])
        assert allowed.status_code == 200, allowed.text
        status = await browser.status(login)
        assert status["status"] == "authorized"
        assert "match" not in status

    async def test_confirming_without_the_right_digits_fails_and_ends_the_login(
        self, browser: Browser, phone: Phone
    ) -> None:
        """The attack: someone scanned a photo of the code and can't see the PC's screen."""
        login = await browser.create()
        appid, scene = await browser.read_code(login)
        scan = (await phone.scan(appid, scene)).json()
        missing = await phone.confirm(appid, scan["session"])
        assert (missing.status_code, missing.json()["error"]) == (400, "match_required")
        assert (await browser.status(login))["status"] == "scanned"  # no guess was made

        wrong = next(c for c in scan["match"]["choices"] if c != login.body["match"])
        guessed = await phone.confirm(appid, scan["session"], match=wrong)
        assert (guessed.status_code, guessed.json()["error"]) == (403, "match_failed")
        status = await browser.status(login)
        assert (status["status"], status["error"]) == ("cancelled", "match_failed")
        # No second guess: the login is over.
        right = await phone.confirm(appid, scan["session"], match=login.body["match"])
        assert right.status_code == 409
        assert (await browser.status(login))["status"] == "cancelled"
