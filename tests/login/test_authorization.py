"""The last step of a QR login and what a redeemed code does to it, without HTTP: the ports
are the real records over a memory store (or the grants' in-memory QR logins), a list for the
audit log and a fixed clock."""

from __future__ import annotations

from dataclasses import replace

from tests.core.test_qrlogin import ALICE, T0, new_login
from tests.oidc.grants.conftest import T0 as T0_GRANTS
from tests.oidc.grants.conftest import FrozenClock
from tests.oidc.grants.conftest import QRLogins as LoginsInMemory
from tests.oidc.grants.test_authorization_code import authorized_login, grant

from minilogin.core import qrlogin as machine
from minilogin.core.claims import AMR_WECHAT_MP_QRCODE
from minilogin.core.entities import AuditEvent, User
from minilogin.core.grants import AuthorizationCode
from minilogin.core.qrlogin import QRLogin, Status
from minilogin.login.authorization import AuthorizationPorts, authorize, consumption
from minilogin.oidc import authorize as provider
from minilogin.oidc.authorize import AuthorizationRequest
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.records import (
    AuthorizationCodes,
    AuthorizationRequests,
    QRLogins,
)

NOW = T0 + 10


class Events:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def add(self, event: AuditEvent) -> None:
        self.events.append(event)


async def scanned_login(qrlogins: QRLogins) -> QRLogin:
    login = new_login()
    assert await qrlogins.create(login)
    return await qrlogins.update(login.id, lambda cur: machine.scan(cur, NOW, ALICE))


async def test_the_login_gets_a_code_for_its_user_and_the_audit_log_says_so() -> None:
    store, audit = MemoryStore(), Events()
    qrlogins, codes = QRLogins(store, lambda: NOW), AuthorizationCodes(store)
    login = await scanned_login(qrlogins)
    requests = AuthorizationRequests(store, lambda: NOW)
    ports = AuthorizationPorts(codes, qrlogins, requests, audit, lambda: NOW)
    user = User(
        pool_id=login.pool_id,
        id="usr_alice",
        phone="+8613800138000",
        phone_verified=True,
        nickname="Alice",
        email="alice@example.com",
    )

    authorized = await authorize(ports, login, user, ip="192.0.2.7", created=True)

    assert authorized.status is Status.AUTHORIZED
    assert authorized.code is not None
    stored = await qrlogins.get(login.id)
    assert stored is not None
    assert stored.code == authorized.code
    grant = await codes.take(authorized.code)
    assert grant == AuthorizationCode(
        pool=login.pool,
        client_id=login.client_id,
        user_id="usr_alice",
        code_challenge=login.code_challenge,
        scope=login.scope,
        auth_time=int(NOW),
        amr=[AMR_WECHAT_MP_QRCODE],
        nonce=login.nonce,
        qrlogin_id=login.id,
        # What the login's scope releases ("openid profile phone"), for the exchange.
        claims={
            "sub": "usr_alice",
            "name": "Alice",
            "phone_number": "+8613800138000",
            "phone_number_verified": True,
        },
    )
    [event] = audit.events
    assert (event.action, event.subject, event.ip) == ("login.authorized", "usr_alice", "192.0.2.7")
    assert event.detail["created"] is True
    assert event.detail["qrlogin"] == login.id


async def test_a_login_of_the_hosted_page_issues_the_relying_partys_grant() -> None:
    store = MemoryStore()
    qrlogins, codes = QRLogins(store, lambda: NOW), AuthorizationCodes(store)
    login = await scanned_login(qrlogins)
    requests = AuthorizationRequests(store, lambda: NOW)
    relying_party = AuthorizationRequest(
        id="req_1",
        pool=login.pool,
        client_id=login.client_id,
        redirect_uri="https://rp.example/callback",
        scope="openid phone",
        response_mode="query",
        locale="en",
        nonce="rp-nonce",
        code_challenge="rp-challenge",
    )
    await provider.bind(requests, login, relying_party)
    ports = AuthorizationPorts(codes, qrlogins, requests, Events(), lambda: NOW)
    profile = replace(ALICE, nickname="Alice Liddell")

    user = User(pool_id="pool-1", id="u1", phone="+8613800138000", nickname="Alice")

    authorized = await authorize(ports, login, user, profile, ip=None)

    assert authorized.scanner == profile  # the nickname the phone sent with its confirmation
    assert authorized.code is not None
    grant = await codes.take(authorized.code)
    assert grant is not None
    assert (grant.redirect_uri, grant.nonce) == ("https://rp.example/callback", "rp-nonce")
    assert (grant.scope, grant.code_challenge) == ("openid phone", "rp-challenge")
    assert grant.qrlogin_id == login.id
    # What the relying party's scope releases: no name, which the login's own scope would.
    assert grant.claims == {
        "sub": "u1",
        "phone_number": "+8613800138000",
        "phone_number_verified": False,
    }


async def test_a_redeemed_code_consumes_its_login() -> None:
    logins = LoginsInMemory({"qr_1": authorized_login()})
    clock = FrozenClock()
    clock.now = T0_GRANTS + 1
    await consumption(logins, clock)(grant())
    consumed = logins.logins["qr_1"]
    assert (consumed.status, consumed.code, consumed.updated_at) == (
        Status.CONSUMED,
        None,
        T0_GRANTS + 1,
    )


async def test_a_login_that_ended_or_is_gone_does_not_fail_the_exchange() -> None:
    cancelled = replace(authorized_login(), status=Status.CANCELLED, code=None)
    logins = LoginsInMemory({"qr_1": cancelled})
    await consumption(logins, FrozenClock())(grant())
    assert logins.logins["qr_1"] == cancelled
    await consumption(LoginsInMemory(), FrozenClock())(grant(qrlogin_id="qr_gone"))


async def test_a_code_of_no_login_touches_none() -> None:
    logins = LoginsInMemory({"qr_1": authorized_login()})
    await consumption(logins, FrozenClock())(grant(qrlogin_id=None))
    assert logins.logins["qr_1"].status is Status.AUTHORIZED
