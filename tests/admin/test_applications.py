"""Applications administered directly through their use case, on a SQLite store."""

from __future__ import annotations

import pytest
from tests.admin.conftest import ACTOR, CodesMade, Invalidations

from minilogin.admin import applications, connections, pools
from minilogin.admin.applications import ApplicationPorts
from minilogin.admin.connections import ConnectionPorts
from minilogin.admin.pools import PoolPorts
from minilogin.core.entities import ApplicationType, Pool
from minilogin.core.errors import InvalidRequest, NotFound
from minilogin.core.tokens import digest
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.sql import SqlStore


async def never_called(app_id: str, app_secret: str) -> None:
    raise AssertionError("a platform source is not tested against WeChat")


@pytest.fixture
def ports(store: SqlStore, config: Invalidations, audit: AuditLog) -> ApplicationPorts:
    return ApplicationPorts(
        pools=store, applications=store, sources=store, config=config, audit=audit
    )


@pytest.fixture
async def pool(store: SqlStore, config: Invalidations, audit: AuditLog) -> Pool:
    ports = PoolPorts(pools=store, config=config, audit=audit)
    return await pools.create_pool(ports, ACTOR, {"slug": "acme", "name": "Acme"})


async def test_a_web_application_shows_its_secret_once_and_keeps_only_its_digest(
    ports: ApplicationPorts, store: SqlStore, pool: Pool
) -> None:
    fields = {"name": "Shop", "type": "web", "redirect_uris": ["https://shop.example/cb"]}
    created, secret = await applications.create_application(ports, ACTOR, "acme", fields)
    assert created.type is ApplicationType.WEB
    assert secret is not None
    stored = await store.get_application(pool.id, created.client_id)
    assert stored is not None
    assert stored.client_secret_hash == digest(secret)

    rotated, new_secret = await applications.rotate_secret(ports, ACTOR, "acme", created.client_id)
    assert new_secret != secret
    assert rotated.client_secret_hash == digest(new_secret)


async def test_a_single_page_application_has_no_secret_to_rotate(
    ports: ApplicationPorts, pool: Pool
) -> None:
    created, secret = await applications.create_application(ports, ACTOR, "acme", {"name": "SPA"})
    assert secret is None
    with pytest.raises(InvalidRequest, match="no_client_secret"):
        await applications.rotate_secret(ports, ACTOR, "acme", created.client_id)


async def test_an_identity_source_is_offered_to_an_application_and_withdrawn(
    ports: ApplicationPorts, store: SqlStore, config: Invalidations, audit: AuditLog, pool: Pool
) -> None:
    sources = ConnectionPorts(
        pools=store,
        sources=store,
        config=config,
        audit=audit,
        test_credentials=never_called,
        codes=CodesMade(),
        qr_expires_in=120,
    )
    await connections.create_connection(
        sources, ACTOR, "acme", {"unique_id": "wx", "display_name": "WeChat"}
    )
    application, _ = await applications.create_application(ports, ACTOR, "acme", {"name": "SPA"})
    client_id = application.client_id

    await applications.switch_connection(ports, ACTOR, "acme", client_id, "wx", enabled=True)
    found = await applications.get_application(ports, "acme", client_id)
    assert await applications.enabled_connections(store, found) == ["wx"]
    await applications.switch_connection(ports, ACTOR, "acme", client_id, "wx", enabled=False)
    assert await applications.enabled_connections(store, found) == []

    await applications.delete_application(ports, ACTOR, "acme", client_id)
    with pytest.raises(NotFound, match="unknown_client"):
        await applications.get_application(ports, "acme", client_id)
    await audit.flush()
    events = await store.search_audit_events(pool.id, action_prefixes=("admin.connection.",))
    assert [(e.action, e.detail.get("client_id")) for e in events[:2]] == [
        ("admin.connection.disabled", client_id),
        ("admin.connection.enabled", client_id),
    ]
