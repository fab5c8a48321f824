"""The lean lane (``web/lane.py``) answers the QR login's status without FastAPI's routing,
and exactly as the whole stack does: the same status, headers (framing, CORS, ``Retry-After``)
and bytes, for answers and errors alike. What it does not read exactly as the route would goes
on to the route."""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from tests.conftest import PUBLIC, Clock, sandbox_settings
from tests.support.actors import Browser, BrowserLogin, Phone
from tests.support.redis_server import redis_server

from minilogin.app import create_app
from minilogin.core.pkce import s256
from minilogin.sandbox.app import create_sandbox_app
from minilogin.storage.sql.migrate import upgrade_async
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


def without_lane(app: FastAPI) -> ASGIApp:
    """The same app through FastAPI's whole stack, every middleware but the lane."""
    with_lane = app.user_middleware
    app.user_middleware = [m for m in with_lane if m.cls is not LoginLane]
    assert len(app.user_middleware) == len(with_lane) - 1
    try:
        return app.build_middleware_stack()
    finally:
        app.user_middleware = with_lane


@pytest.fixture
async def stack(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app, without_lane(app)) as client:
        yield client


async def both(
    http: httpx.AsyncClient,
    stack: httpx.AsyncClient,
    path: str,
    method: str = "GET",
    **request: Any,
) -> httpx.Response:
    """The lane's answer, once it is shown to be the stack's own, byte for byte."""
    lane = await http.request(method, path, **request)
    whole = await stack.request(method, path, **request)
    alike(lane, whole)
    return lane


def alike(lane: httpx.Response, whole: httpx.Response, *drawn: tuple[str, str]) -> None:
    """The two answers are the same bytes and headers, once each value the lane's request drew
    at random (an id, a secret) is replaced by the one the stack's drew in its place."""
    content = lane.content
    for mine, theirs in drawn:
        assert len(mine) == len(theirs)
        assert mine.encode() in content
        content = content.replace(mine.encode(), theirs.encode())
    assert (lane.status_code, lane.headers.multi_items(), content) == (
        whole.status_code,
        whole.headers.multi_items(),
        whole.content,
    )


def pin(clock: Clock, second: float) -> None:
    """Puts the clock at ``second``: two answers made one after the other, each just after
    pinning it, read the same second (the API's instants and durations are in seconds)."""
    clock.offset = second - time.time()


async def test_the_lane_answers_the_login_requests_without_the_routes(
    app: FastAPI, browser: Browser
) -> None:
    login = await browser.create()
    passed: list[str] = []

    async def routes(scope: Scope, receive: Receive, send: Send) -> None:
        # What reached the route, its body too: the lane hands on what it read.
        body = (await Request(scope, receive).body()).decode(errors="replace")
        passed.append(f"{scope['method']} {scope['path']}?{scope['query_string'].decode()} {body}")
        await Response(status_code=418)(scope, receive, send)

    url = f"/pools/demo/api/qrcodes/{login.id}"
    created = {"client_id": "demo", "code_challenge": s256("v" * 43)}
    async with serving(app, LoginLane(routes)) as lane:
        for params in ({}, {"wait": "0.05", "last": "pending"}, {"wait": "0", "last": "x"}):
            answer = await lane.get(url, params=params, headers=login.auth)
            assert (answer.status_code, answer.json()["status"]) == (200, "pending")
        assert (await lane.get(url)).status_code == 401
        assert (await lane.get(f"{url}/image.png")).status_code == 200
        assert (await lane.post("/pools/demo/api/qrcodes", json=created)).status_code == 201
        scan = {"scene": "none", "js_code": "x"}
        assert (await lane.post("/api/miniprogram/scan", json=scan)).status_code == 400
        confirm = {"session": "none", "phone_code": "x"}
        assert (await lane.post("/api/miniprogram/confirm", json=confirm)).status_code == 404
        token = {"grant_type": "authorization_code", "code": "x", "client_id": "demo"}
        assert (await lane.post("/pools/demo/oidc/token", data=token)).status_code == 400
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
        assert (await lane.head(url, headers=login.auth)).status_code == 418
        assert (await lane.head(f"{url}/image.png")).status_code == 418
        assert (await lane.delete(url, headers=login.auth)).status_code == 418
        assert (await lane.get("/pools/demo/api/qrcodes")).status_code == 418
        assert len(passed) == 18
        passed.clear()

        # A body the route's model would not take, or would not read as JSON, reaches the
        # route as it came.
        for body, content_type in (
            (b'{"client_id": "demo"}', "application/json"),
            (b'{"client_id": "demo", "code_challenge": 1}', "application/json"),
            (b'{"client_id": "demo",', "application/json"),
            (b"[]", "application/json"),
            (b"\xff", "application/json"),
            (json.dumps(created).encode(), "text/plain"),
            (json.dumps(created).encode(), "application/problem+json"),
            (b"", "application/json"),
        ):
            sent = await lane.post(
                "/pools/demo/api/qrcodes", content=body, headers={"Content-Type": content_type}
            )
            assert sent.status_code == 418
            assert passed.pop() == f"POST /pools/demo/api/qrcodes? {body.decode(errors='replace')}"
        untyped = await lane.post("/api/miniprogram/scan", content=json.dumps(scan).encode())
        assert untyped.status_code == 418
        assert (
            await lane.post("/api/miniprogram/confirm", json={"session": ""})
        ).status_code == 418
        assert (await lane.post("/pools/demo/oidc/token/", data=token)).status_code == 418
        assert (await lane.get("/pools/demo/oidc/token")).status_code == 418
        assert len(passed) == 4


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


