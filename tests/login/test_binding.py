"""The binding step ("ask binding"), as the PC page drives it after the phone confirmed:
link an existing account with its password, or create one; wrong passwords and lockout."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.conftest import PUBLIC
from tests.support.actors import Browser, BrowserLogin, Phone

from minilogin.core.entities import Association, IdentitySource, LoginMode, User, WeChatIdentity
from minilogin.storage.crypto import hash_password
from minilogin.wiring import Services

ISSUER = f"{PUBLIC}/pools/demo"
PHONE = "+8613800138000"


@pytest.fixture
async def pool_id(services: Services) -> str:
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    return pool.id


async def ask_binding_source(services: Services, pool_id: str, mode: LoginMode) -> str:
    unique_id = f"ask-{mode.value.replace('_', '-')}"
    await services.identity_sources.create_identity_source(
        IdentitySource(
            pool_id=pool_id,
            unique_id=unique_id,
            display_name="ask",
            login_mode=mode,
            association=Association.ASK_BINDING,
        )
    )
    await services.identity_sources.enable_identity_source(pool_id, "demo", unique_id)
    return unique_id


async def needs_binding(
    services: Services,
    pool_id: str,
    browser: Browser,
    phone: Phone,
    mode: LoginMode = LoginMode.LOGIN_AND_REGISTER,
) -> BrowserLogin:
    connection = await ask_binding_source(services, pool_id, mode)
    await phone.set_profile(phone=PHONE)
    login = await browser.create(connection=connection)
    appid, scene = await browser.read_code(login)
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session)).json() == {"status": "needs_binding"}
    return login


async def bind(http: httpx.AsyncClient, login: BrowserLogin, **body: str) -> httpx.Response:
    return await http.post(
        f"{ISSUER}/api/qrcodes/{login.id}/binding", json=body, headers=login.auth
    )


async def account(services: Services, pool_id: str, **fields: object) -> User:
    return await services.users.create_user(
        User(pool_id=pool_id, password_hash=hash_password("correct horse"), **fields)  # type: ignore[arg-type]
    )


async def test_the_pc_is_told_what_to_ask(
    services: Services, pool_id: str, browser: Browser, phone: Phone
) -> None:
    login = await needs_binding(services, pool_id, browser, phone, LoginMode.LOGIN_ONLY)
    status = await browser.status(login)
    assert status["status"] == "needs_binding"
    assert status["binding"] == {"login_only": True, "phone": "+86 138****8000"}


@pytest.mark.parametrize("identifier", ["XiaoMing", "13900139000", "+86 139 0013 9000"])
async def test_link_an_existing_account(
    services: Services,
    pool_id: str,
    http: httpx.AsyncClient,
    browser: Browser,
    phone: Phone,
    identifier: str,
) -> None:
    existing = await account(services, pool_id, username="xiaoming", phone="+8613900139000")
    login = await needs_binding(services, pool_id, browser, phone)
    answer = await bind(http, login, action="bind", username=identifier, password="correct horse")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "authorized"
    tokens = (await browser.exchange(login, answer.json()["code"])).json()
    info = await http.get(
        f"{ISSUER}/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.json()["sub"] == existing.id
    await services.audit.flush()  # events are written after answering
    events = [e.action for e in await services.audit_events.list_audit_events(pool_id)]
    assert "binding.linked" in events


async def test_wrong_passwords_then_lockout(
    services: Services, pool_id: str, http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    await account(services, pool_id, username="xiaoming")
    login = await needs_binding(services, pool_id, browser, phone)
    for _ in range(4):
        wrong = await bind(http, login, action="bind", username="xiaoming", password="nope")
        assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_credentials")
        assert (await browser.status(login))["status"] == "needs_binding"
    unknown = await bind(http, login, action="bind", username="nobody", password="x")
    assert (unknown.status_code, unknown.json()["error"]) == (403, "too_many_attempts")
    status = await browser.status(login)
    assert (status["status"], status["error"]) == ("cancelled", "too_many_attempts")
    late = await bind(http, login, action="bind", username="xiaoming", password="correct horse")
    assert (late.status_code, late.json()["error"]) == (409, "qrlogin_cancelled")
    await services.audit.flush()  # events are written after answering
    actions = [e.action for e in await services.audit_events.list_audit_events(pool_id)]
    assert actions.count("binding.failed") == 5
    assert "binding.locked" in actions


async def test_attempts_on_one_account_are_limited_across_qr_logins(
    services: Services, pool_id: str, http: httpx.AsyncClient, browser: Browser
) -> None:
    await account(services, pool_id, username="target")
    answers = []
    for round_ in range(3):
        phone = Phone(http, PUBLIC, f"guesser-{round_}")
        if round_ == 0:
            login = await needs_binding(services, pool_id, browser, phone)
        else:
            await phone.set_profile(phone=PHONE)
            login = await browser.create(connection="ask-login-and-register")
            appid, scene = await browser.read_code(login)
            session = (await phone.scan(appid, scene)).json()["session"]
            await phone.confirm(appid, session)
        for _ in range(4):
            answer = await bind(http, login, action="bind", username="target", password="guess")
            answers.append(answer.json()["error"])
    assert answers[:10] == ["invalid_credentials"] * 10
    assert answers[10:] == ["rate_limited"] * 2


async def test_a_guesser_elsewhere_cannot_lock_the_owner_out(
    app: FastAPI, services: Services, pool_id: str, http: httpx.AsyncClient, browser: Browser
) -> None:
    """Wrong passwords count per account and address: after a guesser's ten, the owner at
    another address still binds."""
    await account(services, pool_id, username="target")
    for round_ in range(3):
        phone = Phone(http, PUBLIC, f"guesser-{round_}")
        if round_ == 0:
            login = await needs_binding(services, pool_id, browser, phone)
        else:
            login = await scanned_and_confirmed(browser, phone, "ask-login-and-register")
        for _ in range(4):
            await bind(http, login, action="bind", username="target", password="guess")
    guessed = await bind(http, login, action="bind", username="target", password="correct horse")
    assert (guessed.status_code, guessed.json()["error"]) == (429, "rate_limited")
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as owner_http:
        owner = Phone(owner_http, PUBLIC, "owner")
        login = await scanned_and_confirmed(
            Browser(owner_http, ISSUER), owner, "ask-login-and-register"
        )
        answer = await bind(
            owner_http, login, action="bind", username="target", password="correct horse"
        )
    assert (answer.status_code, answer.json()["status"]) == (200, "authorized")


async def scanned_and_confirmed(browser: Browser, phone: Phone, connection: str) -> BrowserLogin:
    await phone.set_profile(phone=PHONE)
    login = await browser.create(connection=connection)
    appid, scene = await browser.read_code(login)
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session)).json() == {"status": "needs_binding"}
    return login


async def test_create_a_new_account(
    services: Services, pool_id: str, http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login = await needs_binding(services, pool_id, browser, phone)
    answer = await bind(http, login, action="create")
    assert answer.json()["status"] == "authorized"
    user = await services.users.find_user_by_phone(pool_id, PHONE)
    assert user is not None
    assert user.phone_verified
    assert (user.login_count, user.last_login_at is not None) == (1, True)
    await services.audit.flush()  # events are written after answering
    assert "binding.created" in [
        e.action for e in await services.audit_events.list_audit_events(pool_id)
    ]


async def test_login_only_offers_no_new_account(
    services: Services, pool_id: str, http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login = await needs_binding(services, pool_id, browser, phone, LoginMode.LOGIN_ONLY)
    answer = await bind(http, login, action="create")
    assert (answer.status_code, answer.json()["error"]) == (403, "login_only")
    assert (await browser.status(login))["status"] == "needs_binding"
    assert await services.users.find_user_by_phone(pool_id, PHONE) is None


async def test_create_when_the_number_has_an_account(
    services: Services, pool_id: str, http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    await account(services, pool_id, phone=PHONE, phone_verified=True)
    login = await needs_binding(services, pool_id, browser, phone)
    answer = await bind(http, login, action="create")
    assert (answer.status_code, answer.json()["error"]) == (409, "phone_in_use")


async def test_refused_accounts(
    services: Services, pool_id: str, http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    await account(services, pool_id, username="blocked", blocked=True)
    other = await account(services, pool_id, username="taken")
    await services.users.link_identity(
        WeChatIdentity(
            pool_id=pool_id, user_id=other.id, app_id="wx0000000000sandbox", openid="o-someone-else"
        )
    )
    login = await needs_binding(services, pool_id, browser, phone)
    blocked = await bind(http, login, action="bind", username="blocked", password="correct horse")
    assert (blocked.status_code, blocked.json()["error"]) == (403, "account_blocked")
    taken = await bind(http, login, action="bind", username="taken", password="correct horse")
    assert (taken.status_code, taken.json()["error"]) == (409, "account_already_linked")
    assert (await browser.status(login))["status"] == "needs_binding"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"action": "merge"},
        {"action": "bind", "username": "x"},
        {"action": "bind", "password": "x"},
    ],
)
async def test_malformed_binding_requests(
    services: Services,
    pool_id: str,
    http: httpx.AsyncClient,
    browser: Browser,
    phone: Phone,
    body: dict[str, str],
) -> None:
    login = await needs_binding(services, pool_id, browser, phone)
    answer = await bind(http, login, **body)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


async def test_binding_needs_the_secret_and_the_state(
    http: httpx.AsyncClient, browser: Browser
) -> None:
    login = await browser.create()
    no_secret = await http.post(
        f"{ISSUER}/api/qrcodes/{login.id}/binding", json={"action": "create"}
    )
    assert no_secret.status_code == 401
    early = await bind(http, login, action="create")
    assert (early.status_code, early.json()["error"]) == (409, "qrlogin_pending")
