"""The browser's side of a QR login without HTTP: the real QR login records over a memory
store, and in-test stand-ins for the configuration and the code pool, which are ports."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from minilogin.core.entities import Application, AuditEvent, CodeImage, IdentitySource, Pool
from minilogin.core.errors import InvalidRequest, NotFound, Unauthorized
from minilogin.core.qrlogin import QRLogin, RequestContext, Status
from minilogin.login.qrlogin import CreateRequest, QRLoginPorts, authenticate, create
from minilogin.login.waiting import Waiting
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.records import AuthorizationRequests, QRLogins
from minilogin.wechat.types import MiniProgram

NOW = 1_700_000_000.0
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
POOL = Pool(slug="acme", name="Acme", id="pool-1")
SOURCE = IdentitySource(pool_id="pool-1", unique_id="wechat", display_name="WeChat")


class Config:
    """One pool, one application, and the sources enabled for it."""

    def __init__(self, *sources: IdentitySource) -> None:
        self.application = Application(pool_id="pool-1", client_id="web", name="Web")
        self.sources = list(sources)

    async def get_pool(self, slug: str) -> Pool | None:
        return POOL if slug == POOL.slug else None

    async def get_application(self, pool_id: str, client_id: str) -> Application | None:
        return self.application if (pool_id, client_id) == ("pool-1", "web") else None

    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None:
        return next((s for s in self.sources if s.unique_id == unique_id), None)

    async def enabled_identity_sources(self, pool_id: str, client_id: str) -> list[IdentitySource]:
        return list(self.sources)


@dataclass
class Scenes:
    """A code pool that hands out numbered scenes and remembers to whom."""

    recycles: bool = False
    leases: list[tuple[str, str]] = field(default_factory=list)

    async def lease(self, source: IdentitySource, login_id: str) -> str:
        self.leases.append((source.unique_id, login_id))
        return f"scene{len(self.leases):011d}"

    async def image(self, source: IdentitySource, login: QRLogin) -> CodeImage:
        raise AssertionError("no image is asked for here")


class Events:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def add(self, event: AuditEvent) -> None:
        self.events.append(event)


def ports(config: Config, scenes: Scenes, audit: Events | None = None) -> QRLoginPorts:
    store = MemoryStore()
    return QRLoginPorts(
        config=config,
        qrlogins=QRLogins(store, lambda: NOW),
        codepool=scenes,
        mini_program=lambda source: MiniProgram("wx-platform", "secret"),
        requests=AuthorizationRequests(store, lambda: NOW),
        events=store,
        waiting=Waiting(),
        audit=audit or Events(),
        clock=lambda: NOW,
    )


def asked(**changes: str) -> CreateRequest:
    fields = {"client_id": "web", "code_challenge": CHALLENGE, "code_challenge_method": "S256"}
    return CreateRequest(**{**fields, **changes})


async def test_a_new_login_shows_a_leased_scene_and_opens_to_its_secret_only() -> None:
    scenes, audit = Scenes(), Events()
    flow = ports(Config(SOURCE), scenes, audit)

    created = await create(flow, "acme", asked(state="s1"), RequestContext(ip="192.0.2.1"))

    login = created.login
    assert scenes.leases == [("wechat", login.id)]
    assert (login.scene, login.app_id, login.status) == (
        "scene00000000001",
        "wx-platform",
        Status.PENDING,
    )
    assert login.expires_at == NOW + SOURCE.qr_expires_in
    assert (login.state, login.match) == ("s1", None)
    assert await authenticate(flow.qrlogins, "acme", login.id, created.secret) == login
    with pytest.raises(Unauthorized):
        await authenticate(flow.qrlogins, "acme", login.id, "not-the-secret")
    with pytest.raises(Unauthorized):
        await authenticate(flow.qrlogins, "other", login.id, created.secret)
    [event] = audit.events
    assert (event.action, event.actor, event.ip) == ("qrlogin.created", "web", "192.0.2.1")


async def test_recycled_codes_make_every_login_match_numbers() -> None:
    flow = ports(Config(SOURCE), Scenes(recycles=True))

    login = (await create(flow, "acme", asked(), RequestContext())).login

    assert login.match is not None
    assert login.match in login.match_choices


@pytest.mark.parametrize(
    ("pool", "request_", "code"),
    [
        ("nobody", asked(), "unknown_pool"),
        ("acme", asked(client_id="nobody"), "unknown_client"),
        ("acme", asked(connection="nobody"), "unknown_connection"),
        ("acme", asked(code_challenge_method="plain"), "invalid_code_challenge_method"),
        ("acme", asked(state="x" * 513), "invalid_request"),
        ("acme", asked(nonce="x" * 513), "invalid_request"),
    ],
)
async def test_a_refused_request_leaves_no_login_behind(
    pool: str, request_: CreateRequest, code: str
) -> None:
    scenes, audit = Scenes(), Events()
    flow = ports(Config(SOURCE), scenes, audit)

    with pytest.raises((NotFound, InvalidRequest)) as refused:
        await create(flow, pool, request_, RequestContext())

    assert refused.value.code == code
    assert audit.events == []
    assert scenes.leases == []  # each lease would spend a single-use code


async def test_two_sources_need_the_request_to_name_one() -> None:
    other = IdentitySource(pool_id="pool-1", unique_id="private", display_name="Private")
    flow = ports(Config(SOURCE, other), Scenes())

    with pytest.raises(InvalidRequest, match="connection_required"):
        await create(flow, "acme", asked(), RequestContext())
    login = (await create(flow, "acme", asked(connection="private"), RequestContext())).login
    assert login.connection == "private"
