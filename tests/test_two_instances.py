"""Several instances as one service (issue 6): server processes on one PostgreSQL and one
Redis, as an operator runs them behind a load balancer, and one WeChat (the sandbox, in a
process of its own, as WeChat is outside every instance).

A login moves freely between instances: created on one, scanned on another, confirmed on the
first while the browser waits on the second; its code is exchanged once, on either; an
instance killed mid-login leaves the login to finish on the others; the workers of
``minilogin serve --workers 2`` share everything too; and all of them together keep one
WeChat access token.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from minilogin.config import SANDBOX_APP_ID, SANDBOX_APP_SECRET
from tests.support.actors import Browser, BrowserLogin, Phone
from tests.support.postgres_server import PostgresServer, postgres_server
from tests.support.redis_server import RedisServer, redis_server
from tests.support.server import Instance, free_port, launch, wait_until_serving
from tests.support.sse import server_sent_events

pytestmark = pytest.mark.slow


@dataclass
class Deployment:
    """What every instance shares, and the instances started for the whole module."""

    env: dict[str, str]
    wechat: Instance
    first: Instance
    second: Instance
    workers: Instance
    folder: Path

    def start(self, name: str, arguments: list[str]) -> Instance:
        instance = launch(self.folder / name, arguments, self.env, free_port())
        wait_until_serving(instance, "/pools/demo/.well-known/openid-configuration")
        return instance


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("deployment")
    with postgres_server() as postgres, redis_server() as redis:
        yield from _deployment(folder, postgres, redis)


def _deployment(folder: Path, postgres: PostgresServer, redis: RedisServer) -> Iterator[Deployment]:
    postgres.psql('CREATE DATABASE "minilogin"')
    wechat = launch(folder / "wechat", ["sandbox"], {}, free_port())
    first_port = free_port()
    env = {
        "MINILOGIN_DATABASE_URL": postgres.url("minilogin"),
        "MINILOGIN_REDIS_URL": redis.url(),
        "MINILOGIN_REDIS_PREFIX": f"two-instances-{uuid.uuid4().hex[:8]}:",
        "MINILOGIN_SECRET_KEY": "the-key-every-instance-shares",
        "MINILOGIN_WECHAT_API_URL": f"{wechat.url}/_sandbox/wechat",
        # `serve` needs the platform's mini program named; the sandbox's fixture one, as `dev`
        # uses by itself.
        "MINILOGIN_WECHAT_APP_ID": SANDBOX_APP_ID,
        "MINILOGIN_WECHAT_APP_SECRET": SANDBOX_APP_SECRET,
        # The address browsers use (a load balancer's): here, the first instance's.
        "MINILOGIN_PUBLIC_URL": f"http://127.0.0.1:{first_port}",
    }
    # Two `minilogin dev` start at the same moment on an empty database: both migrate and
    # seed, and neither trips over the other.
    first = launch(folder / "first", ["dev"], env, first_port)
    second = launch(folder / "second", ["dev"], env, free_port())
    workers = launch(folder / "workers", ["serve", "--workers", "2"], env, free_port())
    instances = [wechat, first, second, workers]
    try:
        wait_until_serving(wechat, "/_sandbox/wechat/stats")
        for instance in (first, second, workers):
            wait_until_serving(instance, "/pools/demo/.well-known/openid-configuration")
        yield Deployment(env, wechat, first, second, workers, folder)
    finally:
        for instance in instances:
            instance.stop()


class SandboxPhone(Phone):
    """The phone: ``wx.login`` and the phone-number button come from WeChat (the sandbox's
    process); the mini program calls whichever instance ``public`` names."""

    def on(self, instance: Instance) -> SandboxPhone:
        self.public = instance.url
        return self


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient(timeout=40) as client:
        yield client


@pytest.fixture
def phone(http: httpx.AsyncClient, deployment: Deployment) -> SandboxPhone:
    wechat = deployment.wechat.url
    return SandboxPhone(http, wechat, f"user-{uuid.uuid4().hex[:8]}", wechat)


async def scan(phone: SandboxPhone, browser: Browser, login: BrowserLogin) -> str:
    appid, scene = await browser.read_code(login)
    response = await phone.scan(appid, scene)
    assert response.status_code == 200, response.text
    return str(response.json()["session"])


async def confirm(phone: SandboxPhone, session: str) -> None:
    response = await phone.confirm(SANDBOX_APP_ID, session)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "authorized"


async def test_a_login_moves_between_instances(
    http: httpx.AsyncClient, deployment: Deployment, phone: SandboxPhone
) -> None:
    first, second = deployment.first, deployment.second
    on_first, on_second = Browser(http, first.issuer), Browser(http, second.issuer)
    login = await on_first.create()
    session = await scan(phone.on(second), on_first, login)

    events_url = f"{second.issuer}/api/qrcodes/{login.id}/events"
    async with http.stream("GET", events_url, headers=login.auth) as response:
        events = server_sent_events(response)
        assert (await anext(events)).json()["status"] == "scanned"
        await confirm(phone.on(first), session)
        async with asyncio.timeout(5):
            authorized = (await anext(events)).json()
    assert authorized["status"] == "authorized"

    tokens = await on_second.exchange(login, authorized["code"])
    assert tokens.status_code == 200, tokens.text
    # Every instance verifies what any instance signed: the keys are shared.
    bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    userinfo = await http.get(f"{first.issuer}/oidc/userinfo", headers=bearer)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["phone_number_verified"] is True
    # A replay on the other instance fails, and revokes what the first exchange issued.
    replay = await on_first.exchange(login, authorized["code"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    revoked = await http.get(f"{second.issuer}/oidc/userinfo", headers=bearer)
    assert revoked.status_code == 401


async def test_a_code_is_exchanged_once_whichever_instances_race_for_it(
    http: httpx.AsyncClient, deployment: Deployment, phone: SandboxPhone
) -> None:
    on_first = Browser(http, deployment.first.issuer)
    on_second = Browser(http, deployment.second.issuer)
    login = await on_second.create()
    await confirm(
        phone.on(deployment.first), await scan(phone.on(deployment.first), on_second, login)
    )
    code = (await on_second.status(login))["code"]
    answers = await asyncio.gather(
        *(browser.exchange(login, code) for browser in (on_first, on_second) for _ in range(3))
    )
    assert sorted(answer.status_code for answer in answers) == [200, 400, 400, 400, 400, 400]


async def test_an_instance_killed_mid_login_leaves_the_login_to_the_others(
    http: httpx.AsyncClient, deployment: Deployment, phone: SandboxPhone
) -> None:
    doomed = deployment.start("doomed", ["serve"])
    try:
        on_doomed = Browser(http, doomed.issuer)
        login = await on_doomed.create()
        session = await scan(phone.on(doomed), on_doomed, login)
        waiting = asyncio.create_task(on_doomed.status(login, wait=30, last="scanned"))
        await asyncio.sleep(0)
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()
        with pytest.raises(httpx.TransportError):
            await waiting
    finally:
        doomed.stop()
    # The load balancer sends the browser and the phone elsewhere; nothing was lost.
    on_second = Browser(http, deployment.second.issuer)
    waiting = asyncio.create_task(on_second.status(login, wait=30, last="scanned"))
    await confirm(phone.on(deployment.first), session)
    async with asyncio.timeout(5):
        authorized = await waiting
    assert authorized["status"] == "authorized"
    tokens = await on_second.exchange(login, authorized["code"])
    assert tokens.status_code == 200, tokens.text


async def test_the_workers_of_one_instance_share_every_login(
    http: httpx.AsyncClient, deployment: Deployment, phone: SandboxPhone
) -> None:
    """``serve --workers 2``: each request lands on either worker process."""
    workers = deployment.workers
    browser = Browser(http, workers.issuer)
    phone.on(workers)
    for _ in range(6):
        login = await browser.create()
        session = await scan(phone, browser, login)
        waiting = asyncio.create_task(browser.status(login, wait=30, last="scanned"))
        await confirm(phone, session)
        authorized = await waiting
        assert authorized["status"] == "authorized"
        assert (await browser.exchange(login, authorized["code"])).status_code == 200
    # All instances and workers together asked WeChat for one access token.
    stats = (await http.get(f"{deployment.wechat.url}/_sandbox/wechat/stats")).json()
    assert stats["calls"]["cgi-bin/stable_token"] == 1


async def test_dev_pointed_at_a_sandbox_uses_it_instead_of_its_own(
    http: httpx.AsyncClient, deployment: Deployment
) -> None:
    first, sandbox = deployment.first, deployment.wechat.url
    own = await http.get(f"{first.url}/_sandbox/wechat/stats")
    assert own.status_code == 404
    login = await Browser(http, first.issuer).create()
    link = await http.get(f"{first.url}/demo/api/phone-url/{login.id}", headers=login.auth)
    assert link.status_code == 200, link.text
    assert link.json()["phone_url"].startswith(f"{sandbox}/_sandbox/phone?appid=")
