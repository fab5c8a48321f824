"""``MINILOGIN_POOL_DOMAIN``: each pool answers on ``https://{pool}.{domain}`` as its issuer,
same paths at the root, while ``{public}/pools/{pool}`` keeps working as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from minilogin.config import Settings
from minilogin.web.pool_domain import pool_of_host
from tests.conftest import PUBLIC, sandbox_settings
from tests.support.actors import Browser, Phone

SUBDOMAIN = "https://demo.login.test"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sandbox_settings(PUBLIC, tmp_path, pool_domain="login.test")


def test_the_pool_is_the_first_label_under_the_domain() -> None:
    assert pool_of_host("acme.login.test", "login.test") == "acme"
    assert pool_of_host("ACME.login.test:8443", "login.test") == "acme"
    assert pool_of_host("login.test", "login.test") is None
    assert pool_of_host("a.b.login.test", "login.test") is None
    assert pool_of_host("acme.evil-login.test", "login.test") is None
    assert pool_of_host("-x.login.test", "login.test") is None


async def test_discovery_on_the_subdomain_names_the_subdomain_issuer(
    http: httpx.AsyncClient,
) -> None:
    meta = (await http.get(f"{SUBDOMAIN}/.well-known/openid-configuration")).json()
    assert meta["issuer"] == SUBDOMAIN
    assert meta["token_endpoint"] == f"{SUBDOMAIN}/oidc/token"
    path_based = (await http.get(f"{PUBLIC}/pools/demo/.well-known/openid-configuration")).json()
    assert path_based["issuer"] == f"{PUBLIC}/pools/demo"
    unknown = await http.get("https://nope.login.test/.well-known/openid-configuration")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_pool")


async def test_a_whole_login_on_the_subdomain_issues_its_tokens(
    http: httpx.AsyncClient, phone: Phone
) -> None:
    browser = Browser(http, SUBDOMAIN)
    login = await browser.create()
    assert login.image_url.startswith(f"{SUBDOMAIN}/api/qrcodes/")
    appid, scene = await browser.read_code(login)
    session = (await phone.scan(appid, scene)).json()["session"]
    assert (await phone.confirm(appid, session)).status_code == 200
    code = (await browser.status(login))["code"]
    tokens = (await browser.exchange(login, code)).json()
    keys = KeySet.import_key_set((await http.get(f"{SUBDOMAIN}/oidc/jwks")).json())
    claims: dict[str, Any] = jwt.decode(tokens["id_token"], keys).claims
    assert claims["iss"] == SUBDOMAIN
    info = await http.get(
        f"{SUBDOMAIN}/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200
    # A token of one issuer is not accepted by the other.
    other = await http.get(
        f"{PUBLIC}/pools/demo/oidc/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert other.status_code == 401


async def test_shared_paths_are_served_on_every_host(http: httpx.AsyncClient) -> None:
    script = await http.get(f"{SUBDOMAIN}/static/minilogin.js")
    assert script.status_code == 200
    assert "MiniLogin" in script.text
