"""The token endpoint without HTTP: the grant type and the client are checked before any grant
runs, and each grant type reaches its own handler with the request's issuer."""

from __future__ import annotations

import pytest

from minilogin.core.entities import Application, Pool
from minilogin.core.errors import OAuthError
from minilogin.oidc.discovery import metadata
from minilogin.oidc.token import TokenEndpoint
from tests.oidc.grants.conftest import ISSUER, POOL, SPA, Ports, alices_ports
from tests.oidc.grants.test_authorization_code import issue


class Config:
    async def get_pool(self, slug: str) -> Pool | None:
        return POOL if slug == POOL.slug else None

    async def get_application(self, pool_id: str, client_id: str) -> Application | None:
        return SPA if (pool_id, client_id) == (POOL.id, SPA.client_id) else None


@pytest.fixture
def ports() -> Ports:
    return alices_ports()


def endpoint(ports: Ports) -> TokenEndpoint:
    return TokenEndpoint(Config(), Config(), ports.code_grant(), ports.refresh_grant())


async def refused(ports: Ports, pool: str, form: dict[str, str]) -> str:
    with pytest.raises(OAuthError) as raised:
        await endpoint(ports).exchange(ISSUER, pool, form, None)
    return raised.value.code


async def test_the_grant_type_is_checked_first(ports: Ports) -> None:
    assert await refused(ports, "nope", {}) == "invalid_request"
    assert await refused(ports, "nope", {"grant_type": "password"}) == "unsupported_grant_type"
    assert await refused(ports, "nope", {"grant_type": "refresh_token"}) == "invalid_request"


async def test_an_unknown_client_reaches_no_grant(ports: Ports) -> None:
    await issue(ports)
    form = {"grant_type": "authorization_code", "client_id": "nope", "code": "x"}
    assert await refused(ports, POOL.slug, form) == "invalid_client"
    assert ports.audit.actions == [], "no grant ran"


async def test_each_grant_type_reaches_its_handler(ports: Ports) -> None:
    await issue(ports)
    form = {
        "grant_type": "authorization_code",
        "client_id": SPA.client_id,
        "code": "the-one-time-code",
        "code_verifier": "v" * 43,
    }
    body = await endpoint(ports).exchange(ISSUER, POOL.slug, form, None, "198.51.100.7")
    refreshed = await endpoint(ports).exchange(
        ISSUER,
        POOL.slug,
        {
            "grant_type": "refresh_token",
            "client_id": SPA.client_id,
            "refresh_token": str(body["refresh_token"]),
        },
        None,
    )
    assert refreshed["refresh_token"] != body["refresh_token"]
    assert ports.audit.actions == ["token.issued", "token.refreshed"]
    assert ports.audit.events[0].ip == "198.51.100.7"
    # Discovery advertises exactly the grants registered (OIDC Discovery §3).
    advertised = metadata(ISSUER)["grant_types_supported"]
    assert isinstance(advertised, list)
    assert set(endpoint(ports).grants) == set(advertised) == {"authorization_code", "refresh_token"}
