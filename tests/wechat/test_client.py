"""The WeChat client against the sandbox over HTTP: what each call gives, and how every
failure WeChat can answer becomes a typed error."""

from __future__ import annotations

import io
import json
import logging
import socket
import time

import httpx
import pytest
import zxingcpp
from PIL import Image

from minilogin.core.errors import UpstreamError
from minilogin.sandbox.emulator import ERRMSGS
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.wechat.client import WeChatClient
from minilogin.wechat.errors import WeChatConfigurationError, WeChatError, WeChatInvalidPage
from minilogin.wechat.token_cache import AccessTokenCache
from minilogin.wechat.transport import HttpxTransport
from minilogin.wechat.types import MiniProgram

PUBLIC = "http://sandbox.test"
BASE = f"{PUBLIC}/_sandbox/wechat"


async def test_code_to_session_names_the_user(client, program, wx, http) -> None:
    session = await client.code_to_session(program, await wx.login_code("alice"))

    expected = (await http.get(f"/_sandbox/wx/users/alice?appid={program.app_id}")).json()
    assert session.openid == expected["openid"]
    assert session.session_key
    assert session.unionid is None


async def test_code_to_session_gives_the_unionid_once_set(client, program, wx) -> None:
    await wx.put_user("bob", unionid="o6_bmasdasdsad6_2sgVt7hMZOPfL")

    session = await client.code_to_session(program, await wx.login_code("bob"))

    assert session.unionid == "o6_bmasdasdsad6_2sgVt7hMZOPfL"


async def test_openids_are_stable_and_differ_between_mini_programs(client, program, wx) -> None:
    other = MiniProgram("wx_other_program", "other-secret")

    first = await client.code_to_session(program, await wx.login_code("carol"))
    again = await client.code_to_session(program, await wx.login_code("carol"))
    elsewhere = await client.code_to_session(
        other, await wx.login_code("carol", appid=other.app_id)
    )

    assert first.openid == again.openid
    assert elsewhere.openid != first.openid


async def test_a_login_code_works_once(client, program, wx) -> None:
    code = await wx.login_code()
    await client.code_to_session(program, code)

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(program, code)

    assert caught.value.code == "wechat_code_used"
    assert caught.value.errcode == 40163
    assert caught.value.api == "jscode2session"


async def test_a_login_code_lives_five_minutes(client, program, wx, clock) -> None:
    fresh, stale = await wx.login_code(), await wx.login_code()
    clock.advance(299)
    await client.code_to_session(program, fresh)
    clock.advance(1)

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(program, stale)

    assert (caught.value.code, caught.value.errcode) == ("wechat_invalid_code", 40029)


async def test_a_login_code_is_only_good_for_its_mini_program(client, program, wx) -> None:
    code = await wx.login_code(appid="wx_someone_else")

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(program, code)

    assert (caught.value.code, caught.value.errcode) == ("wechat_invalid_code", 40029)


async def test_an_unknown_code_is_invalid(client, program) -> None:
    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(program, "081Kq1Ga1cE7zH0bQ9Ia1xYnVh3Kq1G4")

    assert caught.value.code == "wechat_invalid_code"
    assert isinstance(caught.value, UpstreamError)


async def test_a_second_secret_for_an_appid_is_refused(client, program, wx) -> None:
    await client.code_to_session(program, await wx.login_code())
    impostor = MiniProgram(program.app_id, "not-the-first-secret")

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(impostor, await wx.login_code())

    assert (caught.value.code, caught.value.errcode) == ("wechat_invalid_credentials", 40125)
    assert "invalid appsecret" in (caught.value.errmsg or "")
    assert "not-the-first-secret" not in f"{caught.value} {caught.value.params}"


async def test_a_second_secret_is_refused_for_access_tokens_too(client, program, wx) -> None:
    await client.code_to_session(program, await wx.login_code())
    impostor = MiniProgram(program.app_id, "not-the-first-secret")

    with pytest.raises(WeChatError) as caught:
        await client.get_phone_number(impostor, await wx.phone_code())

    assert (caught.value.code, caught.value.api) == ("wechat_invalid_credentials", "stable_token")


async def test_get_phone_number_of_a_mainland_number(client, program, wx) -> None:
    await wx.put_user("alice", phone="+8613800138000")

    number = await client.get_phone_number(program, await wx.phone_code("alice"))

    assert number.phone_number == "13800138000"
    assert number.pure_phone_number == "13800138000"
    assert number.country_code == "86"


