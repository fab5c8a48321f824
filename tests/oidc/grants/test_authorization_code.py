"""The ``authorization_code`` grant against in-memory ports: what a code buys, and every way
it is refused (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3.2)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from minilogin.core.claims import AMR_WECHAT_MP_QRCODE, user_claims
from minilogin.core.entities import Application, ApplicationType
from minilogin.core.errors import OAuthError
from minilogin.core.grants import AuthorizationCode
from minilogin.core.pkce import s256
from minilogin.core.qrlogin import QRLogin, Status
from minilogin.core.tokens import digest
from minilogin.oidc.grants import TokenRequest
from minilogin.oidc.grants.authorization_code import UserCannotLogIn
from tests.oidc.grants.conftest import ALICE, ISSUER, POOL, SPA, T0, Ports

VERIFIER = "v" * 43
CODE = "the-one-time-code"


def grant(**changes: Any) -> AuthorizationCode:
    """The grant as ``login/authorization.py`` writes it, with the claims the scope released."""
    base = AuthorizationCode(
        pool=POOL.slug,
        client_id=SPA.client_id,
        user_id=ALICE.id,
        code_challenge=s256(VERIFIER),
        scope="openid phone",
        auth_time=int(T0) - 5,
        amr=[AMR_WECHAT_MP_QRCODE],
        nonce="n-0S6",
        qrlogin_id="qr_1",
        claims=user_claims(ALICE, "openid phone"),
    )
    return replace(base, **changes)


def authorized_login() -> QRLogin:
    return QRLogin(
        id="qr_1",
        pool=POOL.slug,
        pool_id=POOL.id,
        client_id=SPA.client_id,
        connection="wechat-pc",
        app_id="wx0",
        scene="s",
        secret_hash="h",
        code_challenge=s256(VERIFIER),
        created_at=T0 - 30,
        expires_at=T0 + 60,
        status=Status.AUTHORIZED,
        user_id=ALICE.id,
        code=CODE,
    )


def request(client: Application = SPA, **form: str) -> TokenRequest:
    body = {"grant_type": "authorization_code", "code": CODE, "code_verifier": VERIFIER}
    return TokenRequest(ISSUER, POOL, client, {**body, **form}, "203.0.113.9")


async def issue(ports: Ports, code: AuthorizationCode | None = None) -> None:
    await ports.codes.put(CODE, code or grant(), 60)
    ports.qrlogins.logins["qr_1"] = authorized_login()


def claims(ports: Ports, token: object) -> dict[str, Any]:
    assert isinstance(token, str)
    keys = KeySet.import_key_set(ports.signer.jwks())
    return dict(jwt.decode(token, keys).claims)


async def refused(ports: Ports, req: TokenRequest, error: str = "invalid_grant") -> OAuthError:
    with pytest.raises(OAuthError) as raised:
        await ports.code_grant()(req)
    assert raised.value.code == error
    return raised.value


async def test_a_code_buys_tokens_once_and_ends_its_qr_login(ports: Ports) -> None:
    await issue(ports)
    body = await ports.code_grant()(request())
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid phone"
    id_token = claims(ports, body["id_token"])
    assert (id_token["iss"], id_token["aud"], id_token["sub"]) == (ISSUER, SPA.client_id, ALICE.id)
    assert (id_token["nonce"], id_token["auth_time"]) == ("n-0S6", int(T0) - 5)
    assert claims(ports, body["access_token"])["iss"] == ISSUER
    assert set(ports.keys.asked) == {POOL.id}, "signed with the pool's own keys"
    [stored] = ports.refresh_tokens.tokens.values()
    assert stored.token_hash == digest(str(body["refresh_token"]))
    assert ports.qrlogins.logins["qr_1"].status is Status.CONSUMED
    assert ports.audit.actions == ["token.issued"]
    assert ports.audit.events[0].ip == "203.0.113.9"


async def test_a_wrong_verifier_issues_nothing(ports: Ports) -> None:
    await issue(ports)
    await refused(ports, request(code_verifier="w" * 43))
    assert ports.refresh_tokens.tokens == {}
    assert ports.qrlogins.logins["qr_1"].status is Status.AUTHORIZED
    # The code was used up by the failed attempt: the right verifier comes too late.
    await refused(ports, request())


async def test_a_missing_verifier_is_refused(ports: Ports) -> None:
    await issue(ports)
    form = {"grant_type": "authorization_code", "code": CODE}
    await refused(ports, TokenRequest(ISSUER, POOL, SPA, form))


async def test_a_verifier_for_a_code_without_challenge_is_a_downgrade(ports: Ports) -> None:
    web = Application(
        pool_id=POOL.id,
        client_id="web",
        name="Backend",
        type=ApplicationType.WEB,
        pkce_required=False,
    )
    await issue(ports, grant(client_id="web", code_challenge=None))
    await refused(ports, request(web))


async def test_a_reused_code_revokes_what_its_first_use_issued(ports: Ports) -> None:
    await issue(ports)
    body = await ports.code_grant()(request())
    await refused(ports, request())
    [stored] = ports.refresh_tokens.tokens.values()
    assert stored.revoked_at is not None
    assert claims(ports, body["access_token"])["jti"] in ports.revoked.ids
    assert ports.audit.actions == ["token.issued", "token.code_rejected"]


async def test_an_unknown_code_revokes_nothing(ports: Ports) -> None:
    await refused(ports, request(code="never-issued"))
    assert ports.revoked.ids == set()
    assert ports.audit.actions == ["token.code_rejected"]


async def test_the_tokens_say_what_the_code_carries_without_reading_the_user(
    ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    await issue(ports)
    # Changed since the login: the tokens carry the claims as the login left them.
    ports.users.users[ALICE.id] = replace(ALICE, phone="+8613900139000")

    async def never(pool_id: str, user_id: str) -> None:
        raise AssertionError("the exchange reads no user")

    monkeypatch.setattr(ports.users, "get_user", never)
    body = await ports.code_grant()(request())
    id_token = claims(ports, body["id_token"])
    assert (id_token["phone_number"], id_token["phone_number_verified"]) == (ALICE.phone, True)
    assert "name" not in id_token, "only what the scope released"


async def test_a_user_blocked_since_the_scan_gets_nothing(ports: Ports) -> None:
    await issue(ports)
    ports.users.users[ALICE.id] = replace(ALICE, blocked=True)
    error = await refused(ports, request())
    assert isinstance(error, UserCannotLogIn)
    assert ports.refresh_tokens.tokens == {}
    assert ports.qrlogins.logins["qr_1"].status is Status.AUTHORIZED
    assert ports.codes.issued == {}
    assert ports.audit.actions == []
    # The failed check used the code up: unblocked, the user's retry is too late.
    ports.users.users[ALICE.id] = ALICE
    await refused(ports, request())
    assert ports.refresh_tokens.tokens == {}


async def test_a_deleted_user_gets_nothing(ports: Ports) -> None:
    await issue(ports)
    del ports.users.users[ALICE.id]
    error = await refused(ports, request())
    assert isinstance(error, UserCannotLogIn)
    assert ports.refresh_tokens.tokens == {}


async def test_a_code_an_earlier_version_wrote_reads_its_users_claims(ports: Ports) -> None:
    await issue(ports, grant(claims=None))
    body = await ports.code_grant()(request())
    assert claims(ports, body["id_token"])["phone_number"] == ALICE.phone
    await issue(ports, grant(claims=None))
    ports.users.users[ALICE.id] = replace(ALICE, blocked=True)
    error = await refused(ports, request())
    assert isinstance(error, UserCannotLogIn)
    assert error.user is not None
    assert error.user.blocked


async def test_a_code_of_another_client_is_refused(ports: Ports) -> None:
    await issue(ports, grant(client_id="other"))
    await refused(ports, request())
    assert ports.refresh_tokens.tokens == {}


async def test_the_redirect_uri_of_the_request_must_be_repeated(ports: Ports) -> None:
    await issue(ports, grant(redirect_uri="https://shop.example/cb"))
    await refused(ports, request())
    await issue(ports, grant(redirect_uri="https://shop.example/cb"))
    body = await ports.code_grant()(request(redirect_uri="https://shop.example/cb"))
    assert body["refresh_token"]


async def test_no_code_is_an_invalid_request(ports: Ports) -> None:
    await refused(ports, request(code=""), "invalid_request")


class Outage(Exception):
    """A store that stopped answering: the database or Redis restarting."""


async def test_a_store_down_before_the_code_is_taken_leaves_it_for_the_retry(
    ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    await issue(ports)

    async def down(pool_id: str) -> None:
        raise Outage

    with monkeypatch.context() as outage:
        outage.setattr(ports.keys, "signer", down)
        with pytest.raises(Outage):
            await ports.code_grant()(request())

    body = await ports.code_grant()(request())
    assert claims(ports, body["id_token"])["sub"] == ALICE.id


@pytest.mark.parametrize("claims_in_code", [True, False])
async def test_a_user_read_that_fails_puts_the_code_back_for_the_retry(
    ports: Ports, monkeypatch: pytest.MonkeyPatch, claims_in_code: bool
) -> None:
    """The console's check of a code reads its user, and so does the exchange of a code an
    earlier version wrote."""
    await issue(ports, grant() if claims_in_code else grant(claims=None))

    async def down(pool_id: str, user_id: str) -> None:
        raise Outage

    grants = ports.code_grant()
    check = grants.accept if claims_in_code else grants
    with monkeypatch.context() as outage:
        outage.setattr(ports.users, "get_user", down)
        with pytest.raises(Outage):
            await check(request())
    assert ports.qrlogins.logins["qr_1"].status is Status.AUTHORIZED

    body = await ports.code_grant()(request())
    assert claims(ports, body["id_token"])["sub"] == ALICE.id


async def test_a_store_down_after_the_code_is_taken_puts_it_back_for_the_retry(
    ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    await issue(ports)

    async def down(token: object) -> None:
        raise Outage

    with monkeypatch.context() as outage:
        outage.setattr(ports.refresh_tokens, "add_refresh_token", down)
        with pytest.raises(Outage):
            await ports.code_grant()(request())
    assert ports.refresh_tokens.tokens == {}

    body = await ports.code_grant()(request())
    assert claims(ports, body["id_token"])["sub"] == ALICE.id
    await refused(ports, request())  # and then it is used up, as any code


async def test_a_take_whose_answer_was_lost_puts_the_code_back_once_the_store_returns(
    ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    await issue(ports)
    take, put = ports.codes.take, ports.codes.put
    failing_puts = 2

    async def lost_answer(code: str) -> AuthorizationCode | None:
        await take(code)  # the store did it, and then its connection dropped
        raise Outage

    async def restarting(code: str, grant: AuthorizationCode, ttl: float) -> None:
        nonlocal failing_puts
        if failing_puts:
            failing_puts -= 1
            raise Outage
        await put(code, grant, ttl)

    with monkeypatch.context() as outage:
        outage.setattr(ports.codes, "take", lost_answer)
        outage.setattr(ports.codes, "put", restarting)
        with pytest.raises(Outage):
            await ports.code_grant()(request())
    assert failing_puts == 0

    body = await ports.code_grant()(request())
    assert claims(ports, body["id_token"])["sub"] == ALICE.id
