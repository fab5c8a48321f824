"""Backing off from WeChat errors no retry cures, through the client against the sandbox: the
refused calls never reach WeChat, the delays double up to minutes, and the log has one line
per change of state."""

from __future__ import annotations

import logging

import pytest

from minilogin.wechat.backoff import LIMIT, Backoff
from minilogin.wechat.client import WeChatClient, scopes_of
from minilogin.wechat.errors import WeChatConfigurationError, WeChatError, WeChatInvalidPage
from minilogin.wechat.types import MiniProgram

BASE = "http://sandbox.test/_sandbox/wechat"


@pytest.fixture
def guarded(transport, tokens, clock) -> WeChatClient:
    return WeChatClient(transport, BASE, tokens, clock=clock)


async def test_a_server_outside_the_ip_allowlist_backs_off(guarded, program, wx, clock, caplog):
    await wx.fault("sns/jscode2session", 40164, times=100)
    caplog.set_level(logging.INFO, "minilogin.wechat")

    refused = []
    for _ in range(5):
        with pytest.raises(WeChatConfigurationError) as caught:
            await guarded.code_to_session(program, await wx.login_code())
        refused.append(caught.value)

    assert {(error.code, error.errcode) for error in refused} == {("wechat_ip_not_allowed", 40164)}
    assert await wx.calls("sns/jscode2session") == 1
    assert len(caplog.records) == 1
    assert "not asking again for 2 s" in caplog.records[0].getMessage()


async def test_the_delay_doubles_up_to_minutes(guarded, program, wx, clock) -> None:
    await wx.fault("sns/jscode2session", 40164, times=100)
    asked = []
    for _ in range(12):
        with pytest.raises(WeChatError):
            await guarded.code_to_session(program, await wx.login_code())
        asked.append(await wx.calls("sns/jscode2session"))
        clock.advance(LIMIT / 2)

    # Delays 2, 4, 8 ... s pass within one step of 150 s each; from 256 s on (capped at 300)
    # every other step asks.
    assert asked == [1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10]


async def test_a_fixed_configuration_recovers_with_one_log_line(
    guarded, program, wx, clock, caplog
) -> None:
    await wx.fault("sns/jscode2session", 40125, times=2)
    caplog.set_level(logging.INFO, "minilogin.wechat")
    for _ in range(2):
        with pytest.raises(WeChatConfigurationError):
            await guarded.code_to_session(program, await wx.login_code())
        clock.advance(10)

    session = await guarded.code_to_session(program, await wx.login_code())

    assert session.openid
    assert [record.levelname for record in caplog.records] == ["WARNING", "INFO"]
    assert "accepts" in caplog.records[-1].getMessage()
    assert all(record.exc_info is None for record in caplog.records)


async def test_a_wrong_appsecret_backs_off_every_api_of_that_secret(guarded, program, wx) -> None:
    await guarded.code_to_session(program, await wx.login_code())  # the sandbox learns the secret
    wrong = MiniProgram(program.app_id, "a-wrong-secret")

    with pytest.raises(WeChatConfigurationError):
        await guarded.get_unlimited_code(wrong, "abc", page=None)
    with pytest.raises(WeChatConfigurationError) as caught:
        await guarded.code_to_session(wrong, await wx.login_code())

    assert (caught.value.errcode, caught.value.api) == (40125, "stable_token")
    assert await wx.calls("sns/jscode2session") == 1
    # The right secret is another scope: it is not held back.
    assert await guarded.get_unlimited_code(program, "abc", page=None)


async def test_an_invalid_page_backs_off_that_page_only(guarded, program, wx) -> None:
    with pytest.raises(WeChatInvalidPage):
        await guarded.get_unlimited_code(program, "abc", page="pages/missing/page")
    with pytest.raises(WeChatInvalidPage):
        await guarded.get_unlimited_code(program, "abc", page="pages/missing/page")

    assert await wx.calls("wxa/getwxacodeunlimit") == 1
    assert await guarded.get_unlimited_code(program, "abc", page="pages/login/login")
    missing = scopes_of(program, "getwxacodeunlimit", "pages/missing/page@release")
    assert isinstance(guarded.backoff.failing(missing["page"]), WeChatInvalidPage)
    assert guarded.backoff.failing(missing["credentials"]) is None


async def test_errors_a_retry_can_cure_do_not_back_off(guarded, program, wx) -> None:
    await wx.fault("sns/jscode2session", -1)

    with pytest.raises(WeChatError) as caught:
        await guarded.code_to_session(program, await wx.login_code())
    session = await guarded.code_to_session(program, await wx.login_code())

    assert not isinstance(caught.value, WeChatConfigurationError)
    assert session.openid


def test_a_changed_error_is_logged_again(caplog) -> None:
    now = [0.0]
    backoff = Backoff(lambda: now[0])
    caplog.set_level(logging.INFO, "minilogin.wechat")
    ip = WeChatConfigurationError("wechat_ip_not_allowed", "ip", api="x", errcode=40164)
    secret = WeChatConfigurationError("wechat_invalid_credentials", "s", api="x", errcode=40125)

    backoff.failed("scope", ip)
    backoff.failed("scope", ip)
    backoff.failed("scope", secret)

    assert len(caplog.records) == 2
    with pytest.raises(WeChatConfigurationError) as caught:
        backoff.check("scope")
    assert caught.value.errcode == 40125
