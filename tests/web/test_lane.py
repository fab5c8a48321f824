"""The lean lane (``web/lane.py``) answers the QR login's status without FastAPI's routing,
and exactly as the whole stack does: the same status, headers (framing, CORS, ``Retry-After``)
and bytes, for answers and errors alike. What it does not read exactly as the route would goes
on to the route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from tests.conftest import PUBLIC, Clock
from tests.support.actors import Browser, BrowserLogin, Phone

from minilogin.web.lane import LoginLane

ISSUER = f"{PUBLIC}/pools/demo"
CLIENT = ("203.0.113.7", 50000)
HEADERS = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0"}


def serving(app: FastAPI, asgi: ASGIApp) -> httpx.AsyncClient:
    """A client of ``asgi`` standing in for ``app``'s middleware stack, with ``app``'s
    services, as the ``http`` fixture's client of the app itself is."""

    async def entry(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        await asgi(scope, receive, send)

    transport = httpx.ASGITransport(app=entry, client=CLIENT)
    return httpx.AsyncClient(transport=transport, base_url=PUBLIC, headers=HEADERS)


@pytest.fixture
async def stack(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The same app through FastAPI's whole stack, every middleware but the lane."""
    with_lane = app.user_middleware
    app.user_middleware = [m for m in with_lane if m.cls is not LoginLane]
    assert len(app.user_middleware) == len(with_lane) - 1
    try:
        whole = app.build_middleware_stack()
    finally:
        app.user_middleware = with_lane
    async with serving(app, whole) as client:
        yield client


async def both(
    http: httpx.AsyncClient, stack: httpx.AsyncClient, path: str, **request: Any
) -> httpx.Response:
    """The lane's answer, once it is shown to be the stack's own, byte for byte."""
    lane = await http.get(path, **request)
    whole = await stack.get(path, **request)
    assert (lane.status_code, lane.headers.multi_items(), lane.content) == (
        whole.status_code,
        whole.headers.multi_items(),
        whole.content,
    )
    return lane


async def test_the_lane_answers_the_status_without_the_routes(
    app: FastAPI, browser: Browser
) -> None:
    login = await browser.create()
    passed: list[str] = []

    async def routes(scope: Scope, receive: Receive, send: Send) -> None:
        passed.append(f"{scope['method']} {scope['path']}?{scope['query_string'].decode()}")
        await Response(status_code=418)(scope, receive, send)

    url = f"/pools/demo/api/qrcodes/{login.id}"
    async with serving(app, LoginLane(routes)) as lane:
        for params in ({}, {"wait": "0.05", "last": "pending"}, {"wait": "0", "last": "x"}):
            answer = await lane.get(url, params=params, headers=login.auth)
            assert (answer.status_code, answer.json()["status"]) == (200, "pending")
        assert (await lane.get(url)).status_code == 401
        assert passed == []

        # What the route reads in its own way is left to it.
        for query in (
            "wait=31&last=pending",
            "wait=1e1&last=pending",
            "wait=-1",
            "wait=%EF%BC%91",  # a full-width digit
            "wait=&last=pending",
            "last=",
            "last=" + "a" * 33,
            "last=pending&last=scanned",
            "wait=1&other=1",
            "w%61it=1&last=pending",  # an escaped name
            "wait=1&last=pending%0A",
            "wait=1&",
            "wait",
        ):
            assert (await lane.get(f"{url}?{query}", headers=login.auth)).status_code == 418
        assert (await lane.get(f"{url}/", headers=login.auth)).status_code == 418
        assert (await lane.get(f"{url}/image.png")).status_code == 418
        assert (await lane.head(url, headers=login.auth)).status_code == 418
        assert (await lane.delete(url, headers=login.auth)).status_code == 418
        assert (await lane.get("/pools/demo/api/qrcodes")).status_code == 418
    assert len(passed) == 18


async def test_every_status_answers_as_the_stack_does(
    http: httpx.AsyncClient, stack: httpx.AsyncClient, browser: Browser, phone: Phone, clock: Clock
) -> None:
    login = await browser.create(state="st-1")
    url = f"/pools/demo/api/qrcodes/{login.id}"
    english = {**login.auth, "Accept-Language": "en"}

    async def status(login: BrowserLogin = login, **params: str) -> dict[str, Any]:
        answer = await both(http, stack, url, params=params, headers=english)
        assert answer.status_code == 200
        body: dict[str, Any] = answer.json()
        return body

    assert (await status())["status"] == "pending"
    assert (await status(wait="0.05", last="pending"))["status"] == "pending"
    appid, scene = await browser.read_code(login)
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await status(wait="5", last="pending"))["status"] == "scanned"
    assert (await phone.confirm(appid, session, nickname="小明")).status_code == 200
    authorized = await status(wait="5", last="scanned")
    assert (authorized["status"], authorized["state"]) == ("authorized", "st-1")
    assert authorized["scanned"]["nickname"] == "小明"

    expiring = await browser.create()
    clock.advance(3600)
    answer = await both(
        http,
        stack,
        f"/pools/demo/api/qrcodes/{expiring.id}",
        headers={**expiring.auth, "Accept-Language": "zh-CN"},
    )
    assert answer.json()["status"] == "expired"


async def test_errors_and_cors_answer_as_the_stack_does(
    http: httpx.AsyncClient, stack: httpx.AsyncClient, browser: Browser
) -> None:
    login = await browser.create()
    url = f"/pools/demo/api/qrcodes/{login.id}"
    poll = {"wait": "0.05", "last": "pending"}
    refused = [
        await both(http, stack, url),
        await both(http, stack, url, params=poll, headers={"Accept-Language": "zh-CN"}),
        await both(http, stack, url, headers={"Authorization": "Bearer wrong"}),
        await both(http, stack, "/pools/demo/api/qrcodes/qrl_unknown", headers=login.auth),
        await both(http, stack, f"/pools/nowhere/api/qrcodes/{login.id}", headers=login.auth),
    ]
    assert {(a.status_code, a.json()["error"]) for a in refused} == {(401, "unauthorized")}
    assert {a.headers["x-frame-options"] for a in refused} == {"DENY"}

    allowed = await both(http, stack, url, headers={**login.auth, "Origin": PUBLIC})
    assert allowed.headers["access-control-allow-origin"] == PUBLIC
    other = await both(http, stack, url, headers={**login.auth, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = {"Origin": PUBLIC, "Access-Control-Request-Method": "GET"}
    assert (await http.options(url, headers=preflight)).status_code == 204

    # A wrong secret is a guess: past the limit, the next is refused before its secret is read.
    guesses = 0
    while (answer := await http.get(url, headers={"Authorization": "Bearer x"})).status_code == 401:
        guesses += 1
        assert guesses <= 20
    limited = [answer, await stack.get(url, params=poll, headers=login.auth)]
    assert [(a.status_code, a.json()["error"]) for a in limited] == [(429, "rate_limited")] * 2
    assert all(int(a.headers["retry-after"]) > 0 for a in limited)