CREATE = "/pools/demo/api/qrcodes"


def drawn_in(created: httpx.Response) -> list[str]:
    """What a creation drew at random: the login's id and secret, and its code's scene."""
    body = created.json()
    scene = parse_qs(urlparse(body["sandbox_phone_url"]).query)["scene"][0]
    return [body["id"], body["secret"], scene]


async def test_creation_answers_as_the_stack_does(
    http: httpx.AsyncClient, stack: httpx.AsyncClient, clock: Clock
) -> None:
    body = {"client_id": "demo", "code_challenge": s256("v" * 43), "state": "st", "nonce": "n"}
    second = math.floor(clock()) + 1.1
    for headers in ({"Accept-Language": "en"}, {"Origin": PUBLIC}, {"Origin": "https://x.test"}):
        pin(clock, second)
        lane = await http.post(CREATE, json=body, headers=headers)
        pin(clock, second)
        whole = await stack.post(CREATE, json=body, headers=headers)
        assert lane.status_code == 201
        alike(lane, whole, *zip(drawn_in(lane), drawn_in(whole), strict=True))
        second += 1
    assert lane.headers.get("access-control-allow-origin") is None
    assert whole.headers["x-frame-options"] == "DENY"
    typed = {"Content-Type": "application/json; charset=utf-8"}
    lane = await http.post(CREATE, content=json.dumps(body).encode(), headers=typed)
    whole = await stack.post(CREATE, content=json.dumps(body).encode(), headers=typed)
    assert lane.status_code == 201
    assert lane.json().keys() == whole.json().keys()

    refused = [
        await both(http, stack, CREATE, "POST", json={**body, "client_id": "nobody"}),
        await both(http, stack, CREATE, "POST", json={**body, "code_challenge_method": "plain"}),
        await both(http, stack, CREATE, "POST", json={"client_id": "demo"}),
        await both(http, stack, CREATE, "POST", content=b"{", headers=typed),
        await both(http, stack, CREATE, "POST", content=json.dumps(body).encode()),
        await both(http, stack, "/pools/nowhere/api/qrcodes", "POST", json=body),
    ]
    assert [answer.status_code for answer in refused] == [404, 400, 400, 400, 400, 404]
    preflight = {"Origin": PUBLIC, "Access-Control-Request-Method": "POST"}
    assert (await both(http, stack, CREATE, "OPTIONS", headers=preflight)).status_code == 204
    large = {**body, "state": "s" * 70_000}
    assert (await both(http, stack, CREATE, "POST", json=large)).status_code == 413


async def test_the_image_answers_as_the_stack_does(
    http: httpx.AsyncClient, stack: httpx.AsyncClient, browser: Browser, clock: Clock
) -> None:
    login = await browser.create()
    url = f"/pools/demo/api/qrcodes/{login.id}/image.png"
    image = await both(http, stack, url, headers={"Origin": PUBLIC})
    assert (image.status_code, image.headers["cache-control"]) == (200, "private, max-age=600")
    missing = [
        await both(http, stack, "/pools/demo/api/qrcodes/qrl_unknown/image.png"),
        await both(http, stack, f"/pools/other/api/qrcodes/{login.id}/image.png"),
    ]
    assert {(a.status_code, a.json()["error"]) for a in missing} == {(404, "qrlogin_not_found")}
    clock.advance(3600)
    expired = await both(http, stack, url, headers={"Accept-Language": "zh-CN"})
    assert (expired.status_code, expired.json()["error"]) == (410, "qrlogin_expired")


