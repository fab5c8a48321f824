"""The ``minilogin`` command as an operator runs it: ``minilogin migrate`` and ``minilogin dev``
in real processes, and the whole QR login driven over real HTTP the way the PC page and the
mini program drive it, server-sent events included (an in-process transport would buffer the
stream, so only a real server shows that events arrive while the request is still open);
``minilogin sdk``, which prints the SDK's pinned address and integrity."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

import minilogin
from tests.support.actors import Browser, BrowserLogin, Phone
from tests.support.server import RunningServer, minilogin_dev
from tests.support.sse import ServerSentEvent, server_sent_events
from tests.support.tokens import verified_claims

pytestmark = pytest.mark.slow

CHROME_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0"
TIMEOUT = httpx.Timeout(10.0, read=35.0)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with minilogin_dev(tmp_path_factory.mktemp("dev")) as running:
        yield running


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP over the network, as a browser or a phone sends it."""
    async with httpx.AsyncClient(
        timeout=TIMEOUT, headers={"User-Agent": CHROME_ON_WINDOWS}
    ) as client:
        yield client


@asynccontextmanager
async def status_events(
    web: httpx.AsyncClient, login: BrowserLogin, issuer: str, **headers: str
) -> AsyncIterator[AsyncIterator[ServerSentEvent]]:
    """The login's event stream, opened as the SDK opens it (fetch, the secret in the
    Authorization header)."""
    async with web.stream(
        "GET",
        f"{issuer}/api/qrcodes/{login.id}/events",
        headers={"Accept": "text/event-stream", **login.auth, **headers},
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["cache-control"] == "no-cache"
        yield server_sent_events(response)


async def next_status(events: AsyncIterator[ServerSentEvent]) -> ServerSentEvent:
    event = await anext(events)
    assert event.event == "status"
    assert event.id
    return event


async def assert_ended(events: AsyncIterator[ServerSentEvent]) -> None:
    with pytest.raises(StopAsyncIteration):
        await anext(events)


async def log_in(
    web: httpx.AsyncClient, server: RunningServer, user: str, phone_number: str
) -> dict[str, Any]:
    """One whole login, the short way: its verified ID token claims."""
    browser = Browser(web, server.issuer())
    phone = Phone(web, server.public, user)
    await phone.set_profile(phone=phone_number)
    login = await browser.create(nonce=f"nonce-{user}")
    appid, scene = await browser.read_code(login)
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session)).json() == {"status": "authorized"}
    code = (await browser.status(login))["code"]
    tokens = (await browser.exchange(login, code)).json()
    jwks = (await web.get(f"{server.issuer()}/oidc/jwks")).json()
    return verified_claims(tokens["id_token"], jwks, nonce=f"nonce-{user}")


