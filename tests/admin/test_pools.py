"""Pools administered directly through their use case, on a SQLite store."""

from __future__ import annotations

import pytest
from tests.admin.conftest import ACTOR, Invalidations

from minilogin.admin import pools
from minilogin.admin.pools import PoolPorts
from minilogin.core.errors import NotFound
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.sql import SqlStore


@pytest.fixture
def ports(store: SqlStore, config: Invalidations, audit: AuditLog) -> PoolPorts:
    return PoolPorts(pools=store, config=config, audit=audit)


async def test_a_pool_is_created_changed_and_deleted_with_its_audit_trail(
    ports: PoolPorts, store: SqlStore, config: Invalidations, audit: AuditLog
) -> None:
    created = await pools.create_pool(ports, ACTOR, {"slug": "acme", "name": "Acme"})
    assert (created.slug, created.name) == ("acme", "Acme")
    assert [pool.slug for pool in await pools.list_pools(store)] == ["acme"]

    unchanged = await pools.update_pool(ports, ACTOR, "acme", {"name": "Acme"})
    assert unchanged.name == "Acme"
    renamed = await pools.update_pool(ports, ACTOR, "acme", {"name": "Acme Corp"})
    assert (await pools.get_pool(store, "acme")).name == renamed.name == "Acme Corp"

    await pools.delete_pool(ports, ACTOR, "acme")
    with pytest.raises(NotFound, match="unknown_pool"):
        await pools.get_pool(store, "acme")

    # Every change, and only a change, drops the cached configuration and is logged.
    assert config.count == 3
    await audit.flush()
    events = await store.search_audit_events(created.id, action_prefixes=("admin.",))
    assert [(e.action, e.actor, e.ip, e.subject) for e in reversed(events)] == [
        ("admin.pool.created", "alice", "203.0.113.7", "acme"),
        ("admin.pool.updated", "alice", "203.0.113.7", "acme"),
        ("admin.pool.deleted", "alice", "203.0.113.7", "acme"),
    ]
    assert events[1].detail == {"changed": ["name"]}


async def test_changing_an_unknown_pool_changes_nothing(
    ports: PoolPorts, config: Invalidations
) -> None:
    with pytest.raises(NotFound, match="unknown_pool"):
        await pools.update_pool(ports, ACTOR, "nobody", {"name": "X"})
    with pytest.raises(NotFound, match="unknown_pool"):
        await pools.delete_pool(ports, ACTOR, "nobody")
    assert config.count == 0
