"""UserInfo (OpenID Connect Core §5.3) without HTTP, against in-memory ports: the claims the
access token's scope releases, and ``invalid_token`` once the token or its user is no good."""

from __future__ import annotations

from dataclasses import replace

import pytest

from minilogin.core.entities import Pool
from minilogin.core.errors import Unauthorized
from minilogin.oidc.userinfo import UserInfo, userinfo
from tests.oidc.grants.conftest import ALICE, ISSUER, POOL, Ports, alices_ports
from tests.oidc.grants.test_authorization_code import issue
from tests.oidc.grants.test_authorization_code import request as code_request


class Pools:
    async def get_pool(self, slug: str) -> Pool | None:
        return POOL if slug == POOL.slug else None


@pytest.fixture
def ports() -> Ports:
    return alices_ports()


def readers(ports: Ports) -> UserInfo:
    return UserInfo(Pools(), ports.users, ports.revoked, ports.keys, ports.clock)


async def access_token(ports: Ports) -> str:
    await issue(ports)
    return str((await ports.code_grant()(code_request()))["access_token"])


async def refused(ports: Ports, token: str, issuer: str = ISSUER, pool: str = "acme") -> None:
    with pytest.raises(Unauthorized) as raised:
        await userinfo(readers(ports), issuer, pool, token)
    assert raised.value.code == "invalid_token"


async def test_the_scope_releases_the_phone(ports: Ports) -> None:
    claims = await userinfo(readers(ports), ISSUER, POOL.slug, await access_token(ports))
    assert claims["sub"] == ALICE.id
    assert (claims["phone_number"], claims["phone_number_verified"]) == (ALICE.phone, True)


async def test_a_revoked_token_is_refused(ports: Ports) -> None:
    token = await access_token(ports)
    [stored] = ports.refresh_tokens.tokens.values()
    assert stored.access_token_id is not None
    ports.revoked.ids.add(stored.access_token_id)
    await refused(ports, token)


async def test_a_blocked_user_is_refused(ports: Ports) -> None:
    token = await access_token(ports)
    ports.users.users[ALICE.id] = replace(ALICE, blocked=True)
    await refused(ports, token)


async def test_an_expired_token_is_refused(ports: Ports) -> None:
    token = await access_token(ports)
    ports.clock.now += 3600
    await refused(ports, token)


async def test_another_issuer_or_pool_is_refused(ports: Ports) -> None:
    token = await access_token(ports)
    await refused(ports, token, issuer="https://elsewhere")
    await refused(ports, token, pool="other")
    await refused(ports, "not-a-jwt")