async def test_get_phone_number_of_a_foreign_number_keeps_its_country_code(
    client, program, wx
) -> None:
    await wx.put_user("dora", phone="+85261234567")

    number = await client.get_phone_number(program, await wx.phone_code("dora"))

    assert number.phone_number == "+85261234567"
    assert number.pure_phone_number == "61234567"
    assert number.country_code == "852"


@pytest.mark.parametrize("as_number", [True, False])
async def test_country_code_is_a_string_whether_wechat_sends_a_number_or_not(
    client, program, wx, http, tokens, as_number: bool
) -> None:
    answer = await http.put("/_sandbox/wechat/options", json={"country_code_as_number": as_number})
    assert answer.json()["country_code_as_number"] is as_number
    raw = await http.post(
        "/_sandbox/wechat/wxa/business/getuserphonenumber",
        params={"access_token": await tokens.get(program)},
        json={"code": await wx.phone_code()},
    )
    assert isinstance(raw.json()["phone_info"]["countryCode"], int) is as_number

    number = await client.get_phone_number(program, await wx.phone_code())

    assert number.country_code == "86"


async def test_a_phone_code_works_once(client, program, wx) -> None:
    code = await wx.phone_code()
    await client.get_phone_number(program, code)

    with pytest.raises(WeChatError) as caught:
        await client.get_phone_number(program, code)

    assert (caught.value.code, caught.value.errcode) == ("wechat_invalid_code", 40029)


async def test_a_phone_code_lives_five_minutes(client, program, wx, clock) -> None:
    code = await wx.phone_code()
    clock.advance(301)

    with pytest.raises(WeChatError) as caught:
        await client.get_phone_number(program, code)

    assert caught.value.code == "wechat_invalid_code"


async def test_get_unlimited_code_is_a_qr_code_of_the_phone_page(client, program) -> None:
    image = await client.get_unlimited_code(program, "a1B2c3D4e5F6g7H8", page=None, width=430)

    decoded = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(image)), formats=zxingcpp.BarcodeFormat.QRCode
    )

    assert image.startswith(b"\xff\xd8\xff")
    assert [code.text for code in decoded] == [
        f"{PUBLIC}/_sandbox/phone?appid={program.app_id}&scene=a1B2c3D4e5F6g7H8"
    ]


async def test_scene_characters_are_url_encoded_in_the_code(client, program) -> None:
    image = await client.get_unlimited_code(program, "id=7&x=a+b", page=None)

    (decoded,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(image)), formats=zxingcpp.BarcodeFormat.QRCode
    )

    assert decoded.text.endswith("&scene=id%3D7%26x%3Da%2Bb")


@pytest.mark.parametrize(
    ("scene", "errcode"), [("", 40169), ("x" * 33, 40129), ("has space", 40129), ("100%", 40129)]
)
async def test_an_invalid_scene_is_refused(client, program, scene: str, errcode: int) -> None:
    with pytest.raises(WeChatError) as caught:
        await client.get_unlimited_code(program, scene, page=None)

    assert (caught.value.code, caught.value.errcode) == ("wechat_invalid_scene", errcode)
    assert not isinstance(caught.value, WeChatConfigurationError)


async def test_the_released_version_checks_its_page(client, program, wx) -> None:
    await client.get_unlimited_code(program, "abc", page="pages/login/login")

    with pytest.raises(WeChatInvalidPage) as caught:
        await client.get_unlimited_code(program, "abc", page="pages/unpublished/page")

    assert (caught.value.code, caught.value.errcode) == ("wechat_invalid_page", 41030)
    assert isinstance(caught.value, WeChatConfigurationError)
    assert not caught.value.retryable


@pytest.mark.parametrize("env_version", ["trial", "develop"])
async def test_unreleased_versions_do_not_check_their_page(
    client, program, env_version: str
) -> None:
    # getUnlimitedQRCode: check_path false "允许小程序未发布或者 page 不存在".
    image = await client.get_unlimited_code(
        program, "abc", page="pages/unpublished/page", env_version=env_version
    )

    assert image.startswith(b"\xff\xd8\xff")


async def test_check_path_is_sent_as_wechat_documents_it(http, tokens, program) -> None:
    sent: list[dict[str, object]] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path.endswith("getwxacodeunlimit"):
            sent.append(json.loads(request.content))

    http.event_hooks["request"].append(record)
    client = WeChatClient(HttpxTransport(http), BASE, tokens)
    await client.get_unlimited_code(program, "abc", page="pages/login/login")
    await client.get_unlimited_code(program, "abc", page="pages/x/y", env_version="trial")

    assert [(body["check_path"], body["env_version"]) for body in sent] == [
        (True, "release"),
        (False, "trial"),
    ]


