"""Private deployment, used the way an operator uses it: two mini programs side by side in
the sandbox. A pool's identity source names its own mini program (AppID ``wx_private_a`` and
its AppSecret) through the admin API; its codes, ``jscode2session`` and phone numbers go to
that AppID with that secret, while the demo source keeps the platform's default AppID. The
sandbox binds the first secret used with an AppID to it and answers 40125 to any other, so a
wrong secret is refused when it is saved; and the AppSecret is nowhere in the database files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from minilogin.config import SANDBOX_APP_ID, Settings
from minilogin.wiring import Services
from tests.conftest import PUBLIC, sandbox_settings
from tests.support.actors import Browser, Phone

ADMIN_TOKEN = "private-deployment-admin-token"
PRIVATE_APP_ID = "wx_private_a"
PRIVATE_SECRET = "private-a-secret-8f3c2e71d0b94a65"
WRONG_SECRET = "not-the-private-a-secret-5e1d"
ACME = f"{PUBLIC}/pools/acme"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sandbox_settings(PUBLIC, tmp_path, admin_token=ADMIN_TOKEN)


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=f"{PUBLIC}/admin/api",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as client:
        yield client


def answer(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return None if status == 204 else response.json()


async def private_pool(admin: httpx.AsyncClient, app_secret: str) -> str:
    """The pool ``acme`` with a privately deployed source enabled for a new application."""
    answer(await admin.post("/pools", json={"slug": "acme", "name": "Acme"}), 201)
    source = {
        "unique_id": "acme-wechat",
        "display_name": "Acme 小程序扫码",
        "private_deployment": True,
        "app_id": PRIVATE_APP_ID,
        "app_secret": app_secret,
        "page": "pages/login/login",
        "env_version": "release",
    }
    answer(await admin.post("/pools/acme/connections", json=source), 201)
    application = answer(await admin.post("/pools/acme/applications", json={"name": "Acme"}), 201)
    client_id: str = application["client_id"]
    answer(await admin.put(f"/pools/acme/applications/{client_id}/connections/acme-wechat"), 204)
    return client_id


async def wechat_owns(http: httpx.AsyncClient, app_id: str, secret: str) -> bool:
    """Whether WeChat (the sandbox) takes ``secret`` as ``app_id``'s AppSecret."""
    response = await http.get(
        f"{PUBLIC}/_sandbox/wechat/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": app_id, "secret": secret},
    )
    return "access_token" in response.json()


