"""Identity sources administered directly through their use case, on a SQLite store, with
WeChat's answer to a credential test played by the test."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from tests.admin.conftest import ACTOR, CodesMade, Invalidations

from minilogin.admin import connections, pools
from minilogin.admin.connections import ConnectionPorts
from minilogin.admin.pools import PoolPorts
from minilogin.core.entities import Pool
from minilogin.core.errors import InvalidFields, NotFound, UpstreamError
from minilogin.lookups import logo_url
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.sql import SqlStore

ISSUER = "https://id.example/pools/acme"
PRIVATE = {
    "unique_id": "own",
    "display_name": "Our mini program",
    "private_deployment": True,
    "app_id": "wx0123456789abcdef",
    "app_secret": "0123456789abcdef0123456789abcdef",
}


class WeChat:
    """Answers credential tests: refuses the pairs it is told to, with WeChat's errcode."""

    def __init__(self) -> None:
        self.tested: list[tuple[str, str]] = []
        self.refuse: int | None = None

    async def __call__(self, app_id: str, app_secret: str) -> None:
        self.tested.append((app_id, app_secret))
        if self.refuse is not None:
            raise UpstreamError("wechat_invalid_credentials", errcode=self.refuse)


@pytest.fixture
def wechat() -> WeChat:
    return WeChat()


@pytest.fixture
def ports(
    store: SqlStore, config: Invalidations, audit: AuditLog, wechat: WeChat
) -> ConnectionPorts:
    return ConnectionPorts(
        pools=store,
        sources=store,
        config=config,
        audit=audit,
        test_credentials=wechat,
        codes=CodesMade(),
        qr_expires_in=90,
    )


@pytest.fixture
async def pool(store: SqlStore, config: Invalidations, audit: AuditLog) -> Pool:
    ports = PoolPorts(pools=store, config=config, audit=audit)
    return await pools.create_pool(ports, ACTOR, {"slug": "acme", "name": "Acme"})


async def test_a_refused_app_id_is_an_error_of_its_field_and_nothing_is_saved(
    ports: ConnectionPorts, store: SqlStore, wechat: WeChat, pool: Pool
) -> None:
    wechat.refuse = connections.UNKNOWN_APP_ID
    with pytest.raises(InvalidFields) as refused:
        await connections.create_connection(ports, ACTOR, "acme", PRIVATE)
    assert [problem.code for problem in refused.value.problems] == ["app_id_rejected"]
    assert await store.list_identity_sources(pool.id) == []

    wechat.refuse = 40125
    with pytest.raises(InvalidFields, match="app_secret_rejected"):
        await connections.create_connection(ports, ACTOR, "acme", PRIVATE)


async def test_only_a_new_pair_is_tested_and_the_settings_lifetime_is_the_default(
    ports: ConnectionPorts, wechat: WeChat, pool: Pool
) -> None:
    source = await connections.create_connection(ports, ACTOR, "acme", PRIVATE)
    assert source.qr_expires_in == 90
    await connections.update_connection(ports, ACTOR, "acme", "own", {"display_name": "Ours"})
    await connections.update_connection(ports, ACTOR, "acme", "own", {"app_secret": "f" * 32})
    assert wechat.tested == [
        (PRIVATE["app_id"], PRIVATE["app_secret"]),
        (PRIVATE["app_id"], "f" * 32),
    ]


async def test_a_logo_is_re_encoded_versioned_and_removed(
    ports: ConnectionPorts, store: SqlStore, pool: Pool
) -> None:
    await connections.create_connection(
        ports, ACTOR, "acme", {"unique_id": "wx", "display_name": "WeChat"}
    )
    with pytest.raises(NotFound, match="no_logo"):
        await connections.logo(store, store, "acme", "wx")
    picture = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(picture, "JPEG")

    source = await connections.set_logo(ports, ACTOR, "acme", "wx", picture.getvalue())
    served = await connections.logo(store, store, "acme", "wx")
    assert served.logo is not None
    assert served.logo.startswith(b"\x89PNG")
    assert logo_url(ISSUER, served) == f"{ISSUER}/connections/wx/logo.png?v={source.logo_version}"

    removed = await connections.set_logo(ports, ACTOR, "acme", "wx", None)
    assert removed.logo is None
    assert logo_url(ISSUER, removed) is None
    listed = await connections.list_connections(store, store, "acme")
    assert [(found.unique_id, used) for found, used in listed] == [("wx", [])]