async def test_scancode_time_in_the_page_is_a_page_error(client, program) -> None:
    with pytest.raises(WeChatInvalidPage) as caught:
        await client.get_unlimited_code(
            program, "abc", page="pages/login/login?scancode_time=1", env_version="develop"
        )

    assert caught.value.errcode == 85096


async def test_a_malformed_page_is_refused(client, program) -> None:
    with pytest.raises(WeChatError) as caught:
        await client.get_unlimited_code(program, "abc", page="/pages/login/login?x=1")

    assert caught.value.code == "wechat_invalid_page"


async def test_a_json_error_with_http_200_is_an_error_not_an_image(client, program, wx) -> None:
    await wx.fault("wxa/getwxacodeunlimit", 45009)

    with pytest.raises(WeChatError) as caught:
        await client.get_unlimited_code(program, "abc", page=None)

    # getUnlimitedQRCode: 45009 is its limit of 5,000 calls a minute.
    assert (caught.value.code, caught.value.errcode) == ("wechat_rate_limited", 45009)
    assert "5,000 codes this minute" in str(caught.value)
    assert caught.value.retryable


async def test_the_phone_quota_used_up_is_its_own_error(client, program, wx) -> None:
    await wx.fault("wxa/business/getuserphonenumber", 45009)

    with pytest.raises(WeChatError) as caught:
        await client.get_phone_number(program, await wx.phone_code())

    assert (caught.value.code, caught.value.errcode) == ("wechat_phone_quota", 45009)
    assert not caught.value.retryable


async def test_the_phone_code_is_checked_against_the_scanners_openid(client, program, wx) -> None:
    alice = await client.code_to_session(program, await wx.login_code("alice"))
    mallory_code = await wx.phone_code("mallory")

    with pytest.raises(WeChatError) as caught:
        await client.get_phone_number(program, mallory_code, openid=alice.openid)
    number = await client.get_phone_number(
        program, await wx.phone_code("alice"), openid=alice.openid
    )

    assert caught.value.errcode == 40029
    assert number.pure_phone_number


async def test_a_replaced_access_token_is_refreshed_once_and_the_call_retried(
    client, program, wx, http, tokens
) -> None:
    stale = await tokens.get(program)
    replaced = await http.post(
        "/_sandbox/wechat/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": program.app_id,
            "secret": program.app_secret,
            "force_refresh": True,
        },
    )
    assert replaced.json()["access_token"] != stale

    number = await client.get_phone_number(program, await wx.phone_code())

    assert number.country_code == "86"
    assert await wx.calls("wxa/business/getuserphonenumber") == 2
    # Normal mode gave the other system's new token: no forced refresh to take it back.
    assert (tokens.fetches, tokens.forced) == (2, 0)
    assert await tokens.get(program) == replaced.json()["access_token"]


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
async def test_each_stale_token_errcode_triggers_one_refresh(
    client, program, wx, tokens, errcode: int
) -> None:
    await tokens.get(program)
    await wx.fault("wxa/getwxacodeunlimit", errcode)

    image = await client.get_unlimited_code(program, "abc", page=None)

    assert image.startswith(b"\xff\xd8\xff")
    # Normal mode answered the same token, known rejected: one forced refresh followed.
    assert (tokens.fetches, tokens.forced) == (3, 1)


async def test_a_token_rejected_twice_is_not_retried_again(client, program, wx, tokens) -> None:
    await wx.fault("wxa/business/getuserphonenumber", 40001, times=5)

    with pytest.raises(WeChatError) as caught:
        await client.get_phone_number(program, await wx.phone_code())

    assert (caught.value.code, caught.value.errcode) == ("wechat_invalid_credentials", 40001)
    assert await wx.calls("wxa/business/getuserphonenumber") == 2
    assert (tokens.fetches, tokens.forced) == (3, 1)