async def test_a_private_mini_program_and_the_platforms_work_side_by_side(
    admin: httpx.AsyncClient, http: httpx.AsyncClient, browser: Browser, services: Services
) -> None:
    # The mini program exists at WeChat with its own secret before minilogin is told about it.
    assert await wechat_owns(http, PRIVATE_APP_ID, PRIVATE_SECRET)
    client_id = await private_pool(admin, PRIVATE_SECRET)
    private = Browser(http, ACME, client_id)

    # A wrong AppSecret is refused as it is saved (WeChat's stable_token does not take it),
    # and the right one stays.
    wrong = await admin.patch(
        "/pools/acme/connections/acme-wechat", json={"app_secret": WRONG_SECRET}
    )
    assert (wrong.status_code, wrong.json()["error"]) == (400, "app_secret_rejected")
    kept = answer(await admin.get("/pools/acme/connections/acme-wechat"))
    assert kept["app_secret_set"] is True
    assert "app_secret" not in kept

    # Both codes on screen at once, each of its own mini program.
    private_login = await private.create()
    demo_login = await browser.create()
    private_appid, private_scene = await private.read_code(private_login)
    demo_appid, demo_scene = await browser.read_code(demo_login)
    assert private_appid == PRIVATE_APP_ID
    assert demo_appid == SANDBOX_APP_ID

    alice = Phone(http, PUBLIC, "alice")
    bob = Phone(http, PUBLIC, "bob")
    await alice.set_profile(phone="+8613800138011")
    await bob.set_profile(phone="+8613800138022")
    # jscode2session goes to the code's own mini program: a wx.login code of the platform's
    # mini program means nothing to the private one.
    wrong_program = await http.post(
        f"{PUBLIC}/api/miniprogram/scan",
        json={"scene": private_scene, "js_code": await alice.wx_login(SANDBOX_APP_ID)},
    )
    assert wrong_program.json()["error"] == "wechat_invalid_code"
    alice_scan = answer(await alice.scan(private_appid, private_scene))
    bob_scan = answer(await bob.scan(demo_appid, demo_scene))
    # The phone numbers too: each phone-number code belongs to its mini program's token.
    assert answer(await alice.confirm(private_appid, alice_scan["session"]))["status"] == (
        "authorized"
    )
    assert answer(await bob.confirm(demo_appid, bob_scan["session"]))["status"] == "authorized"

    for who, login in ((private, private_login), (browser, demo_login)):
        code = (await who.status(login))["code"]
        assert (await who.exchange(login, code)).status_code == 200

    alice_user = await linked_user(admin, "acme", "13800138011")
    bob_user = await linked_user(admin, "demo", "13800138022")
    alice_openid = answer(
        await http.get(f"{PUBLIC}/_sandbox/wx/users/alice", params={"appid": PRIVATE_APP_ID})
    )["openid"]
    assert [(i["app_id"], i["openid"]) for i in alice_user["identities"]] == [
        (PRIVATE_APP_ID, alice_openid)
    ]
    assert [i["app_id"] for i in bob_user["identities"]] == [SANDBOX_APP_ID]

    # WeChat still has the right secret for the private mini program, and only that one.
    assert not await wechat_owns(http, PRIVATE_APP_ID, WRONG_SECRET)
    pool = await services.pools.get_pool("acme")
    assert pool is not None
    stored = await services.identity_sources.get_identity_source(pool.id, "acme-wechat")
    assert stored is not None
    assert stored.app_secret == PRIVATE_SECRET

    contents = database_bytes(services.settings.data_dir)
    assert PRIVATE_APP_ID.encode() in contents
    for secret in (PRIVATE_SECRET, WRONG_SECRET):
        assert secret.encode() not in contents
        assert secret.encode("utf-16-le") not in contents


def database_bytes(data_dir: Path) -> bytes:
    """Every byte of the SQLite database: the main file, its write-ahead log and index."""
    files = sorted(data_dir.glob("minilogin.db*"))
    assert files, "the SQLite files are in the data folder"
    return b"".join(path.read_bytes() for path in files)


async def linked_user(admin: httpx.AsyncClient, pool: str, phone: str) -> dict[str, Any]:
    [found] = answer(await admin.get(f"/pools/{pool}/users", params={"q": phone}))["users"]
    user: dict[str, Any] = answer(await admin.get(f"/pools/{pool}/users/{found['id']}"))
    return user


async def test_a_new_app_id_applies_to_the_next_codes(
    admin: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    client_id = await private_pool(admin, PRIVATE_SECRET)
    private = Browser(http, ACME, client_id)
    assert (await private.read_code(await private.create()))[0] == PRIVATE_APP_ID

    answer(
        await admin.patch(
            "/pools/acme/connections/acme-wechat",
            json={"app_id": "wx_private_b", "app_secret": "private-b-secret"},
        )
    )
    login = await private.create()
    appid, scene = await private.read_code(login)
    assert appid == "wx_private_b"
    carol = Phone(http, PUBLIC, "carol")
    await carol.set_profile(phone="+8613800138033")
    scanned = answer(await carol.scan(appid, scene))
    assert answer(await carol.confirm(appid, scanned["session"]))["status"] == "authorized"
    assert await wechat_owns(http, "wx_private_b", "private-b-secret")

    answer(
        await admin.patch("/pools/acme/connections/acme-wechat", json={"private_deployment": False})
    )
    assert (await private.read_code(await private.create()))[0] == SANDBOX_APP_ID