async def test_the_whole_login_over_http(server: RunningServer, web: httpx.AsyncClient) -> None:
    issuer = server.issuer()
    browser = Browser(web, issuer)
    phone = Phone(web, server.public, "alice")
    await phone.set_profile(phone="+8613800138000", nickname="Alice")

    async with asyncio.timeout(20):
        login = await browser.create(nonce="n-0S6_WzA2Mj", state="af0ifjsldkj")
        appid, scene = await browser.read_code(login)
        assert appid == "wx0000000000sandbox"

        scan = await phone.scan(appid, scene)
        assert scan.status_code == 200, scan.text
        shown = scan.json()
        assert shown["application"]["name"] == "演示应用 Demo app"
        assert shown["request"]["browser"] == "Chrome · Windows"
        assert shown["request"]["ip"] == "127.0.0.1"

        long_poll = asyncio.create_task(browser.status(login, wait=25, last="scanned"))
        async with status_events(web, login, issuer) as events:
            now = await next_status(events)
            assert now.json()["status"] == "scanned"
            assert not long_poll.done(), "the long poll waits while nothing changes"

            confirmed = await phone.confirm(appid, shown["session"], nickname="Alice")
            assert confirmed.json() == {"status": "authorized"}

            pushed = (await next_status(events)).json()
            polled = await long_poll
            assert pushed["status"] == polled["status"] == "authorized"
            assert pushed["code"] == polled["code"]
            assert pushed["state"] == polled["state"] == "af0ifjsldkj"
            assert pushed["scanned"] == {"nickname": "Alice", "avatar_url": None}

            exchanged = await browser.exchange(login, pushed["code"])
            assert exchanged.status_code == 200, exchanged.text
            consumed = await next_status(events)
            assert consumed.json()["status"] == "consumed"
            assert "code" not in consumed.json()
            await assert_ended(events)

        tokens = exchanged.json()
        discovery = (await web.get(f"{issuer}/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == issuer
        jwks = (await web.get(discovery["jwks_uri"])).json()
        claims = verified_claims(
            tokens["id_token"],
            jwks,
            iss=issuer,
            aud="demo",
            nonce="n-0S6_WzA2Mj",
            phone_number="+8613800138000",
        )
        assert claims["amr"] == ["wechat_mp_qrcode"]
        assert claims["phone_number_verified"] is True
        assert claims["name"] == "Alice"

        userinfo = await web.get(
            discovery["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert userinfo.status_code == 200
        assert userinfo.json()["sub"] == claims["sub"]
        assert userinfo.json()["phone_number"] == "+8613800138000"


async def test_events_start_with_the_current_status_and_end_when_terminal(
    server: RunningServer, web: httpx.AsyncClient
) -> None:
    issuer = server.issuer()
    browser = Browser(web, issuer)
    login = await browser.create(state="kept")

    async with asyncio.timeout(10), status_events(web, login, issuer) as events:
        first = await next_status(events)
        assert first.retry == 1000
        assert first.json() == {
            "id": login.id,
            "status": "pending",
            "expires_in": first.json()["expires_in"],
            "state": "kept",
        }

        cancelled = await web.delete(f"{issuer}/api/qrcodes/{login.id}", headers=login.auth)
        assert cancelled.status_code == 204

        last = await next_status(events)
        assert last.json()["status"] == "cancelled"
        assert last.json()["error"] == "cancelled_by_browser"
        assert last.id != first.id
        await assert_ended(events)


async def test_a_stream_opened_after_the_end_sends_the_end_and_closes(
    server: RunningServer, web: httpx.AsyncClient
) -> None:
    issuer = server.issuer()
    login = await Browser(web, issuer).create()
    await web.delete(f"{issuer}/api/qrcodes/{login.id}", headers=login.auth)

    async with asyncio.timeout(10), status_events(web, login, issuer) as events:
        assert (await next_status(events)).json()["status"] == "cancelled"
        await assert_ended(events)


async def test_reconnecting_with_last_event_id_loses_nothing(
    server: RunningServer, web: httpx.AsyncClient
) -> None:
    issuer = server.issuer()
    browser = Browser(web, issuer)
    phone = Phone(web, server.public, "reconnecting")
    login = await browser.create()
    appid, scene = await browser.read_code(login)

    async with asyncio.timeout(10):
        async with status_events(web, login, issuer) as events:
            seen = await next_status(events)
            assert seen.json()["status"] == "pending"
        # The connection dropped; the phone scans before the browser is back.
        assert (await phone.scan(appid, scene)).status_code == 200

        async with status_events(web, login, issuer, **{"Last-Event-ID": seen.id or ""}) as events:
            resumed = await next_status(events)
            assert resumed.json()["status"] == "scanned"
            assert resumed.id != seen.id


async def test_events_need_the_secret(server: RunningServer, web: httpx.AsyncClient) -> None:
    issuer = server.issuer()
    login = await Browser(web, issuer).create()
    url = f"{issuer}/api/qrcodes/{login.id}/events"

    for auth in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": login.secret}):
        response = await web.get(url, headers=auth)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.json()["message"]
    # In a URL the secret would land in access logs: refused even when it is the right one,
    # and before anything about the login is looked at.
    for params in ({"secret": login.secret}, {"secret": "wrong"}):
        response = await web.get(url, params=params, headers=login.auth)
        assert response.status_code == 400
        assert response.json() == {
            "error": "secret_in_query",
            "message": "请在 Authorization 请求头中发送 secret，不要放在网址里。",
        }
    async with asyncio.timeout(10), web.stream("GET", url, headers=login.auth) as in_header:
        assert in_header.status_code == 200
        first = await next_status(server_sent_events(in_header))
        assert first.json()["status"] == "pending"


async def test_dev_prints_the_demo_url_and_serves_it(
    server: RunningServer, web: httpx.AsyncClient
) -> None:
    printed = server.log.read_text()
    demo = f"{server.public}/demo/"
    assert re.search(rf"demo:\s+{re.escape(demo)}\n", printed), printed
    assert f"{server.issuer()}" in printed
    assert f"{server.public}/_sandbox/phone" in printed

    page = await web.get(demo)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/static/minilogin.js" in page.text
    assert (await web.get(f"{server.public}/static/minilogin.js")).status_code == 200


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minilogin", *args],
        env={"PATH": "/usr/bin:/bin", "MINILOGIN_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_migrate_creates_the_schema_in_a_fresh_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"

    first = run_cli("migrate", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert f"migrated sqlite+aiosqlite:///{data_dir / 'minilogin.db'}" in first.stdout
    created = tables(data_dir / "minilogin.db")
    assert {
        "alembic_version",
        "pools",
        "applications",
        "identity_sources",
        "application_identity_sources",
        "users",
        "wechat_identities",
        "signing_keys",
    } <= created

    again = run_cli("migrate", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    assert tables(data_dir / "minilogin.db") == created


def count_demo_rows(database: Path) -> tuple[int, int, int]:
    with sqlite3.connect(database) as connection:
        counts = [
            connection.execute(query).fetchone()[0]
            for query in (
                "SELECT count(*) FROM pools WHERE slug = 'demo'",
                "SELECT count(*) FROM applications WHERE client_id = 'demo'",
                "SELECT count(*) FROM identity_sources WHERE unique_id = 'wechat-mp-qrcode'",
            )
        ]
    return counts[0], counts[1], counts[2]


def printed_admin_password(server: RunningServer) -> str:
    printed = server.log.read_text()
    found = re.search(
        rf"console:\s+{re.escape(server.public)}/console/\s+\(user admin, password (\S+)\)", printed
    )
    assert found, printed
    return found.group(1)


async def test_dev_started_twice_on_one_data_folder_seeds_once(tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as web:
        with minilogin_dev(tmp_path) as first:
            password = printed_admin_password(first)
            before = await log_in(web, first, "returning", "+8613700137000")
            jwks = (await web.get(f"{first.issuer()}/oidc/jwks")).json()
        with minilogin_dev(tmp_path) as second:
            assert printed_admin_password(second) == password
            after = await log_in(web, second, "returning", "+8613700137000")
            assert (await web.get(f"{second.issuer()}/oidc/jwks")).json() == jwks

    assert after["sub"] == before["sub"], "the same person is the same user after a restart"
    assert count_demo_rows(tmp_path / "minilogin.db") == (1, 1, 1)


def test_sdk_prints_the_pinned_script_tag_with_its_integrity() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "minilogin", "sdk"],
        env={**os.environ, "MINILOGIN_PUBLIC_URL": "https://login.example.com/"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    body = (Path(minilogin.__file__).parent / "static" / "minilogin.js").read_bytes()
    integrity = "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
    url = f"https://login.example.com/static/v{minilogin.__version__}/minilogin.js"
    assert (
        f'<script type="module" src="{url}" integrity="{integrity}" crossorigin="anonymous">'
        "</script>"
    ) in printed.splitlines()


async def forwarded_scan(web: httpx.AsyncClient, server: RunningServer) -> dict[str, Any]:
    """A PC behind a proxy that says it forwards 202.96.128.86; what the phone is shown."""
    forwarded = httpx.AsyncClient(
        timeout=TIMEOUT,
        headers={"User-Agent": CHROME_ON_WINDOWS, "X-Forwarded-For": "202.96.128.86"},
    )
    async with forwarded:
        browser = Browser(forwarded, server.issuer())
        login = await browser.create()
        appid, scene = await browser.read_code(login)
    request: dict[str, Any] = (await Phone(web, server.public, "proxy").scan(appid, scene)).json()[
        "request"
    ]
    return request


async def test_x_forwarded_for_is_ignored_unless_its_sender_is_trusted(
    server: RunningServer, web: httpx.AsyncClient
) -> None:
    request = await forwarded_scan(web, server)
    assert (request["ip"], request["location"]) == ("127.0.0.1", "本机 / this computer")


async def test_a_trusted_proxy_names_the_client(tmp_path: Path, web: httpx.AsyncClient) -> None:
    with minilogin_dev(tmp_path, MINILOGIN_TRUSTED_PROXIES="127.0.0.1") as behind_proxy:
        request = await forwarded_scan(web, behind_proxy)
    assert (request["ip"], request["location"]) == ("202.96.128.86", "广东省 广州市")
    # The phone itself came straight from 127.0.0.1: its place is unknown, so no warning.
    assert request["region_differs"] is False
