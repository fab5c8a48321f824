"""RP-initiated logout: the registered ``post_logout_redirect_uri`` only, with ``state``; the
client's refresh tokens for the user revoked; an expired ``id_token_hint`` still accepted."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Clock
from tests.oidc.conftest import ISSUER, SPA, refresh, spa_tokens, userinfo_status
from tests.support.actors import Phone

pytestmark = pytest.mark.usefixtures("relying_parties")
BACK = "https://spa.example/"


async def test_logout_revokes_the_grant_and_returns_to_the_registered_page(
    http: httpx.AsyncClient, phone: Phone, clock: Clock
) -> None:
    tokens = await spa_tokens(http, phone)
    clock.advance(7200)  # the ID token has expired: still a good hint (§2)
    response = await http.get(
        f"{ISSUER}/oidc/session/end",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": BACK,
            "state": "bye-1",
        },
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(BACK)
    assert parse_qs(urlsplit(location).query) == {"state": ["bye-1"]}
    assert (await refresh(http, tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def test_logout_by_form_post(http: httpx.AsyncClient, phone: Phone) -> None:
    tokens = await spa_tokens(http, phone)
    response = await http.post(
        f"{ISSUER}/oidc/session/end",
        data={"id_token_hint": tokens["id_token"], "client_id": SPA},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "You are logged out" in response.text
    assert await userinfo_status(http, tokens["access_token"]) == 401


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (
            {"post_logout_redirect_uri": "https://evil.example/"},
            "post_logout_redirect_uri_mismatch",
        ),
        (
            {"client_id": SPA, "post_logout_redirect_uri": "https://evil.example/"},
            "post_logout_redirect_uri_mismatch",
        ),
        ({"id_token_hint": "not-a-jwt"}, "invalid_id_token_hint"),
        ({"client_id": "nobody"}, "unknown_client"),
    ],
)
async def test_nobody_is_sent_anywhere_unregistered(
    http: httpx.AsyncClient, params: dict[str, str], code: str
) -> None:
    response = await http.get(f"{ISSUER}/oidc/session/end", params=params)
    assert response.status_code in (400, 404)
    assert "location" not in response.headers
    assert f'data-testid="error">{code}<' in response.text


async def test_a_hint_for_another_client_than_named_is_refused(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    tokens = await spa_tokens(http, phone)
    response = await http.get(
        f"{ISSUER}/oidc/session/end",
        params={"id_token_hint": tokens["id_token"], "client_id": "demo"},
    )
    assert response.status_code == 400
    assert (await refresh(http, tokens["refresh_token"])).status_code == 200


async def test_logout_without_anything_just_says_so(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{ISSUER}/oidc/session/end")
    assert response.status_code == 200
    assert "你已退出登录" in response.text
