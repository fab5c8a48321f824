"""The WeChat value types keep their credentials out of every ``repr`` (and so of logs)."""

from __future__ import annotations

from minilogin.wechat.types import MiniProgram, PhoneNumber, Session


def test_credentials_stay_out_of_reprs() -> None:
    program = MiniProgram("wx0123456789abcdef", "app-secret-value")
    session = Session("openid-1", "session-key-value", unionid="unionid-1")

    assert "app-secret-value" not in repr(program)
    assert "wx0123456789abcdef" in repr(program)
    assert "session-key-value" not in repr(session)
    assert "openid-1" in repr(session)


def test_values_compare_by_content() -> None:
    number = PhoneNumber("+85212345678", "12345678", "852")

    assert number == PhoneNumber("+85212345678", "12345678", "852")
    assert MiniProgram("wx1", "a") == MiniProgram("wx1", "a")
    assert MiniProgram("wx1", "a") != MiniProgram("wx1", "b")
