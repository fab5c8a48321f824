"""``GET /metrics`` of a real ``minilogin dev`` process, scraped as Prometheus scrapes it,
while a browser and a phone go through logins over HTTP: every metric the operator is
promised moves when what it counts happens, and only the token holder may read them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.actors import Browser, Phone
from tests.support.metrics import Scrape, scrape
from tests.support.server import RunningServer, minilogin_dev
from tests.support.sse import server_sent_events

from minilogin.seed import DEMO_CONNECTION

pytestmark = pytest.mark.slow

TOKEN = "metrics-scraper-token"
SANDBOX_APP = "wx0000000000sandbox"
SOURCE = {"pool": "demo", "source": DEMO_CONNECTION}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder: Path = tmp_path_factory.mktemp("metrics")
    with minilogin_dev(folder, MINILOGIN_METRICS_TOKEN=TOKEN) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=35.0)) as client:
        yield client


async def read(http: httpx.AsyncClient, server: RunningServer) -> Scrape:
    return await scrape(http, server.public, TOKEN)


async def test_metrics_need_the_token_when_one_is_set(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = await http.get(f"{server.public}/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
    metrics = await read(http, server)
    assert "minilogin_logins_total" in metrics.text


async def test_a_whole_login_moves_every_login_metric(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    before = await read(http, server)
    browser = Browser(http, server.issuer())
    phone = Phone(http, server.public, "metrics-user")
    await phone.set_profile(phone="+8613800138001")

    login = await browser.create()
    appid, scene = await browser.read_code(login)
    async with http.stream(
        "GET",
        f"{server.issuer()}/api/qrcodes/{login.id}/events",
        headers={"Accept": "text/event-stream", **login.auth},
    ) as response:
        events = server_sent_events(response)
        assert (await anext(events)).json()["status"] == "pending"
        waiting = await read(http, server)
        assert waiting.value("minilogin_waiting_browsers") == 1
        session = (await phone.scan(appid, scene)).json()["session"]
        assert (await anext(events)).json()["status"] == "scanned"
        assert (await phone.confirm(appid, session)).json() == {"status": "authorized"}
        authorized = (await anext(events)).json()
        assert authorized["status"] == "authorized"
    assert (await browser.exchange(login, authorized["code"])).status_code == 200

    after = await read(http, server)
    for event in ("created", "scanned", "authorized", "consumed"):
        grown = after.value("minilogin_login_events_total", event=event, **SOURCE)
        assert grown - before.value("minilogin_login_events_total", event=event, **SOURCE) == 1
    succeeded = {"outcome": "succeeded", **SOURCE}
    assert (
        after.value("minilogin_logins_total", **succeeded)
        - before.value("minilogin_logins_total", **succeeded)
        == 1
    )
    pushes = "minilogin_push_latency_seconds_count"
    assert after.value(pushes) - before.value(pushes) == 1
    assert after.value("minilogin_waiting_browsers") == 0
    for endpoint in ("jscode2session", "getuserphonenumber"):
        calls = after.value("minilogin_wechat_calls_total", endpoint=endpoint)
        assert calls - before.value("minilogin_wechat_calls_total", endpoint=endpoint) == 1
    # The code and the access token came before the login (the pool's filler) or during it.
    assert after.value("minilogin_wechat_calls_total", endpoint="getwxacodeunlimit") >= 1
    assert after.value("minilogin_codes_made_total", app_id=SANDBOX_APP) >= 1
    # The filler reports the pool it keeps for the source's codes.
    assert any(
        name == "minilogin_code_pool_size"
        and {("app_id", SANDBOX_APP), ("source", DEMO_CONNECTION)} <= series
        for name, series in after.samples
    )
    refreshes = after.value(
        "minilogin_wechat_token_refreshes_total", app_id=SANDBOX_APP, forced="false"
    )
    assert refreshes == after.value("minilogin_wechat_calls_total", endpoint="stable_token") >= 1


async def test_cancelled_logins_and_wechat_errors_are_counted(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    before = await read(http, server)
    browser = Browser(http, server.issuer())
    login = await browser.create()
    _, scene = await browser.read_code(login)
    bad = await http.post(
        f"{server.public}/api/miniprogram/scan", json={"scene": scene, "js_code": "forged"}
    )
    assert bad.status_code == 400
    cancelled = await http.delete(f"{server.issuer()}/api/qrcodes/{login.id}", headers=login.auth)
    assert cancelled.status_code == 204

    after = await read(http, server)
    errors = {"endpoint": "jscode2session", "errcode": "40029"}
    assert (
        after.value("minilogin_wechat_errors_total", **errors)
        - before.value("minilogin_wechat_errors_total", **errors)
        == 1
    )
    outcome = {"outcome": "cancelled", **SOURCE}
    assert (
        after.value("minilogin_logins_total", **outcome)
        - before.value("minilogin_logins_total", **outcome)
        == 1
    )


async def test_rate_limit_rejections_are_counted(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    before = await read(http, server)
    statuses = []
    for _ in range(12):
        attempt = await http.post(
            f"{server.public}/console/login",
            data={"username": "nobody", "password": "wrong password"},
            headers={"Origin": server.public},
        )
        statuses.append(attempt.status_code)
    refused = statuses.count(429)
    assert refused >= 1, statuses
    after = await read(http, server)
    reason = {"reason": "rate_limited"}
    grown = after.value("minilogin_rate_limited_total", **reason)
    assert grown - before.value("minilogin_rate_limited_total", **reason) == refused
