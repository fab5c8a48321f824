"""The console's experience login of a web application, directly through its use case: the
code goes through the token endpoint's own grant (in memory, as in tests/oidc/grants), and
the answer is the user and the claims, with nothing issued."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.admin.conftest import ACTOR
from tests.oidc.grants.conftest import ALICE, ISSUER, POOL, Ports
from tests.oidc.grants.test_authorization_code import VERIFIER, authorized_login, grant

from minilogin.admin.experience import ExperiencePorts, preview
from minilogin.core.entities import Application, ApplicationType, AuditEvent, Pool
from minilogin.core.errors import Forbidden, InvalidRequest
from minilogin.core.qrlogin import Status

WEB = Application(pool_id=POOL.id, client_id="web", name="Back office", type=ApplicationType.WEB)
CODE = "the-experience-code"


class Configuration:
    """The pool and its one application, as the stores answer them."""

    async def get_pool(self, slug: str) -> Pool | None:
        return POOL if slug == POOL.slug else None

    async def get_application(self, pool_id: str, client_id: str) -> Application | None:
        return WEB if (pool_id, client_id) == (POOL.id, WEB.client_id) else None


class AuditLog:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def add(self, event: AuditEvent) -> None:
        self.events.append(event)

    async def flush(self) -> None:
        return None


@pytest.fixture
def ports() -> Ports:
    ports = Ports()
    ports.users.users[ALICE.id] = ALICE
    ports.qrlogins.logins["qr_1"] = replace(authorized_login(), client_id=WEB.client_id, code=CODE)
    return ports


@pytest.fixture
async def experience(ports: Ports) -> tuple[ExperiencePorts, AuditLog]:
    await ports.codes.put(CODE, grant(client_id=WEB.client_id), 60)
    audit = AuditLog()
    config = Configuration()
    return ExperiencePorts(config, config, ports.code_grant(), audit), audit


async def test_the_preview_shows_the_user_and_claims_and_ends_the_qr_login(
    ports: Ports, experience: tuple[ExperiencePorts, AuditLog]
) -> None:
    used, audit = experience
    shown = await preview(used, ACTOR, ISSUER, POOL.slug, WEB.client_id, CODE, VERIFIER)
    assert shown.user.id == ALICE.id
    assert (shown.claims["iss"], shown.claims["aud"], shown.claims["sub"]) == (
        ISSUER,
        WEB.client_id,
        ALICE.id,
    )
    assert shown.claims["nonce"] == "n-0S6"
    assert ports.qrlogins.logins["qr_1"].status is Status.CONSUMED
    assert ports.refresh_tokens.tokens == {}
    [event] = audit.events
    assert (event.action, event.actor, event.subject) == (
        "admin.experience_login",
        "alice",
        ALICE.id,
    )

    # The code is used up: a second look at it is refused.
    with pytest.raises(InvalidRequest, match="invalid_experience_code"):
        await preview(used, ACTOR, ISSUER, POOL.slug, WEB.client_id, CODE, VERIFIER)


async def test_a_wrong_verifier_shows_nothing(
    experience: tuple[ExperiencePorts, AuditLog],
) -> None:
    used, audit = experience
    with pytest.raises(InvalidRequest, match="invalid_experience_code"):
        await preview(used, ACTOR, ISSUER, POOL.slug, WEB.client_id, CODE, "w" * 43)
    assert audit.events == []


async def test_a_blocked_user_is_not_previewed(
    ports: Ports, experience: tuple[ExperiencePorts, AuditLog]
) -> None:
    ports.users.users[ALICE.id] = replace(ALICE, blocked=True)
    used, audit = experience
    with pytest.raises(Forbidden, match="account_blocked"):
        await preview(used, ACTOR, ISSUER, POOL.slug, WEB.client_id, CODE, VERIFIER)
    assert audit.events == []
