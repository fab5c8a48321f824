"""Rate limits and body sizes as a client meets them: 429 with ``Retry-After`` and the
contract's error body, per address and per client, counted across instances through Redis,
scaled or switched off by the settings; wrong secrets and codes throttled; 413 above the size."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.conftest import PUBLIC, Clock
from tests.support.actors import Browser, Phone
from tests.support.redis_server import RedisServer, redis_server
from tests.support.server import minilogin_dev

from minilogin.app import create_app
from minilogin.config import SANDBOX_API_PATH, Settings
from minilogin.core.pkce import s256
from minilogin.sandbox.app import create_sandbox_app
from minilogin.storage.sql.migrate import upgrade_async

ISSUER = f"{PUBLIC}/pools/demo"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[FastAPI]:
    await upgrade_async(settings.database_url)
    wechat = create_sandbox_app(settings.public_url)
    application = create_app(
        settings.against_sandbox(f"{PUBLIC}{SANDBOX_API_PATH}"),
        seed=True,
        sandbox=wechat,
        clock=mid_minute(),
        wechat_transport=httpx.ASGITransport(app=wechat),
    )
    async with application.router.lifespan_context(application):
        yield application


def mid_minute() -> Clock:
    """A clock half-way through a minute: the limits' windows are aligned to the clock, so a
    test's few attempts made across a minute's edge would count in two windows."""
    clock = Clock()
    clock.advance(30 - clock() % 60)
    return clock


def client(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url=PUBLIC)


def create_body(client_id: str = "demo") -> dict[str, str]:
    return {"client_id": client_id, "code_challenge": s256(secrets.token_urlsafe(48))}


async def create(http: httpx.AsyncClient) -> httpx.Response:
    return await http.post(f"{ISSUER}/api/qrcodes", json=create_body())


def limited(response: httpx.Response) -> bool:
    """A 429 as the contract says it: the error body, and when to come back."""
    if response.status_code != 429:
        return False
    assert response.json()["error"] == "rate_limited"
    assert response.json()["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    return True


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


def test_a_thousand_creations_from_one_address_meet_429s_long_before_the_end(
    tmp_path: Path,
) -> None:
    """A real ``minilogin dev`` on its defaults, flooded over loopback (not exempt)."""
    with minilogin_dev(tmp_path) as server, httpx.Client(timeout=10) as http:
        answers = []
        for _ in range(1000):
            answer = http.post(f"{server.issuer()}/api/qrcodes", json=create_body())
            answers.append(answer.status_code)
            if answer.status_code != 201:
                break
        assert limited(answer)
        # 30 a minute; windows are aligned to the clock, so a flood may straddle two.
        assert 30 <= answers.count(201) <= 60


async def test_each_address_has_its_own_count(tmp_path: Path) -> None:
    settings = Settings(public_url=PUBLIC, data_dir=tmp_path, rate_limits={"qrcode.ip": 3})
    async with serving(settings) as app:
        one, other = client(app, "203.0.113.1"), client(app, "203.0.113.2")
        assert [(await create(one)).status_code for _ in range(3)] == [201] * 3
        assert limited(await create(one))
        assert (await create(other)).status_code == 201


async def test_a_client_id_has_a_count_over_all_addresses(tmp_path: Path) -> None:
    settings = Settings(public_url=PUBLIC, data_dir=tmp_path, rate_limits={"qrcode.client": 2})
    async with serving(settings) as app:
        answers = []
        for n in range(3):
            async with client(app, f"203.0.113.{n + 1}") as http:
                answers.append(await create(http))
        assert [a.status_code for a in answers[:2]] == [201, 201]
        assert limited(answers[2])


async def test_instances_sharing_a_redis_count_together(tmp_path: Path, redis: RedisServer) -> None:
    common = {"public_url": PUBLIC, "redis_url": redis.url(), "rate_limits": {"token.ip": 4}}
    form = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "demo"}
    async with AsyncExitStack() as stack:
        apps = [
            await stack.enter_async_context(
                serving(Settings(data_dir=tmp_path / name, redis_prefix="shared:", **common))
            )
            for name in ("first", "second")
        ]
        https = [await stack.enter_async_context(client(app, "203.0.113.9")) for app in apps]
        answers = [await https[n % 2].post(f"{ISSUER}/oidc/token", data=form) for n in range(5)]
    assert [a.json()["error"] for a in answers[:4]] == ["invalid_grant"] * 4
    assert limited(answers[4])


@pytest.mark.parametrize(("scale", "allowed"), [(0.0, 40), (0.1, 3)])
async def test_the_scale_multiplies_every_limit_and_zero_turns_them_off(
    tmp_path: Path, scale: float, allowed: int
) -> None:
    settings = Settings(public_url=PUBLIC, data_dir=tmp_path, rate_limit_scale=scale)
    async with serving(settings) as app, client(app, "127.0.0.1") as http:
        answers = [await create(http) for _ in range(40)]
    assert [a.status_code for a in answers].count(201) == allowed


async def test_the_authorization_endpoint_is_limited_with_a_page(tmp_path: Path) -> None:
    settings = Settings(public_url=PUBLIC, data_dir=tmp_path, rate_limits={"auth.ip": 2})
    params = {
        "client_id": "demo",
        "response_type": "code",
        "redirect_uri": f"{PUBLIC}/demo/callback",
        "scope": "openid",
        "code_challenge": s256("v" * 43),
        "code_challenge_method": "S256",
    }
    async with serving(settings) as app, client(app, "203.0.113.5") as http:
        answers = [await http.get(f"{ISSUER}/oidc/auth", params=params) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["content-type"].startswith("text/html")
    assert int(answers[2].headers["retry-after"]) >= 1


@pytest.mark.parametrize("rule", ["token.ip", "token.client"])
async def test_the_token_endpoint_is_limited_per_address_and_client(
    tmp_path: Path, rule: str
) -> None:
    settings = Settings(public_url=PUBLIC, data_dir=tmp_path, rate_limits={rule: 2})
    form = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "demo"}
    async with serving(settings) as app:
        answers = []
        for n in range(3):
            ip = "203.0.113.5" if rule == "token.ip" else f"203.0.113.{n + 10}"
            async with client(app, ip) as http:
                answers.append(await http.post(f"{ISSUER}/oidc/token", data=form))
    assert [a.json()["error"] for a in answers[:2]] == ["invalid_grant"] * 2
    assert limited(answers[2])
    assert answers[2].json()["error_description"]


@pytest.mark.parametrize(("rule", "path"), [("scan.ip", "scan"), ("confirm.ip", "confirm")])
async def test_the_mini_program_calls_are_limited(tmp_path: Path, rule: str, path: str) -> None:
    settings = Settings(public_url=PUBLIC, data_dir=tmp_path, rate_limits={rule: 1})
    body: dict[str, Any] = (
        {"scene": "nope", "js_code": "x"}
        if path == "scan"
        else {"session": "nope", "phone_code": "x"}
    )
    async with serving(settings) as app, client(app, "203.0.113.5") as http:
        answers = [await http.post(f"{PUBLIC}/api/miniprogram/{path}", json=body) for _ in "ab"]
    assert answers[0].status_code != 429
    assert limited(answers[1])


async def test_guessing_qr_login_secrets_is_throttled(tmp_path: Path) -> None:
    """After 20 wrong secrets an address is refused, even the right secret, until the window
    ends; other addresses are not."""
    settings = Settings(public_url=PUBLIC, data_dir=tmp_path)
    async with serving(settings) as app:
        guesser, owner = client(app, "203.0.113.66"), client(app, "203.0.113.67")
        login = await Browser(owner, ISSUER).create()
        url = f"{ISSUER}/api/qrcodes/{login.id}"
        for _ in range(20):
            wrong = await guesser.get(url, headers={"Authorization": "Bearer guess"})
            assert wrong.status_code == 401
        assert limited(await guesser.get(url, headers=login.auth))
        assert (await owner.get(url, headers=login.auth)).status_code == 200


async def test_guessing_client_secrets_and_codes_is_throttled(app: FastAPI) -> None:
    async with client(app, "203.0.113.66") as guesser:
        basic = base64.b64encode(b"demo:wrong").decode()
        for n in range(20):
            form = {"grant_type": "authorization_code", "code": f"guess-{n}", "code_verifier": "v"}
            if n % 2:
                form["client_id"] = "demo"
                headers = {}
            else:
                headers = {"Authorization": f"Basic {basic}"}
            answer = await guesser.post(f"{ISSUER}/oidc/token", data=form, headers=headers)
            assert answer.json()["error"] in ("invalid_client", "invalid_grant")
        again = await guesser.post(
            f"{ISSUER}/oidc/token",
            data={"grant_type": "authorization_code", "code": "c", "client_id": "demo"},
        )
        assert limited(again)


async def test_a_body_above_the_size_answers_413(http: httpx.AsyncClient) -> None:
    big = {**create_body(), "nonce": "n" * (64 * 1024)}
    declared = await http.post(f"{ISSUER}/api/qrcodes", json=big)
    assert (declared.status_code, declared.json()["error"]) == (413, "payload_too_large")
    assert declared.json()["message"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(80):
            yield b" " * 1024
            await asyncio.sleep(0)

    streamed = await http.post(
        f"{ISSUER}/api/qrcodes", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert (streamed.status_code, streamed.json()["error"]) == (413, "payload_too_large")
    small = await http.post(f"{ISSUER}/api/qrcodes", json=create_body())
    assert small.status_code == 201


async def test_the_phone_answers_are_limited_per_phone_address(
    tmp_path: Path,
) -> None:
    """Two phones behind two addresses scan one after the other without meeting a limit of
    one scan each."""
    settings = Settings(public_url=PUBLIC, data_dir=tmp_path, rate_limits={"scan.ip": 1})
    async with serving(settings) as app, client(app, "203.0.113.5") as pc:
        browser = Browser(pc, ISSUER)
        for n in range(2):
            login = await browser.create()
            appid, scene = await browser.read_code(login)
            async with client(app, f"198.51.100.{n + 1}") as handset:
                scanned = await Phone(handset, PUBLIC, f"user-{n}").scan(appid, scene)
            assert scanned.status_code == 200, scanned.text


def test_unknown_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown rate limits"):
        Settings(rate_limits={"qrcodes.ip": 1})
