"""Introspection (RFC 7662) and revocation (RFC 7009) without HTTP, against in-memory ports:
a token is active until it is revoked, and only its own client or a resource server learns
about it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from minilogin.core.entities import ApplicationType
from minilogin.core.errors import OAuthError
from minilogin.oidc.introspection import INACTIVE, Introspection, introspect
from minilogin.oidc.revocation import Revocation, revoke
from tests.oidc.grants.conftest import ALICE, ISSUER, POOL, SPA, Ports, alices_ports
from tests.oidc.grants.test_authorization_code import issue
from tests.oidc.grants.test_authorization_code import request as code_request

#: A confidential client of the pool that may learn about every token of it.
RESOURCE_SERVER = replace(SPA, client_id="api", type=ApplicationType.WEB, resource_server=True)
OTHER = replace(SPA, client_id="other", type=ApplicationType.WEB)


@pytest.fixture
def ports() -> Ports:
    return alices_ports()


def readers(ports: Ports) -> Introspection:
    return Introspection(ports.refresh_tokens, ports.revoked, ports.keys, ports.clock)


async def tokens(ports: Ports) -> dict[str, object]:
    await issue(ports)
    return await ports.code_grant()(code_request())


async def test_a_resource_server_sees_both_tokens_until_they_are_revoked(ports: Ports) -> None:
    body = await tokens(ports)
    access = await introspect(
        readers(ports), ISSUER, POOL, RESOURCE_SERVER, {"token": str(body["access_token"])}
    )
    assert (access["active"], access["sub"], access["client_id"]) == (True, ALICE.id, "spa")
    refresh = await introspect(
        readers(ports), ISSUER, POOL, RESOURCE_SERVER, {"token": str(body["refresh_token"])}
    )
    assert (refresh["active"], refresh["token_type"]) == (True, "refresh_token")
    revocation = Revocation(
        ports.refresh_tokens, ports.revoked, ports.keys, ports.audit, ports.clock
    )
    await revoke(revocation, ISSUER, POOL, SPA, {"token": str(body["refresh_token"])}, None)
    for token in (body["access_token"], body["refresh_token"]):
        answer = await introspect(readers(ports), ISSUER, POOL, RESOURCE_SERVER, {"token": token})
        assert answer == INACTIVE
    assert ports.audit.actions[-1] == "token.revoked"


async def test_another_client_learns_nothing(ports: Ports) -> None:
    body = await tokens(ports)
    answer = await introspect(readers(ports), ISSUER, POOL, OTHER, {"token": body["access_token"]})
    assert answer == INACTIVE


async def test_another_issuers_token_is_inactive(ports: Ports) -> None:
    body = await tokens(ports)
    form = {"token": str(body["access_token"])}
    answer = await introspect(readers(ports), "https://elsewhere", POOL, RESOURCE_SERVER, form)
    assert answer == INACTIVE


async def test_a_public_client_may_not_introspect(ports: Ports) -> None:
    with pytest.raises(OAuthError) as raised:
        await introspect(readers(ports), ISSUER, POOL, SPA, {"token": "x"})
    assert (raised.value.code, raised.value.status) == ("invalid_client", 401)


async def test_revoking_another_clients_token_changes_nothing(ports: Ports) -> None:
    body = await tokens(ports)
    revocation = Revocation(
        ports.refresh_tokens, ports.revoked, ports.keys, ports.audit, ports.clock
    )
    for token in (body["access_token"], body["refresh_token"]):
        await revoke(revocation, ISSUER, POOL, OTHER, {"token": str(token)}, None)
    assert ports.revoked.ids == set()
    assert all(t.revoked_at is None for t in ports.refresh_tokens.tokens.values())
    assert "token.revoked" not in ports.audit.actions