@pytest.mark.parametrize(
    ("errcode", "code"),
    [
        (-1, "wechat_busy"),
        (45011, "wechat_rate_limited"),
        (45009, "wechat_rate_limited"),
        (40226, "wechat_high_risk"),
        (40029, "wechat_invalid_code"),
        (40163, "wechat_code_used"),
        (40013, "wechat_invalid_credentials"),
        (40125, "wechat_invalid_credentials"),
        (40164, "wechat_ip_not_allowed"),
        (48001, "wechat_api_unauthorized"),
        (41008, "wechat_bad_request"),
        (99999, "wechat_error"),
    ],
)
async def test_every_errcode_becomes_a_typed_error(
    client, program, wx, errcode: int, code: str
) -> None:
    await wx.fault("sns/jscode2session", errcode)

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(program, await wx.login_code())

    error = caught.value
    assert (error.code, error.errcode, error.api) == (code, errcode, "jscode2session")
    assert error.errmsg is not None
    assert error.errmsg.startswith(ERRMSGS.get(errcode, "system error"))
    assert str(errcode) in (error.detail or "")
    assert error.params["errmsg"] == error.errmsg


async def test_faults_run_out_after_their_count(client, program, wx) -> None:
    await wx.fault("sns/jscode2session", -1, times=2)

    for _ in range(2):
        with pytest.raises(WeChatError) as caught:
            await client.code_to_session(program, await wx.login_code())
        assert caught.value.code == "wechat_busy"
        assert caught.value.retryable
    session = await client.code_to_session(program, await wx.login_code())

    assert session.openid


async def test_a_slow_answer_is_a_timeout(sandbox, program, wx) -> None:
    await wx.fault("sns/jscode2session", 0, delay_ms=2000)
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, timeout=0.2) as http:
        impatient = HttpxTransport(http)
        client = WeChatClient(impatient, BASE, AccessTokenCache(MemoryStore(), impatient, BASE))
        started = time.monotonic()

        with pytest.raises(WeChatError) as caught:
            await client.code_to_session(program, await wx.login_code())

    assert caught.value.code == "wechat_timeout"
    assert caught.value.retryable
    assert time.monotonic() - started < 1.5


async def test_a_slow_token_is_a_timeout_too(sandbox, program, wx) -> None:
    await wx.fault("cgi-bin/stable_token", 0, delay_ms=2000)
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, timeout=0.2) as http:
        impatient = HttpxTransport(http)
        client = WeChatClient(impatient, BASE, AccessTokenCache(MemoryStore(), impatient, BASE))

        with pytest.raises(WeChatError) as caught:
            await client.get_phone_number(program, await wx.phone_code())

    assert (caught.value.code, caught.value.api) == ("wechat_timeout", "stable_token")


async def test_a_delay_alone_only_slows_the_answer(client, program, wx) -> None:
    await wx.fault("sns/jscode2session", 0, delay_ms=50)

    session = await client.code_to_session(program, await wx.login_code())

    assert session.openid


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_an_unreachable_wechat_is_reported_as_such(program, network) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    client = WeChatClient(network, base, AccessTokenCache(MemoryStore(), network, base))

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(program, "any")

    assert caught.value.code == "wechat_unreachable"
    assert caught.value.__cause__ is None
    assert program.app_secret not in str(caught.value)


async def test_an_answer_that_is_not_wechat_json_is_a_bad_response(transport, program) -> None:
    wrong_base = f"{PUBLIC}/_sandbox"  # a path the server does not answer as WeChat would
    tokens = AccessTokenCache(MemoryStore(), transport, wrong_base)
    client = WeChatClient(transport, wrong_base, tokens)

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(program, "any")

    assert caught.value.code == "wechat_bad_response"


async def test_secrets_and_tokens_stay_out_of_errors_and_logs(
    client, program, wx, tokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    token = await tokens.get(program)
    await wx.fault("sns/jscode2session", 40226)
    await wx.fault("wxa/business/getuserphonenumber", 40001, times=2)

    errors = []
    for call in (
        client.code_to_session(program, await wx.login_code()),
        client.get_phone_number(program, await wx.phone_code()),
    ):
        with pytest.raises(WeChatError) as caught:
            await call
        errors.append(caught.value)

    logged = caplog.text
    assert "jscode2session" in logged
    for error in errors:
        shown = f"{error} {error.detail} {error.params} {error!r}"
        assert program.app_secret not in shown
        assert token not in shown
    assert program.app_secret not in logged
    assert token not in logged
    assert program.app_secret not in repr(program)


async def test_the_session_key_stays_out_of_reprs_and_logs(client, program, wx, caplog) -> None:
    caplog.set_level(logging.DEBUG)

    session = await client.code_to_session(program, await wx.login_code())

    assert session.session_key
    assert session.session_key not in repr(session)
    assert session.session_key not in str(session)
    assert session.session_key not in caplog.text
