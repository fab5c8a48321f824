"""How a confirmed scan finds its account, for every login mode × account identity
association × state of the existing accounts: who is logged in, what is created, and what the
phone and the PC are told. Driven through the HTTP contract as the phone and PC drive it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.conftest import PUBLIC
from tests.support.actors import Browser, Phone

from minilogin.core.entities import Association, IdentitySource, LoginMode, User, WeChatIdentity
from minilogin.wiring import Services

PHONE = "+8613800138000"
APP_ID = "wx0000000000sandbox"

STATES = (
    "none",  # no account has the number
    "phone_verified",  # an account holds the number, verified
    "phone_unverified",  # an account holds the number, never verified
    "linked",  # this WeChat identity is already linked (to an account with another number)
    "unionid",  # the person's unionid is linked through another mini program
    "blocked_linked",  # this WeChat identity is linked to a blocked account
    "blocked_phone",  # a blocked account holds the number, verified
)


@dataclass(frozen=True)
class Expect:
    """``who``: "existing" (the prepared account), "new" (a new account) or None."""

    who: str | None
    phone_status: int
    phone_saw: str  # the confirm answer's status, or its error code
    pc_saw: str  # the QR login's status, or its error when it ended


LOGIN = Expect("existing", 200, "authorized", "authorized")
NEW = Expect("new", 200, "authorized", "authorized")
BINDING = Expect(None, 200, "needs_binding", "needs_binding")
NOT_FOUND = Expect(None, 403, "account_not_found", "account_not_found")
IN_USE = Expect(None, 403, "phone_in_use", "phone_in_use")
BLOCKED = Expect(None, 403, "account_blocked", "account_blocked")

REGISTER, ONLY = LoginMode.LOGIN_AND_REGISTER, LoginMode.LOGIN_ONLY
OFF, MATCH, ASK = Association.OFF, Association.FIELD_MATCH, Association.ASK_BINDING

# Written out case by case from the rules rather than derived, so the table can
# disagree with the code.
TABLE: dict[tuple[str, Association, LoginMode], Expect] = {
    ("none", OFF, REGISTER): NEW,
    ("none", OFF, ONLY): NOT_FOUND,
    ("none", MATCH, REGISTER): NEW,
    ("none", MATCH, ONLY): NOT_FOUND,
    ("none", ASK, REGISTER): BINDING,
    ("none", ASK, ONLY): BINDING,
    ("phone_verified", OFF, REGISTER): IN_USE,
    ("phone_verified", OFF, ONLY): NOT_FOUND,
    ("phone_verified", MATCH, REGISTER): LOGIN,
    ("phone_verified", MATCH, ONLY): LOGIN,
    ("phone_verified", ASK, REGISTER): BINDING,
    ("phone_verified", ASK, ONLY): BINDING,
    ("phone_unverified", OFF, REGISTER): IN_USE,
    ("phone_unverified", OFF, ONLY): NOT_FOUND,
    ("phone_unverified", MATCH, REGISTER): NEW,  # the verified owner takes the number over
    ("phone_unverified", MATCH, ONLY): NOT_FOUND,
    ("phone_unverified", ASK, REGISTER): BINDING,
    ("phone_unverified", ASK, ONLY): BINDING,
    ("linked", OFF, REGISTER): LOGIN,
    ("linked", OFF, ONLY): LOGIN,
    ("linked", MATCH, REGISTER): LOGIN,
    ("linked", MATCH, ONLY): LOGIN,
    ("linked", ASK, REGISTER): LOGIN,
    ("linked", ASK, ONLY): LOGIN,
    ("unionid", OFF, REGISTER): LOGIN,
    ("unionid", OFF, ONLY): LOGIN,
    ("unionid", MATCH, REGISTER): LOGIN,
    ("unionid", MATCH, ONLY): LOGIN,
    ("unionid", ASK, REGISTER): LOGIN,
    ("unionid", ASK, ONLY): LOGIN,
    ("blocked_linked", OFF, REGISTER): BLOCKED,
    ("blocked_linked", OFF, ONLY): BLOCKED,
    ("blocked_linked", MATCH, REGISTER): BLOCKED,
    ("blocked_linked", MATCH, ONLY): BLOCKED,
    ("blocked_linked", ASK, REGISTER): BLOCKED,
    ("blocked_linked", ASK, ONLY): BLOCKED,
    ("blocked_phone", OFF, REGISTER): IN_USE,
    ("blocked_phone", OFF, ONLY): NOT_FOUND,
    ("blocked_phone", MATCH, REGISTER): BLOCKED,
    ("blocked_phone", MATCH, ONLY): BLOCKED,
    ("blocked_phone", ASK, REGISTER): BINDING,
    ("blocked_phone", ASK, ONLY): BINDING,
}


def test_the_table_covers_every_combination() -> None:
    assert set(TABLE) == {(s, a, m) for s in STATES for a in Association for m in LoginMode}


async def add_source(services: Services, association: Association, mode: LoginMode) -> str:
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    unique_id = f"src-{association.value.replace('_', '-')}-{mode.value.replace('_', '-')}"
    await services.identity_sources.create_identity_source(
        IdentitySource(
            pool_id=pool.id,
            unique_id=unique_id,
            display_name=unique_id,
            login_mode=mode,
            association=association,
        )
    )
    await services.identity_sources.enable_identity_source(pool.id, "demo", unique_id)
    return unique_id


async def prepare(
    services: Services, http: httpx.AsyncClient, state: str, person: str
) -> str | None:
    """Make the accounts of ``state`` exist; the id of the prepared account, if any."""
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    openid = (
        await http.get(f"{PUBLIC}/_sandbox/wx/users/{person}", params={"appid": APP_ID})
    ).json()["openid"]
    if state == "none":
        return None
    if state in ("phone_verified", "phone_unverified", "blocked_phone"):
        user = await services.users.create_user(
            User(
                pool_id=pool.id,
                phone=PHONE,
                phone_verified=state != "phone_unverified",
                blocked=state == "blocked_phone",
            )
        )
        return user.id
    if state in ("linked", "blocked_linked"):
        identity = WeChatIdentity(pool_id=pool.id, user_id="", app_id=APP_ID, openid=openid)
        user = await services.users.create_user(
            User(
                pool_id=pool.id,
                phone="+8613700137000",
                phone_verified=True,
                blocked=state == "blocked_linked",
            ),
            identity,
        )
        return user.id
    assert state == "unionid"
    await http.put(f"{PUBLIC}/_sandbox/wx/users/{person}", json={"unionid": f"union-{person}"})
    other = WeChatIdentity(
        pool_id=pool.id,
        user_id="",
        app_id="wx_other_program",
        openid="o-other",
        unionid=f"union-{person}",
    )
    user = await services.users.create_user(
        User(pool_id=pool.id, phone="+8613600136000", phone_verified=True), other
    )
    return user.id


async def logins_of(services: Services, pool_id: str, user_id: str | None) -> int:
    """How many logins the account has had (0 for no account)."""
    user = await services.users.get_user(pool_id, user_id) if user_id else None
    return user.login_count if user else 0


@pytest.mark.parametrize(("state", "association", "mode"), sorted(TABLE, key=str))
async def test_who_gets_logged_in(
    services: Services,
    http: httpx.AsyncClient,
    browser: Browser,
    state: str,
    association: Association,
    mode: LoginMode,
) -> None:
    expect = TABLE[(state, association, mode)]
    connection = await add_source(services, association, mode)
    person = f"p-{state}-{association.value}-{mode.value}"
    phone = Phone(http, PUBLIC, person)
    await phone.set_profile(phone=PHONE)
    existing = await prepare(services, http, state, person)
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    holder_before = await services.users.find_user_by_phone(pool.id, PHONE)
    logins_before = await logins_of(services, pool.id, existing)

    login = await browser.create(connection=connection)
    appid, scene = await browser.read_code(login)
    scanned = await phone.scan(appid, scene)
    assert scanned.status_code == 200
    assert scanned.json()["login_only"] is (mode is ONLY)
    answer = await phone.confirm(appid, scanned.json()["session"])
    body: dict[str, Any] = answer.json()

    assert answer.status_code == expect.phone_status
    assert body.get("status", body.get("error")) == expect.phone_saw
    if expect.phone_status == 403:
        assert body["message"]
    status = await browser.status(login)
    if expect.pc_saw in ("authorized", "needs_binding"):
        assert status["status"] == expect.pc_saw
    else:
        assert (status["status"], status["error"]) == ("cancelled", expect.pc_saw)
        assert status["message"]

    openid = (
        await http.get(f"{PUBLIC}/_sandbox/wx/users/{person}", params={"appid": APP_ID})
    ).json()["openid"]
    identity = await services.users.find_identity(pool.id, APP_ID, openid)
    if expect.who is None:
        holder_after = await services.users.find_user_by_phone(pool.id, PHONE)
        assert (holder_after.id if holder_after else None) == (
            holder_before.id if holder_before else None
        )
        if state not in ("linked", "blocked_linked"):
            assert identity is None, "nothing is linked"
        assert await logins_of(services, pool.id, existing) == logins_before, "none counted"
        return
    tokens = (await browser.exchange(login, status["code"])).json()
    info = (
        await http.get(
            f"{PUBLIC}/pools/demo/oidc/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    ).json()
    assert identity is not None
    assert identity.user_id == info["sub"]
    if expect.who == "existing":
        assert info["sub"] == existing
        assert await logins_of(services, pool.id, existing) == logins_before + 1
    else:
        assert info["sub"] != existing
        assert info["phone_number"] == PHONE
        assert info["phone_number_verified"] is True
        created = await services.users.get_user(pool.id, info["sub"])
        assert created is not None
        assert (created.login_count, created.last_login_at is not None) == (1, True)
        if state == "phone_unverified":
            assert existing is not None
            stripped = await services.users.get_user(pool.id, existing)
            assert stripped is not None
            assert stripped.phone is None, "the unverified holder lost the number"


async def test_every_outcome_is_in_the_audit_log(
    services: Services, http: httpx.AsyncClient, browser: Browser
) -> None:
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    connection = await add_source(services, OFF, ONLY)
    phone = Phone(http, PUBLIC, "audited")
    login = await browser.create(connection=connection)
    appid, scene = await browser.read_code(login)
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session)).status_code == 403
    await services.audit.flush()  # events are written after answering
    refused = [
        e
        for e in await services.audit_events.list_audit_events(pool.id)
        if e.action == "login.refused"
    ]
    assert refused
    assert refused[0].detail["reason"] == "account_not_found"
