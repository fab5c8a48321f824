"""The sandbox against WeChat's documented requests and answers, over HTTP, in a process of its
own: what a client written from WeChat's documentation alone would see.

Sources (developers.weixin.qq.com, 小程序 服务端 API):
- getStableAccessToken ``POST /cgi-bin/stable_token``: "普通模式，access_token 有效期内重复调用该
  接口不会更新 access_token"; "强制刷新模式，会导致上次获取的 access_token 失效"; "连续使用该模式
  时，请保证调用时间隔至少为30s，否则不会刷新"; ``expires_in`` "7200秒之内的值", at least 300.
- code2Session ``GET /sns/jscode2session``: ``openid``, ``session_key``, ``unionid``; errcodes
  40029 (code 无效), 40163 (code been used), 40226 (高风险等级用户).
- getPhoneNumber ``POST /wxa/business/getuserphonenumber``: "每个 code 只能使用一次，code 的有效
  期为 5min"; ``openid`` "填入后会校验openid和code的绑定关系"; ``phone_info`` with
  ``phoneNumber``, ``purePhoneNumber``, ``countryCode``, ``watermark``.
- getUnlimitedQRCode ``POST /wxa/getwxacodeunlimit``: "如果调用成功，会直接返回图片二进制内容，如果
  请求失败，会返回 JSON 格式的数据"; scene "最大32个可见字符，只支持数字，大小写英文以及部分特殊
  字符：!#$&'()*+,/:;=?@-._~" (40129 invalid scene); ``check_path`` "默认是true … page 必须是已经
  发布的小程序存在的页面（否则报错）" (41030 invalid page); "scancode_time为系统保留参数，不允许
  配置" (85096); width "最小 280px，最大 1280px"; "调用分钟频率受限(5000次/分钟)" (45009).
- Every error is ``{"errcode": n, "errmsg": "... rid: ..."}`` sent with HTTP 200.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image
from tests.support.sandbox_server import sandbox_process

SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process(Path(tmp_path_factory.mktemp("sandbox"))) as public:
        yield public


@pytest.fixture
def wechat(sandbox: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox}/_sandbox/wechat", timeout=10) as client:
        yield client


@pytest.fixture
def phone(sandbox: str) -> Iterator[httpx.Client]:
    """The simulated phone's side: what wx.login and the phone-number button give."""
    with httpx.Client(base_url=f"{sandbox}/_sandbox/wx", timeout=10) as client:
        yield client


@pytest.fixture
def appid() -> str:
    # A mini program of its own per test: the sandbox keeps its state for the module.
    return f"wx{secrets.token_hex(8)}"


def stable_token(wechat: httpx.Client, appid: str, **extra: object) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": appid, "secret": SECRET, **extra}
    answer: dict[str, Any] = wechat.post("/cgi-bin/stable_token", json=body).json()
    return answer


def token(wechat: httpx.Client, appid: str) -> str:
    value: str = stable_token(wechat, appid)["access_token"]
    return value


def wechat_error(response: httpx.Response) -> int:
    """The errcode of an error answered as WeChat answers them."""
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"errcode", "errmsg"}
    assert isinstance(body["errmsg"], str)
    assert " rid: " in body["errmsg"]
    errcode: int = body["errcode"]
    return errcode


def code(wechat: httpx.Client, access_token: str, **body: object) -> httpx.Response:
    return wechat.post("/wxa/getwxacodeunlimit", params={"access_token": access_token}, json=body)


# getStableAccessToken ---------------------------------------------------------------------------


def test_normal_mode_answers_the_same_token_while_it_is_valid(wechat, appid) -> None:
    first = stable_token(wechat, appid)
    again = stable_token(wechat, appid, force_refresh=False)

    assert set(first) == {"access_token", "expires_in"}
    assert again["access_token"] == first["access_token"]
    assert len(first["access_token"]) <= 512
    assert 300 <= first["expires_in"] <= 7200


def test_force_refresh_invalidates_the_previous_token_and_waits_30_s(wechat, appid) -> None:
    old = token(wechat, appid)

    forced = stable_token(wechat, appid, force_refresh=True)["access_token"]
    too_soon = stable_token(wechat, appid, force_refresh=True)["access_token"]

    assert forced != old
    assert too_soon == forced
    assert wechat_error(code(wechat, old, scene="abc")) == 40001
    assert code(wechat, forced, scene="abc").headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"grant_type": "authorization_code", "appid": "wxa", "secret": SECRET}, 40002),
        ({"grant_type": "client_credential", "secret": SECRET}, 41002),
        ({"grant_type": "client_credential", "appid": "wxa"}, 41004),
    ],
)
def test_stable_token_errors(wechat, body: dict[str, object], errcode: int) -> None:
    assert wechat_error(wechat.post("/cgi-bin/stable_token", json=body)) == errcode


def test_a_second_appsecret_for_an_appid_is_invalid(wechat, appid) -> None:
    token(wechat, appid)
    body = {"grant_type": "client_credential", "appid": appid, "secret": "another"}

    assert wechat_error(wechat.post("/cgi-bin/stable_token", json=body)) == 40125


# code2Session -------------------------------------------------------------------------------------


def session(wechat: httpx.Client, appid: str, js_code: str) -> httpx.Response:
    params = {
        "appid": appid,
        "secret": SECRET,
        "js_code": js_code,
        "grant_type": "authorization_code",
    }
    return wechat.get("/sns/jscode2session", params=params)


def login_code(phone: httpx.Client, appid: str, user: str = "alice") -> str:
    value: str = phone.post("/login", json={"appid": appid, "user": user}).json()["code"]
    return value


