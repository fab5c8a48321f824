"""The token side (API.md §2): discovery, JWKS, the code exchange and UserInfo, checked the
way a relying party's OIDC library checks them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from tests.conftest import PUBLIC, Clock
from tests.support.actors import Browser, BrowserLogin, Phone

from minilogin.wiring import Services

ISSUER = f"{PUBLIC}/pools/demo"


async def authorized(browser: Browser, phone: Phone) -> tuple[BrowserLogin, str]:
    login = await browser.create(nonce="n-0S6_WzA2Mj")
    appid, scene = await browser.read_code(login)
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session, nickname="Alice")).status_code == 200
    return login, (await browser.status(login))["code"]


async def test_discovery_and_jwks(http: httpx.AsyncClient) -> None:
    meta = (await http.get(f"{ISSUER}/.well-known/openid-configuration")).json()
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == f"{ISSUER}/oidc/token"
    assert meta["jwks_uri"] == f"{ISSUER}/oidc/jwks"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    jwks = await http.get(meta["jwks_uri"])
    assert jwks.headers["cache-control"] == "public, max-age=300"
    keys = jwks.json()["keys"]
    assert {(key["kty"], key["alg"]) for key in keys} == {("RSA", "RS256"), ("EC", "ES256")}
    assert all("d" not in key and "p" not in key for key in keys), "no private key material"
    missing = await http.get(f"{PUBLIC}/pools/nope/.well-known/openid-configuration")
    assert (missing.status_code, missing.json()["error"]) == (404, "unknown_pool")


async def test_the_id_token_verifies_against_the_jwks(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    await phone.set_profile(phone="+8613800138000")
    login, code = await authorized(browser, phone)
    response = await browser.exchange(login, code)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    keys = KeySet.import_key_set((await http.get(f"{ISSUER}/oidc/jwks")).json())
    claims: dict[str, Any] = jwt.decode(tokens["id_token"], keys).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == "demo"
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["amr"] == ["wechat_mp_qrcode"]
    assert claims["phone_number"] == "+8613800138000"
    assert claims["phone_number_verified"] is True
    assert claims["name"] == "Alice"
    assert claims["exp"] > claims["iat"] >= claims["auth_time"] - 1
    info = await http.get(
        f"{ISSUER}/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["phone_number"] == "+8613800138000"


async def test_each_application_chooses_how_its_id_tokens_are_signed(
    http: httpx.AsyncClient, browser: Browser, phone: Phone, services: Services
) -> None:
    keys = KeySet.import_key_set((await http.get(f"{ISSUER}/oidc/jwks")).json())
    for alg in ("RS256", "ES256"):
        pool = await services.pools.get_pool("demo")
        assert pool is not None
        application = await services.applications.get_application(pool.id, "demo")
        assert application is not None
        application.id_token_signed_response_alg = alg
        await services.applications.update_application(application)
        await services.config.changed()
        login, code = await authorized(browser, phone)
        tokens = (await browser.exchange(login, code)).json()
        decoded = jwt.decode(tokens["id_token"], keys, algorithms=[alg])
        assert decoded.header["alg"] == alg
        assert decoded.claims["aud"] == "demo"
        # The access token stays ES256 whatever the application chose: only we read it.
        assert jwt.decode(tokens["access_token"], keys).header["alg"] == "ES256"


async def test_a_code_works_once_and_a_replay_revokes_what_it_issued(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login, code = await authorized(browser, phone)
    first = (await browser.exchange(login, code)).json()
    replay = await browser.exchange(login, code)
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    info = await http.get(
        f"{ISSUER}/oidc/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    assert info.status_code == 401
    assert info.json()["error"] == "invalid_token"
    assert "invalid_token" in info.headers["www-authenticate"]


async def test_a_code_expires_after_60_seconds(
    browser: Browser, phone: Phone, clock: Clock
) -> None:
    login, _ = await authorized(browser, phone)
    clock.advance(61)
    assert (await browser.status(login))["status"] == "expired"


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"code_verifier": "w" * 43}, 400, "invalid_grant"),
        ({"code_verifier": None}, 400, "invalid_grant"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
        ({"code": None}, 400, "invalid_request"),
        ({"client_id": "nope"}, 401, "invalid_client"),
        ({"client_id": None}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": None}, 400, "invalid_request"),
    ],
)
async def test_bad_exchanges(
    http: httpx.AsyncClient,
    browser: Browser,
    phone: Phone,
    change: dict[str, str | None],
    status: int,
    error: str,
) -> None:
    login, code = await authorized(browser, phone)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": login.verifier,
        "client_id": "demo",
    }
    for key, value in change.items():
        if value is None:
            del form[key]
        else:
            form[key] = value
    response = await http.post(f"{ISSUER}/oidc/token", data=form)
    assert (response.status_code, response.json()["error"]) == (status, error)


async def test_the_token_endpoint_wants_a_form(http: httpx.AsyncClient) -> None:
    response = await http.post(f"{ISSUER}/oidc/token", json={"grant_type": "authorization_code"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_userinfo_refuses_missing_and_forged_tokens(http: httpx.AsyncClient) -> None:
    missing = await http.get(f"{ISSUER}/oidc/userinfo")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    forged = await http.get(
        f"{ISSUER}/oidc/userinfo", headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}
    )
    assert (forged.status_code, forged.json()["error"]) == (401, "invalid_token")


async def test_userinfo_by_post_form(
    http: httpx.AsyncClient, browser: Browser, phone: Phone
) -> None:
    login, code = await authorized(browser, phone)
    token = (await browser.exchange(login, code)).json()["access_token"]
    info = await http.post(f"{ISSUER}/oidc/userinfo", data={"access_token": token})
    assert info.status_code == 200
    assert info.json()["name"] == "Alice"
