"""A database outage answers 503 with ``Retry-After``, never 500, and ends by itself (issue 14
§2): a real ``minilogin dev`` process on a real PostgreSQL, stopped and started with
``pg_ctl`` while requests keep coming. What needs the database waits for it; discovery, the
JWKS and what else the configuration cache knows keep answering; the first request after the
restart succeeds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg.exceptions
import httpx
import pytest
import sqlalchemy.exc
from tests.support.actors import Browser, Phone
from tests.support.postgres_server import PostgresServer, postgres_server
from tests.support.server import minilogin_dev

from minilogin.storage.errors import is_unavailable

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "outage-test-admin-token-0123456789"
CACHE_TTL = 0.5


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        server.psql('CREATE DATABASE "minilogin"')
        yield server


def unavailable(response: httpx.Response) -> bool:
    return (
        response.status_code == 503
        and response.headers.get("retry-after") == "1"
        and response.json()["error"] == "temporarily_unavailable"
        and bool(response.json()["message"])
    )


async def test_a_database_outage_answers_503_then_recovers_at_once(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    with minilogin_dev(
        tmp_path,
        MINILOGIN_DATABASE_URL=postgres.url("minilogin"),
        MINILOGIN_ADMIN_TOKEN=ADMIN_TOKEN,
        MINILOGIN_CONFIG_CACHE_TTL=str(CACHE_TTL),
        MINILOGIN_RATE_LIMIT_SCALE="0",
    ) as server:
        issuer = server.issuer()
        discovery_url = f"{issuer}/.well-known/openid-configuration"
        jwks_url = f"{issuer}/oidc/jwks"
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        origin = {"Origin": server.public}
        async with httpx.AsyncClient(timeout=20) as web:
            browser = Browser(web, issuer)
            phone = Phone(web, server.public, f"user-{uuid.uuid4().hex[:8]}")
            discovery = (await web.get(discovery_url)).json()
            jwks = (await web.get(jwks_url)).json()
            login = await browser.create()
            appid, scene = await browser.read_code(login)
            warm = await web.get(
                f"{issuer}/api/qrcodes/{login.id}", headers={**origin, **login.auth}
            )
            assert warm.is_success, warm.text

            postgres.stop()
            try:
                # Past the cache's time to live: what is served now comes from a stale copy.
                await asyncio.sleep(CACHE_TTL * 2)
                during = {
                    "discovery": web.get(discovery_url, headers=origin),
                    "jwks": web.get(jwks_url, headers=origin),
                    "status, cross-origin": web.get(
                        f"{issuer}/api/qrcodes/{login.id}", headers={**origin, **login.auth}
                    ),
                    "unknown pool": web.get(
                        f"{server.public}/pools/nope/.well-known/openid-configuration"
                    ),
                    "admin": web.get(f"{server.public}/admin/api/pools", headers=admin),
                    "refresh": web.post(
                        f"{issuer}/oidc/token",
                        data={
                            "grant_type": "refresh_token",
                            "refresh_token": "not-a-token",
                            "client_id": "demo",
                        },
                    ),
                    "scan": phone.scan(appid, scene),
                }
                answers = dict(zip(during, await asyncio.gather(*during.values()), strict=True))
                # A burst of everything at once, as browsers keep coming during an outage.
                burst = await asyncio.gather(
                    *(
                        request
                        for _ in range(8)
                        for request in (
                            web.get(f"{server.public}/admin/api/pools", headers=admin),
                            web.post(
                                f"{issuer}/oidc/token",
                                data={"grant_type": "refresh_token", "refresh_token": "x"},
                            ),
                            web.get(f"{server.public}/pools/nope/oidc/jwks", headers=origin),
                            browser.http.post(
                                f"{issuer}/api/qrcodes",
                                json={"client_id": "demo", "code_challenge": "c" * 43},
                                headers=origin,
                            ),
                        )
                    )
                )
            finally:
                postgres.start()

            assert answers["discovery"].status_code == 200
            assert answers["discovery"].json() == discovery
            assert answers["jwks"].status_code == 200
            assert answers["jwks"].json() == jwks
            assert answers["status, cross-origin"].json()["status"] == "pending"
            for name in ("unknown pool", "admin", "refresh"):
                assert unavailable(answers[name]), (name, answers[name].text)
            # The scan reads the configuration (cached) and the mini program's user (the
            # database): either it went through or it waits, but it never fails.
            assert answers["scan"].status_code in (200, 503), answers["scan"].text
            for response in burst:
                assert response.status_code < 500 or unavailable(response), response.text
            assert any(unavailable(response) for response in burst)

            # The first request after the restart succeeds, on a fresh connection.
            pools = await web.get(f"{server.public}/admin/api/pools", headers=admin)
            assert pools.status_code == 200, pools.text
            # A whole login goes through again.
            login = await browser.create()
            appid, scene = await browser.read_code(login)
            scanned = await phone.scan(appid, scene)
            assert scanned.status_code == 200, scanned.text
            confirmed = await phone.confirm(appid, scanned.json()["session"])
            assert confirmed.status_code == 200, confirmed.text
            code = (await browser.status(login))["code"]
            assert (await browser.exchange(login, code)).status_code == 200
        assert "500 Internal Server Error" not in server.log.read_text()


def test_a_connection_refused_while_postgres_shuts_down_is_unavailable() -> None:
    """What SQLAlchemy raised in the fault test (tests/faults) as PostgreSQL stopped: a bare
    ``DBAPIError`` from the adapter's error, raised from asyncpg's 57P03."""
    refused = asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")
    adapted = Exception("the database system is shutting down")
    adapted.__cause__ = refused
    error = sqlalchemy.exc.DBAPIError("SELECT 1", None, adapted)
    error.__cause__ = adapted
    assert not error.connection_invalidated
    assert is_unavailable(error)
    # A statement the database refused is not an outage.
    violated = sqlalchemy.exc.DBAPIError("INSERT", None, Exception("duplicate key"))
    violated.__cause__ = asyncpg.exceptions.UniqueViolationError("duplicate key")
    assert not is_unavailable(violated)