async def test_scan_confirm_and_token_answer_as_the_stack_does(
    http: httpx.AsyncClient, stack: httpx.AsyncClient, browser: Browser, phone: Phone, clock: Clock
) -> None:
    second = math.floor(clock()) + 1.1
    pin(clock, second)
    ours = await browser.create(state="st")
    pin(clock, second)
    theirs = await browser.create(state="st")
    (appid, our_scene), (_, their_scene) = [await browser.read_code(x) for x in (ours, theirs)]

    async def scan(client: httpx.AsyncClient, scene: str) -> httpx.Response:
        js_code = await phone.wx_login(appid)
        pin(clock, second + 0.5)  # half a second from the durations' ends
        return await client.post("/api/miniprogram/scan", json={"scene": scene, "js_code": js_code})

    lane, whole = await scan(http, our_scene), await scan(stack, their_scene)
    assert lane.status_code == 200
    alike(lane, whole, (lane.json()["session"], whole.json()["session"]))
    sessions = lane.json()["session"], whole.json()["session"]
    refused = [await scan(client, "qr_unknown") for client in (http, stack)]
    alike(*refused)
    malformed = {"scene": "", "js_code": "x"}
    assert (await both(http, stack, "/api/miniprogram/scan", "POST", json=malformed)).is_error

    async def confirm(client: httpx.AsyncClient, session: str) -> httpx.Response:
        phone_code = await phone.phone_code(appid)
        return await client.post(
            "/api/miniprogram/confirm",
            json={"session": session, "phone_code": phone_code, "nickname": "小明"},
        )

    confirmed = [
        await confirm(client, s) for client, s in zip((http, stack), sessions, strict=True)
    ]
    alike(*confirmed)
    assert confirmed[0].json() == {"status": "authorized"}
    repeated = [await confirm(client, sessions[0]) for client in (http, stack)]
    alike(*repeated)
    assert repeated[0].status_code == 409
    unknown = [await confirm(client, "nobody") for client in (http, stack)]
    alike(*unknown)
    assert unknown[0].status_code == 404

    token = "/pools/demo/oidc/token"
    codes = [(await browser.status(login))["code"] for login in (ours, theirs)]
    grants = [
        {"grant_type": "authorization_code", "code": code, "code_verifier": login.verifier}
        | {"client_id": "demo"}
        for code, login in zip(codes, (ours, theirs), strict=True)
    ]
    issued = [
        await client.post(token, data=g) for client, g in zip((http, stack), grants, strict=True)
    ]
    assert [answer.status_code for answer in issued] == [200, 200]
    assert [answer.json().keys() for answer in issued] == [issued[1].json().keys()] * 2
    assert [
        [(k, v) for k, v in answer.headers.multi_items() if k != "content-length"]
        for answer in issued
    ] == [[(k, v) for k, v in issued[1].headers.multi_items() if k != "content-length"]] * 2
    for form in (
        grants[0],  # the code was used
        {**grants[0], "grant_type": "password"},
        {**grants[0], "client_id": "nobody"},
    ):
        assert (await both(http, stack, token, "POST", data=form)).status_code in (400, 401)
    as_json = await both(http, stack, token, "POST", json=grants[0])
    assert as_json.json()["error"] == "invalid_request"
    unknown_pool = await both(http, stack, "/pools/nowhere/oidc/token", "POST", data=grants[0])
    assert unknown_pool.status_code == 400
    preflight = {"Origin": PUBLIC, "Access-Control-Request-Method": "POST"}
    assert (await both(http, stack, token, "OPTIONS", headers=preflight)).status_code == 204


async def test_an_outage_answers_as_the_stack_does(tmp_path: Path) -> None:
    with contextlib.ExitStack() as redis_up:
        server = redis_up.enter_context(redis_server())
        settings = sandbox_settings(
            PUBLIC, tmp_path, redis_url=server.url(), redis_prefix="lane:", code_pool_min_size=0
        )
        await upgrade_async(settings.database_url)
        wechat = create_sandbox_app(PUBLIC)
        app = create_app(
            settings, seed=True, sandbox=wechat, wechat_transport=httpx.ASGITransport(app=wechat)
        )
        async with (
            app.router.lifespan_context(app),
            serving(app, app) as http,
            serving(app, without_lane(app)) as stack,
        ):
            login = await Browser(http, f"{PUBLIC}/pools/demo").create()
            redis_up.close()  # Redis stops
            url = f"/pools/demo/api/qrcodes/{login.id}"
            body = {"client_id": "demo", "code_challenge": s256("v" * 43)}
            grant = {"grant_type": "authorization_code", "code": "x", "client_id": "demo"}
            answers = [
                await both(http, stack, url, headers=login.auth),
                await both(http, stack, f"{url}/image.png"),
                await both(http, stack, CREATE, "POST", json=body),
                await both(
                    http, stack, "/api/miniprogram/scan", "POST", json={"scene": "s"} | grant
                ),
                await both(
                    http,
                    stack,
                    "/api/miniprogram/confirm",
                    "POST",
                    json={"session": "s", "phone_code": "p"},
                ),
                await both(http, stack, "/pools/demo/oidc/token", "POST", data=grant),
            ]
    assert {(a.status_code, a.headers["retry-after"]) for a in answers} == {(503, "1")}
