"""A waiting browser never misses a change of its login, even one made while Redis restarts,
and what a Redis restart keeps or forgets (issue 14 §1, §4): a real ``minilogin dev`` process
on a real Redis, restarted for real, with and without append-only persistence."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from tests.support.actors import Browser, BrowserLogin, Phone
from tests.support.redis_server import RestartableRedis, restartable_redis
from tests.support.server import RunningServer, minilogin_dev
from tests.support.sse import ServerSentEvent, server_sent_events

from minilogin.core.qrlogin import QRLogin, Status
from minilogin.login import qrlogin as flow
from minilogin.web.login_ports import qrlogin_ports
from minilogin.wiring import Services

pytestmark = pytest.mark.slow

#: Well under the streams' 15 s keep-alive: a change must arrive because the subscription
#: came back and the login was read again, not because a keep-alive happened to come by.
SOON = 5.0


@dataclass
class Deployment:
    server: RunningServer
    redis: RestartableRedis


def _deployment(
    tmp_path_factory: pytest.TempPathFactory, *, appendonly: bool
) -> Iterator[Deployment]:
    with (
        restartable_redis(appendonly=appendonly) as redis,
        minilogin_dev(
            tmp_path_factory.mktemp("aof" if appendonly else "no-aof"),
            MINILOGIN_REDIS_URL=redis.url(),
        ) as server,
    ):
        yield Deployment(server, redis)


@pytest.fixture(scope="module")
def with_aof(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from _deployment(tmp_path_factory, appendonly=True)


@pytest.fixture(scope="module")
def without_aof(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from _deployment(tmp_path_factory, appendonly=False)


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=40.0)) as client:
        yield client


async def scanned_login(
    web: httpx.AsyncClient, server: RunningServer
) -> tuple[BrowserLogin, Phone, str, str]:
    browser = Browser(web, server.issuer())
    phone = Phone(web, server.public, f"user-{uuid.uuid4().hex[:8]}")
    login = await browser.create()
    appid, scene = await browser.read_code(login)
    scanned = await phone.scan(appid, scene)
    assert scanned.status_code == 200, scanned.text
    return login, phone, appid, str(scanned.json()["session"])


async def confirm_as_soon_as_redis_answers(phone: Phone, appid: str, session: str) -> None:
    """The phone taps "allow" again and again while Redis comes back: refused with 503 (never
    500) until Redis answers, then authorized."""
    async with asyncio.timeout(30):
        while True:
            try:
                response = await phone.confirm(appid, session)
            except AssertionError:
                # The sandbox phone's own call (wx.getPhoneNumber) met the outage too.
                await asyncio.sleep(0.02)
                continue
            if response.status_code != 503:
                break
            assert response.headers["retry-after"]
            await asyncio.sleep(0.02)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "authorized"


@asynccontextmanager
async def events_of(
    web: httpx.AsyncClient, server: RunningServer, login: BrowserLogin
) -> AsyncIterator[AsyncIterator[ServerSentEvent]]:
    url = f"{server.issuer()}/api/qrcodes/{login.id}/events"
    async with web.stream("GET", url, headers=login.auth) as response:
        assert response.status_code == 200
        yield server_sent_events(response)


async def test_a_browser_on_sse_sees_a_confirmation_made_while_redis_restarted(
    web: httpx.AsyncClient, with_aof: Deployment
) -> None:
    login, phone, appid, session = await scanned_login(web, with_aof.server)
    async with events_of(web, with_aof.server, login) as events:
        assert (await anext(events)).json()["status"] == "scanned"
        with_aof.redis.restart()
        await confirm_as_soon_as_redis_answers(phone, appid, session)
        async with asyncio.timeout(SOON):
            authorized = (await anext(events)).json()
    assert authorized["status"] == "authorized"
    tokens = await Browser(web, with_aof.server.issuer()).exchange(login, authorized["code"])
    assert tokens.status_code == 200, tokens.text


async def test_a_long_poll_sees_a_confirmation_made_while_redis_restarted(
    web: httpx.AsyncClient, with_aof: Deployment
) -> None:
    login, phone, appid, session = await scanned_login(web, with_aof.server)
    browser = Browser(web, with_aof.server.issuer())
    waiting = asyncio.create_task(browser.status(login, wait=30, last="scanned"))
    await asyncio.sleep(0.2)
    with_aof.redis.restart()
    await confirm_as_soon_as_redis_answers(phone, appid, session)
    async with asyncio.timeout(SOON):
        status = await waiting
    assert status["status"] == "authorized"


async def test_with_append_only_persistence_a_login_in_progress_survives_a_restart(
    web: httpx.AsyncClient, with_aof: Deployment
) -> None:
    login, phone, appid, session = await scanned_login(web, with_aof.server)
    with_aof.redis.restart()
    browser = Browser(web, with_aof.server.issuer())
    assert (await browser.status(login))["status"] == "scanned"
    await confirm_as_soon_as_redis_answers(phone, appid, session)
    assert (await browser.status(login))["status"] == "authorized"


async def test_without_append_only_persistence_a_restart_forgets_logins_in_progress(
    web: httpx.AsyncClient, without_aof: Deployment
) -> None:
    """What the README says is lost: the login (the browser is told 401 and shows a new
    code) and the phone's session (it must scan again); the service itself goes on."""
    server = without_aof.server
    login, phone, appid, session = await scanned_login(web, server)
    without_aof.redis.restart()
    browser = Browser(web, server.issuer())
    gone = await web.get(f"{server.issuer()}/api/qrcodes/{login.id}", headers=login.auth)
    assert (gone.status_code, gone.json()["error"]) == (401, "unauthorized")
    confirm = await phone.confirm(appid, session)
    assert 400 <= confirm.status_code < 500, confirm.text
    # A new code works at once.
    fresh = await browser.create()
    assert (await browser.status(fresh))["status"] == "pending"


async def change_unannounced(services: Services, login_id: str, status: str) -> None:
    """Change the stored login without publishing it: a change whose message was lost."""
    key = f"qrlogin:{login_id}"
    record = json.loads(await services.ephemeral.get(key) or "{}")
    record["status"] = status
    record["error"] = "cancelled_by_user"
    await services.ephemeral.set(key, json.dumps(record), 60)


async def test_a_stream_sees_a_change_it_was_never_told_of_at_its_next_keepalive(
    services: Services, browser: Browser
) -> None:
    login = await browser.create()
    stored = await services.qrlogins.get(login.id)
    assert stored is not None
    events = flow.stream(qrlogin_ports(services), stored, keepalive=0.05)
    first = await anext(events)
    assert first is not None
    assert first.status is Status.PENDING
    await change_unannounced(services, login.id, "cancelled")
    async with asyncio.timeout(SOON):
        seen = await anext(events)
    assert seen is not None
    assert seen.status is Status.CANCELLED
    await events.aclose()


async def test_a_long_poll_sees_a_change_it_was_never_told_of_at_its_next_keepalive(
    services: Services, browser: Browser
) -> None:
    login = await browser.create()
    stored = await services.qrlogins.get(login.id)
    assert stored is not None

    async def read() -> QRLogin:
        return stored

    waiting = asyncio.create_task(
        flow.wait_for_change(qrlogin_ports(services), login.id, read, "pending", 30, keepalive=0.05)
    )
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await change_unannounced(services, login.id, "cancelled")
    async with asyncio.timeout(SOON):
        seen = await waiting
    assert seen.status is Status.CANCELLED
