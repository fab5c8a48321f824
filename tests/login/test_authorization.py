"""What a redeemed code does to the QR login it ended with (``consumption``), against the QR
logins in memory: the login is consumed once, and a login that is gone or already ended does
not fail the exchange."""

from __future__ import annotations

from dataclasses import replace

from tests.oidc.grants.conftest import T0, FrozenClock, QRLogins
from tests.oidc.grants.test_authorization_code import authorized_login, grant

from minilogin.core.qrlogin import Status
from minilogin.login.authorization import consumption


async def test_a_redeemed_code_consumes_its_login() -> None:
    logins = QRLogins({"qr_1": authorized_login()})
    clock = FrozenClock()
    clock.now = T0 + 1
    await consumption(logins, clock)(grant())
    consumed = logins.logins["qr_1"]
    assert (consumed.status, consumed.code, consumed.updated_at) == (Status.CONSUMED, None, T0 + 1)


async def test_a_login_that_ended_or_is_gone_does_not_fail_the_exchange() -> None:
    cancelled = replace(authorized_login(), status=Status.CANCELLED, code=None)
    logins = QRLogins({"qr_1": cancelled})
    await consumption(logins, FrozenClock())(grant())
    assert logins.logins["qr_1"] == cancelled
    await consumption(QRLogins(), FrozenClock())(grant(qrlogin_id="qr_gone"))


async def test_a_code_of_no_login_touches_none() -> None:
    logins = QRLogins({"qr_1": authorized_login()})
    await consumption(logins, FrozenClock())(grant(qrlogin_id=None))
    assert logins.logins["qr_1"].status is Status.AUTHORIZED
