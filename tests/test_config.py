"""The settings' view of WeChat: WeChat itself by default, anything else is a sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from minilogin.config import SANDBOX_APP_ID, SANDBOX_APP_SECRET, Settings


def settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(data_dir=tmp_path, **values)


def test_wechat_is_wechat_by_default_and_has_no_phone_simulator(tmp_path: Path) -> None:
    wechat = settings(tmp_path)

    assert wechat.wechat_api_url == "https://api.weixin.qq.com"
    assert wechat.uses_wechat_sandbox is False
    assert wechat.sandbox_phone_url is None
    assert wechat.wechat_app_id == ""


@pytest.mark.parametrize(
    "url",
    ["https://api.weixin.qq.com/", "https://api2.weixin.qq.com", "https://sh.api.weixin.qq.com"],
)
def test_wechats_own_hosts_are_not_a_sandbox(tmp_path: Path, url: str) -> None:
    assert settings(tmp_path, wechat_api_url=url).uses_wechat_sandbox is False


@pytest.mark.parametrize(
    "url",
    [
        "http://api.weixin.qq.com",  # not over HTTPS
        "https://api.weixin.qq.com.example.net",
        "https://weixin.qq.com.evil.test",
        "http://127.0.0.1:8001/_sandbox/wechat",
    ],
)
def test_any_other_address_is_a_sandbox(tmp_path: Path, url: str) -> None:
    assert settings(tmp_path, wechat_api_url=url).uses_wechat_sandbox is True


def test_a_sandboxs_phone_simulator_is_beside_its_api(tmp_path: Path) -> None:
    sandbox = settings(tmp_path, wechat_api_url="http://10.0.0.5:8001/_sandbox/wechat/")

    assert sandbox.wechat_api_url == "http://10.0.0.5:8001/_sandbox/wechat"
    assert sandbox.sandbox_phone_url == "http://10.0.0.5:8001/_sandbox/phone"


def test_against_a_sandbox_the_sandboxs_mini_program_stands_in_for_a_missing_one(
    tmp_path: Path,
) -> None:
    api = "http://127.0.0.1:8001/_sandbox/wechat"

    defaulted = settings(tmp_path).against_sandbox(api)
    named = settings(tmp_path, wechat_app_id="wxown", wechat_app_secret="s").against_sandbox(api)

    assert defaulted.wechat_api_url == api
    assert (defaulted.wechat_app_id, defaulted.wechat_app_secret) == (
        SANDBOX_APP_ID,
        SANDBOX_APP_SECRET,
    )
    assert (named.wechat_app_id, named.wechat_app_secret) == ("wxown", "s")
