"""The ``refresh_token`` grant: rotation, reuse detection revoking the whole family (and the
access tokens issued with it), scope narrowing, expiry, and OIDC Core §12.2's refreshed ID
token."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from minilogin.wiring import Services
from tests.conftest import Clock
from tests.oidc.conftest import (
    ISSUER,
    SPA,
    SPA_CALLBACK,
    WEB,
    auth_params,
    hosted_login,
    refresh,
    spa_tokens,
    userinfo_status,
)
from tests.support.actors import Phone

pytestmark = pytest.mark.usefixtures("relying_parties")


async def claims_of(http: httpx.AsyncClient, id_token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set((await http.get(f"{ISSUER}/oidc/jwks")).json())
    claims: dict[str, Any] = jwt.decode(id_token, keys).claims
    return claims


async def test_a_refresh_rotates_and_the_refreshed_id_token_keeps_the_login(
    http: httpx.AsyncClient, phone: Phone, clock: Clock
) -> None:
    first = await spa_tokens(http, phone)
    clock.advance(5)
    response = await refresh(http, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    before = await claims_of(http, first["id_token"])
    after = await claims_of(http, second["id_token"])
    assert (after["iss"], after["sub"], after["aud"]) == (
        before["iss"],
        before["sub"],
        before["aud"],
    )
    assert after["auth_time"] == before["auth_time"]
    assert after["iat"] > before["iat"]
    assert "nonce" in before
    assert "nonce" not in after
    assert await userinfo_status(http, second["access_token"]) == 200
    third = await refresh(http, second["refresh_token"])
    assert third.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_its_whole_family(
    http: httpx.AsyncClient, phone: Phone, services: Services
) -> None:
    first = await spa_tokens(http, phone)
    second = (await refresh(http, first["refresh_token"])).json()
    reused = await refresh(http, first["refresh_token"])
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    # The thief's replay also ends the legitimate successor and its access token.
    successor = await refresh(http, second["refresh_token"])
    assert successor.json()["error"] == "invalid_grant"
    assert await userinfo_status(http, second["access_token"]) == 401
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    await services.audit.flush()  # events are written after answering
    actions = [e.action for e in await services.audit_events.list_audit_events(pool.id)]
    assert "token.refresh_reused" in actions


async def test_two_concurrent_uses_of_one_token_let_only_one_through(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    tokens = await spa_tokens(http, phone)
    answers = await asyncio.gather(*(refresh(http, tokens["refresh_token"]) for _ in range(2)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 400]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert (await refresh(http, winner["refresh_token"])).json()["error"] == "invalid_grant"


async def test_a_refresh_may_narrow_the_scope_but_never_widen_it(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    tokens = await spa_tokens(http, phone)
    wider = await refresh(http, tokens["refresh_token"], scope="openid email")
    assert (wider.status_code, wider.json()["error"]) == (400, "invalid_scope")
    narrower = await refresh(http, tokens["refresh_token"], scope="phone")
    assert narrower.status_code == 200
    assert narrower.json()["scope"] == "openid phone"
    claims = await claims_of(http, narrower.json()["id_token"])
    assert "phone_number" in claims
    assert "name" not in claims


async def test_an_expired_refresh_token_is_refused(
    http: httpx.AsyncClient, phone: Phone, clock: Clock
) -> None:
    tokens = await spa_tokens(http, phone)
    clock.advance(30 * 24 * 3600 + 1)
    response = await refresh(http, tokens["refresh_token"])
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "the refresh token has expired",
    }


async def test_a_refresh_token_works_only_for_its_own_client(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    tokens = await spa_tokens(http, phone)
    other = await refresh(http, tokens["refresh_token"], client_id="demo")
    assert other.json()["error"] == "invalid_grant"
    confidential = await refresh(http, tokens["refresh_token"], client_id=WEB)
    assert (confidential.status_code, confidential.json()["error"]) == (401, "invalid_client")
    assert (await refresh(http, tokens["refresh_token"])).status_code == 200


@pytest.mark.parametrize(
    ("token", "error"),
    [("", "invalid_request"), ("made-up", "invalid_grant"), ("x" * 5000, "invalid_grant")],
)
async def test_bad_refresh_tokens_are_oauth_errors(
    http: httpx.AsyncClient, token: str, error: str
) -> None:
    response = await refresh(http, token)
    assert (response.status_code, response.json()["error"]) == (400, error)


async def test_replaying_a_code_also_revokes_the_refresh_tokens_it_gave(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    params, verifier = auth_params()
    done = await hosted_login(http, phone, params, verifier)
    form = {
        "grant_type": "authorization_code",
        "code": done.params["code"],
        "code_verifier": verifier,
        "client_id": SPA,
        "redirect_uri": SPA_CALLBACK,
    }
    first = (await http.post(f"{ISSUER}/oidc/token", data=form)).json()
    replay = await http.post(f"{ISSUER}/oidc/token", data=form)
    assert replay.json()["error"] == "invalid_grant"
    assert (await refresh(http, first["refresh_token"])).json()["error"] == "invalid_grant"
