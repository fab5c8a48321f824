"""The ``refresh_token`` grant against in-memory ports: rotation, replay detection that revokes
the family (RFC 9700 §4.14.2), and the checks of RFC 6749 §6."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from minilogin.core.errors import OAuthError
from minilogin.core.tokens import digest
from minilogin.oidc.grants import TokenRequest
from minilogin.oidc.grants.refresh_token import narrowed_scope
from tests.oidc.grants.conftest import ALICE, ISSUER, POOL, SPA, Ports
from tests.oidc.grants.test_authorization_code import issue
from tests.oidc.grants.test_authorization_code import request as code_request


def request(token: object, **form: str) -> TokenRequest:
    body = {"grant_type": "refresh_token", "refresh_token": str(token), **form}
    return TokenRequest(ISSUER, POOL, SPA, body)


async def logged_in(ports: Ports) -> dict[str, object]:
    await issue(ports)
    return await ports.code_grant()(code_request())


async def refused(ports: Ports, req: TokenRequest, error: str = "invalid_grant") -> None:
    with pytest.raises(OAuthError) as raised:
        await ports.refresh_grant()(req)
    assert raised.value.code == error


def jti(ports: Ports, token: object) -> Any:
    assert isinstance(token, str)
    return jwt.decode(token, KeySet.import_key_set(ports.signer.jwks())).claims["jti"]


async def test_a_refresh_rotates_the_token_within_its_family(ports: Ports) -> None:
    first = await logged_in(ports)
    ports.clock.now += 60
    second = await ports.refresh_grant()(request(first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    old = await ports.refresh_tokens.find_refresh_token(digest(str(first["refresh_token"])))
    new = await ports.refresh_tokens.find_refresh_token(digest(str(second["refresh_token"])))
    assert old is not None
    assert new is not None
    assert old.used_at is not None
    assert new.used_at is None
    assert new.family_id == old.family_id
    id_token = jwt.decode(str(second["id_token"]), KeySet.import_key_set(ports.signer.jwks()))
    # OIDC Core §12.2: the original auth_time, no nonce.
    assert id_token.claims["auth_time"] == old.auth_time
    assert "nonce" not in id_token.claims
    assert ports.audit.actions[-1] == "token.refreshed"


async def test_a_replayed_token_revokes_its_whole_family(ports: Ports) -> None:
    first = await logged_in(ports)
    second = await ports.refresh_grant()(request(first["refresh_token"]))
    await refused(ports, request(first["refresh_token"]))
    [old] = [t for t in ports.refresh_tokens.tokens.values() if t.used_at is not None]
    family = ports.refresh_tokens.family(old.family_id)
    assert len(family) == 2
    assert all(token.revoked_at is not None for token in family)
    assert {jti(ports, first["access_token"]), jti(ports, second["access_token"])} <= (
        ports.revoked.ids
    )
    assert ports.audit.actions[-1] == "token.refresh_reused"
    assert ports.audit.events[-1].detail == {"family": old.family_id, "revoked": 2}
    # The thief's token is dead, and so is the rightful holder's newer one.
    await refused(ports, request(second["refresh_token"]))


async def test_a_blocked_user_can_no_longer_refresh(ports: Ports) -> None:
    first = await logged_in(ports)
    ports.users.users[ALICE.id] = replace(ALICE, blocked=True)
    await refused(ports, request(first["refresh_token"]))
    assert all(t.used_at is None for t in ports.refresh_tokens.tokens.values())


async def test_an_expired_token_is_refused(ports: Ports) -> None:
    first = await logged_in(ports)
    ports.clock.now += SPA.refresh_token_lifetime
    await refused(ports, request(first["refresh_token"]))


async def test_another_clients_token_is_unknown(ports: Ports) -> None:
    first = await logged_in(ports)
    other = replace(request(first["refresh_token"]), client=replace(SPA, client_id="other"))
    await refused(ports, other)


async def test_a_refresh_may_narrow_the_scope_but_not_widen_it(ports: Ports) -> None:
    first = await logged_in(ports)
    await refused(ports, request(first["refresh_token"], scope="openid email"), "invalid_scope")
    narrowed = await ports.refresh_grant()(request(first["refresh_token"], scope="openid"))
    assert narrowed["scope"] == "openid"
    assert narrowed_scope("openid phone", "phone") == "openid phone"


async def test_no_token_is_an_invalid_request(ports: Ports) -> None:
    await refused(ports, request(""), "invalid_request")
