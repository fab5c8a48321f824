"""The pool store (``storage/sql/pools.py``) on every backend of ``stores``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from tests.storage.sql.given import T0, a_pool, a_source, an_identity, raise_code, raw_rows

from minilogin.core.entities import Application, AuditEvent, Pool, User
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql import SqlStores, make_engine


async def test_a_new_pool_gets_an_id_and_a_utc_creation_time(stores: SqlStores) -> None:
    before = datetime.now(UTC)
    pool = await a_pool(stores)
    assert pool.id.startswith("pool_")
    assert pool.created_at is not None
    assert pool.created_at.tzinfo is UTC
    assert before <= pool.created_at <= datetime.now(UTC)
    assert await stores.pools.get_pool("demo") == pool


async def test_a_pool_keeps_the_id_time_and_logo_it_was_given(stores: SqlStores) -> None:
    in_beijing = datetime(2026, 11, 21, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    given = Pool(slug="acme", name="Acme", id="pool_acme", logo_url="https://x/logo.png")
    given.created_at = in_beijing
    pool = await stores.pools.create_pool(given)
    assert pool == await stores.pools.get_pool("acme")
    assert pool.id == "pool_acme"
    assert pool.logo_url == "https://x/logo.png"
    assert pool.created_at == T0
    assert pool.created_at is not None
    assert pool.created_at.tzinfo is UTC


async def test_an_unknown_pool_is_none(stores: SqlStores) -> None:
    assert await stores.pools.get_pool("nope") is None


async def test_a_pool_slug_is_unique(stores: SqlStores) -> None:
    await a_pool(stores)
    await raise_code(stores.pools.create_pool(Pool(slug="demo", name="x")), Conflict, "pool_exists")
    assert len(await stores.pools.list_pools()) == 1


async def test_pools_are_listed_oldest_first(stores: SqlStores) -> None:
    for minutes, slug in [(2, "c"), (0, "a"), (1, "b")]:
        await stores.pools.create_pool(
            Pool(slug=slug, name=slug, created_at=T0 + timedelta(minutes=minutes))
        )
    assert [pool.slug for pool in await stores.pools.list_pools()] == ["a", "b", "c"]


async def test_naive_datetimes_are_refused(stores: SqlStores) -> None:
    with pytest.raises(ValueError, match="naive"):
        await stores.pools.create_pool(Pool(slug="x", name="x", created_at=datetime(2026, 1, 1)))


async def test_deleting_a_pool_deletes_everything_in_it(
    stores: SqlStores, database_url: str
) -> None:
    pool = await a_pool(stores)
    await stores.applications.create_application(
        Application(pool_id=pool.id, client_id="a", name="A")
    )
    await a_source(stores, pool)
    await stores.identity_sources.enable_identity_source(pool.id, "a", "wechat-mp-qrcode")
    await stores.users.create_user(User(pool_id=pool.id), an_identity(pool))
    await stores.audit_events.add_audit_events([AuditEvent(pool_id=pool.id, action="kept")])

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM pools"))
    finally:
        await engine.dispose()

    for table in (
        "applications",
        "identity_sources",
        "application_identity_sources",
        "users",
        "wechat_identities",
    ):
        assert await raw_rows(database_url, f"SELECT * FROM {table}") == [], table  # noqa: S608
    assert [event.action for event in await stores.audit_events.list_audit_events(pool.id)] == [
        "kept"
    ]


async def test_a_pool_changes_its_name_and_logo_but_never_its_slug(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    changed = Pool(
        slug="renamed", name="Renamed", id=pool.id, logo_url="https://x/l.png", created_at=T0
    )
    updated = await stores.pools.update_pool(changed)
    assert (updated.slug, updated.name, updated.logo_url) == ("demo", "Renamed", "https://x/l.png")
    assert updated.created_at == pool.created_at
    assert await stores.pools.get_pool("demo") == updated
    assert await stores.pools.get_pool("renamed") is None
    await raise_code(
        stores.pools.update_pool(Pool(slug="x", name="x", id="pool_missing")),
        NotFound,
        "unknown_pool",
    )


async def test_deleting_a_pool_through_the_store_takes_its_contents(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    await stores.applications.create_application(
        Application(pool_id=pool.id, client_id="a", name="A")
    )
    user = await stores.users.create_user(User(pool_id=pool.id))
    await stores.pools.delete_pool(pool.id)
    assert await stores.pools.get_pool("demo") is None
    assert await stores.applications.get_application(pool.id, "a") is None
    assert await stores.users.get_user(pool.id, user.id) is None
    await raise_code(stores.pools.delete_pool(pool.id), NotFound, "unknown_pool")
