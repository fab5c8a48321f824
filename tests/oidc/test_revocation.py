"""Revocation (RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from minilogin.core.entities import Application, ApplicationType
from minilogin.core.tokens import digest
from minilogin.wiring import Services
from tests.oidc.conftest import (
    ISSUER,
    SPA,
    WEB,
    WEB_CALLBACK,
    WEB_SECRET,
    auth_params,
    hosted_login,
    refresh,
    spa_tokens,
    userinfo_status,
)
from tests.support.actors import Phone

pytestmark = pytest.mark.usefixtures("relying_parties")


async def revoke(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await http.post(f"{ISSUER}/oidc/revoke", data={"client_id": SPA, **form})


async def introspect(http: httpx.AsyncClient, token: str, **form: str) -> dict[str, Any]:
    response = await http.post(
        f"{ISSUER}/oidc/introspect", data={"token": token, **form}, auth=(WEB, WEB_SECRET)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def web_tokens(http: httpx.AsyncClient, phone: Phone) -> dict[str, Any]:
    params, verifier = auth_params(WEB)
    done = await hosted_login(http, phone, params, verifier)
    response = await http.post(
        f"{ISSUER}/oidc/token",
        data={
            "grant_type": "authorization_code",
            "code": done.params["code"],
            "redirect_uri": WEB_CALLBACK,
            "code_verifier": verifier,
        },
        auth=(WEB, WEB_SECRET),
    )
    body: dict[str, Any] = response.json()
    return body


async def test_revoking_a_refresh_token_ends_its_grant(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    tokens = await spa_tokens(http, phone)
    response = await revoke(http, token=tokens["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200
    assert response.content == b""
    assert (await refresh(http, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert await userinfo_status(http, tokens["access_token"]) == 401


async def test_revoking_an_access_token_ends_only_that_token(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    tokens = await spa_tokens(http, phone)
    assert (await revoke(http, token=tokens["access_token"])).status_code == 200
    assert await userinfo_status(http, tokens["access_token"]) == 401
    assert (await refresh(http, tokens["refresh_token"])).status_code == 200


async def test_unknown_or_foreign_tokens_answer_200_and_change_nothing(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    tokens = await spa_tokens(http, phone)
    assert (await revoke(http, token="made-up")).status_code == 200
    assert (await revoke(http, token="x" * 9000)).status_code == 200
    foreign = await http.post(
        f"{ISSUER}/oidc/revoke", data={"token": tokens["refresh_token"]}, auth=(WEB, WEB_SECRET)
    )
    assert foreign.status_code == 200
    assert (await refresh(http, tokens["refresh_token"])).status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"token": "t", "token_type_hint": "id_token"}, 400, "unsupported_token_type"),
        ({}, 400, "invalid_request"),
        ({"token": "t", "client_id": "nobody"}, 401, "invalid_client"),
        ({"token": "t", "client_id": WEB, "client_secret": "wrong"}, 401, "invalid_client"),
    ],
)
async def test_bad_revocation_requests(
    http: httpx.AsyncClient, form: dict[str, str], status: int, error: str
) -> None:
    response = await revoke(http, **form)
    assert (response.status_code, response.json()["error"]) == (status, error)


async def test_revocation_needs_a_form(http: httpx.AsyncClient) -> None:
    response = await http.post(f"{ISSUER}/oidc/revoke", json={"token": "t", "client_id": SPA})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_introspection_tells_a_resource_server_what_a_token_is(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    await phone.set_profile(phone="+8613500135009")
    tokens = await web_tokens(http, phone)
    access = await introspect(http, tokens["access_token"])
    assert access["active"] is True
    assert access["client_id"] == WEB
    assert access["iss"] == ISSUER
    assert access["scope"] == "openid profile phone"
    assert access["token_type"] == "Bearer"
    refresh_answer = await introspect(
        http, tokens["refresh_token"], token_type_hint="refresh_token"
    )
    assert refresh_answer["active"] is True
    assert refresh_answer["token_type"] == "refresh_token"
    assert refresh_answer["sub"] == access["sub"]
    await http.post(
        f"{ISSUER}/oidc/revoke", data={"token": tokens["refresh_token"]}, auth=(WEB, WEB_SECRET)
    )
    assert await introspect(http, tokens["access_token"]) == {"active": False}
    assert await introspect(http, tokens["refresh_token"]) == {"active": False}
    assert await introspect(http, "garbage") == {"active": False}


async def test_another_client_learns_nothing_unless_it_is_a_resource_server(
    http: httpx.AsyncClient, phone: Phone, services: Services
) -> None:
    pool = await services.pools.get_pool("demo")
    assert pool is not None
    api = await services.applications.create_application(
        Application(
            pool_id=pool.id,
            client_id="orders-api",
            name="Orders API",
            type=ApplicationType.WEB,
            client_secret_hash=digest("orders-api-secret"),
        )
    )
    await phone.set_profile(phone="+8613500135010")
    tokens = await web_tokens(http, phone)

    async def asked_by_the_api() -> dict[str, Any]:
        response = await http.post(
            f"{ISSUER}/oidc/introspect",
            data={"token": tokens["access_token"]},
            auth=("orders-api", "orders-api-secret"),
        )
        body: dict[str, Any] = response.json()
        return body

    assert await asked_by_the_api() == {"active": False}
    api.resource_server = True
    await services.applications.update_application(api)
    await services.config.changed()
    answer = await asked_by_the_api()
    assert (answer["active"], answer["client_id"]) == (True, WEB)


async def test_only_confidential_clients_may_introspect(http: httpx.AsyncClient) -> None:
    public = await http.post(f"{ISSUER}/oidc/introspect", data={"token": "t", "client_id": SPA})
    assert (public.status_code, public.json()["error"]) == (401, "invalid_client")
    assert public.headers["www-authenticate"].startswith("Basic")
    missing = await http.post(f"{ISSUER}/oidc/introspect", data={}, auth=(WEB, WEB_SECRET))
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
