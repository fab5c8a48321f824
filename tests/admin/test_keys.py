"""Rotating a pool's signing keys through its use case, on a SQLite store: the overlap is the
pool's longest token lifetime plus the cache's time to live, and the rotation is logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.admin.conftest import ACTOR, Invalidations

from minilogin.admin import keys
from minilogin.admin.keys import KeyPorts
from minilogin.core.entities import Application, Pool
from minilogin.core.errors import NotFound
from minilogin.storage.audit_log import AuditLog
from minilogin.storage.sql import SqlStore

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CACHE_TTL = 5.0


@pytest.fixture
def ports(store: SqlStore, config: Invalidations, audit: AuditLog) -> KeyPorts:
    return KeyPorts(
        pools=store,
        applications=store,
        keys=store,
        config=config,
        audit=audit,
        clock=NOW.timestamp,
        cache_ttl=CACHE_TTL,
    )


async def test_the_previous_keys_verify_as_long_as_the_longest_token_lives(
    ports: KeyPorts, store: SqlStore, config: Invalidations, audit: AuditLog
) -> None:
    pool = await store.create_pool(Pool(slug="acme", name="Acme"))
    for client_id, id_lifetime, access_lifetime in (("a", 600, 900), ("b", 3600, 60)):
        application = Application(pool_id=pool.id, client_id=client_id, name=client_id)
        application.id_token_lifetime = id_lifetime
        application.access_token_lifetime = access_lifetime
        await store.create_application(application)
    first = await keys.rotate_keys(ports, ACTOR, "acme")
    assert sorted(key.algorithm for key in first.keys) == ["ES256", "RS256"]
    assert first.previous_retire_at == NOW + timedelta(seconds=3600 + CACHE_TTL)
    second = await keys.rotate_keys(ports, ACTOR, "acme")
    stored = {key.kid: key for key in await store.list_signing_keys(pool.id)}
    for key in first.keys:
        assert stored[key.kid].retire_at == second.previous_retire_at
        assert not stored[key.kid].active
    assert all(stored[key.kid].retire_at is None for key in second.keys)
    assert config.count == 2, "every instance is told"
    await audit.flush()
    events = await store.search_audit_events(pool.id, action_prefixes=("admin.keys",))
    assert [event.detail["kids"] for event in reversed(events)] == [
        {key.algorithm: key.kid for key in rotation.keys} for rotation in (first, second)
    ]


async def test_an_unknown_pool_has_no_keys_to_rotate(ports: KeyPorts) -> None:
    with pytest.raises(NotFound, match="unknown_pool"):
        await keys.rotate_keys(ports, ACTOR, "nowhere")