def test_code2session_answers_the_openid_and_a_session_key(wechat, phone, appid) -> None:
    answer = session(wechat, appid, login_code(phone, appid)).json()

    assert {"openid", "session_key"} <= set(answer)
    assert len(answer["openid"]) == 28


def test_a_js_code_works_once(wechat, phone, appid) -> None:
    js_code = login_code(phone, appid)
    session(wechat, appid, js_code)

    assert wechat_error(session(wechat, appid, js_code)) == 40163


def test_a_bogus_js_code_is_invalid(wechat, appid) -> None:
    token(wechat, appid)  # the sandbox learns the AppSecret

    assert wechat_error(session(wechat, appid, "071bogusCode0000000000000000000")) == 40029


# getPhoneNumber -----------------------------------------------------------------------------------


def phone_code(phone: httpx.Client, appid: str, user: str = "alice") -> str:
    value: str = phone.post("/phone_code", json={"appid": appid, "user": user}).json()["code"]
    return value


def phone_number(wechat: httpx.Client, access_token: str, **body: object) -> httpx.Response:
    params = {"access_token": access_token}
    return wechat.post("/wxa/business/getuserphonenumber", params=params, json=body)


def test_a_phone_code_gives_the_phone_info_once(wechat, phone, appid) -> None:
    access_token = token(wechat, appid)
    once = phone_code(phone, appid)

    answer = phone_number(wechat, access_token, code=once).json()

    assert (answer["errcode"], answer["errmsg"]) == (0, "ok")
    info = answer["phone_info"]
    assert {"phoneNumber", "purePhoneNumber", "countryCode", "watermark"} <= set(info)
    assert info["watermark"]["appid"] == appid
    assert wechat_error(phone_number(wechat, access_token, code=once)) == 40029


def test_the_openid_must_be_the_phone_codes(wechat, phone, appid) -> None:
    access_token = token(wechat, appid)
    alice = session(wechat, appid, login_code(phone, appid, "alice")).json()["openid"]

    theirs = phone_number(wechat, access_token, code=phone_code(phone, appid, "bob"), openid=alice)
    hers = phone_number(wechat, access_token, code=phone_code(phone, appid, "alice"), openid=alice)

    assert wechat_error(theirs) == 40029
    assert hers.json()["errcode"] == 0


# getUnlimitedQRCode -------------------------------------------------------------------------------


def test_a_code_is_a_jpeg_of_the_width_asked_that_scans(wechat, sandbox, appid) -> None:
    answer = code(wechat, token(wechat, appid), scene="id=7&k=v", width=430)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(answer.content))
    assert (image.format, image.size) == ("JPEG", (430, 430))
    assert 20_000 <= len(answer.content) <= 100_000
    (decoded,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert decoded.text == f"{sandbox}/_sandbox/phone?appid={appid}&scene=id%3D7%26k%3Dv"


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"scene": "x" * 33}, 40129),
        ({"scene": "has space"}, 40129),
        ({"scene": "100%"}, 40129),
        ({"scene": "中文"}, 40129),
        ({"scene": "abc", "page": "pages/index/index"}, 41030),
        ({"scene": "abc", "page": "pages/index/index", "check_path": True}, 41030),
        ({"scene": "abc", "page": "/pages/login/login", "check_path": False}, 41030),
        ({"scene": "abc", "page": "pages/login/login?scancode_time=1"}, 85096),
        ({"scene": "abc", "width": 279}, 40097),
        ({"scene": "abc", "width": 1281}, 40097),
        ({"scene": "abc", "env_version": "beta"}, 40097),
    ],
)
def test_code_errors(wechat, appid, body: dict[str, object], errcode: int) -> None:
    assert wechat_error(code(wechat, token(wechat, appid), **body)) == errcode


@pytest.mark.parametrize("env_version", ["release", "trial", "develop"])
def test_check_path_false_makes_a_code_for_any_page(wechat, appid, env_version: str) -> None:
    answer = code(
        wechat,
        token(wechat, appid),
        scene="abc",
        page="pages/not/released",
        check_path=False,
        env_version=env_version,
    )

    assert answer.headers["content-type"] == "image/jpeg"


def test_a_published_page_is_accepted_with_check_path(wechat, appid) -> None:
    answer = code(wechat, token(wechat, appid), scene="abc", page="pages/login/login")

    assert answer.headers["content-type"] == "image/jpeg"


def test_requests_without_a_good_token_or_body(wechat, appid) -> None:
    url = "/wxa/getwxacodeunlimit"
    good = token(wechat, appid)

    assert wechat_error(wechat.post(url, json={"scene": "abc"})) == 41001
    assert wechat_error(wechat.post(url, params={"access_token": "nope"}, json={})) == 40001
    bad_json = wechat.post(url, params={"access_token": good}, content=b"{not json")
    assert wechat_error(bad_json) == 47001
    assert wechat_error(wechat.get(url, params={"access_token": good})) == 43002


def test_past_the_limit_of_calls_a_minute_an_appid_gets_45009(wechat, appid) -> None:
    # WeChat's limit is 5,000 a minute (the sandbox's default, see test_emulator); lowered
    # here through the sandbox's options so that the limit is reached in a few calls.
    assert wechat.put("/options", json={"codes_per_minute": 30}).is_success
    access_token = token(wechat, appid)
    if time.time() % 60 > 50:
        time.sleep(60 - time.time() % 60)  # all the calls within one minute
    try:
        answers = [wechat_error(code(wechat, access_token, scene="not a scene")) for _ in range(32)]
    finally:
        wechat.put("/options", json={"codes_per_minute": 5000})

    assert answers == [40129] * 30 + [45009] * 2
