"""The configuration cache, as instances see it: a change made through one instance reaches
every instance at once (through the ephemeral store, in process or on a real Redis), a change
made behind the service's back shows after the time to live, and a read that began before a
change never stores what it read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from tests.conftest import Clock
from tests.support.redis_server import RedisServer

from minilogin.core.entities import Application, IdentitySource, Pool
from minilogin.oidc.keys import generate_key
from minilogin.storage.config_cache import ConfigCache
from minilogin.storage.crypto import SecretBox
from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.redis import RedisStore
from minilogin.storage.sql import SqlStore, upgrade_async

TTL = 3600.0  # long: what these tests see before it runs out came through invalidation

#: Two instances' ephemeral stores: one shared object in process, or two clients of one Redis.
StorePair = Callable[[], Awaitable[tuple[EphemeralStore, EphemeralStore]]]


@pytest.fixture
async def durable(tmp_path: Path) -> AsyncIterator[SqlStore]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'minilogin.db'}"
    await upgrade_async(url)
    store = await SqlStore.open(url, SecretBox("k" * 43))
    yield store
    await store.close()


@pytest.fixture(params=["memory", "redis"])
async def ephemerals(request: pytest.FixtureRequest) -> AsyncIterator[list[EphemeralStore]]:
    if request.param == "memory":
        shared = MemoryStore()
        yield [shared, shared]
        await shared.close()
        return
    server: RedisServer = request.getfixturevalue("redis")
    prefix = f"cache-{uuid.uuid4().hex[:8]}:"
    stores: list[EphemeralStore] = [RedisStore(server.url(), prefix=prefix) for _ in range(2)]
    yield stores
    for store in stores:
        await store.close()


@pytest.fixture
async def instances(
    durable: SqlStore, ephemerals: list[EphemeralStore], clock: Clock
) -> AsyncIterator[list[ConfigCache]]:
    caches = [ConfigCache(durable, store, TTL, clock) for store in ephemerals]
    for cache in caches:
        await cache.start()
    yield caches
    for cache in caches:
        await cache.close()


async def a_pool_with_an_application(durable: SqlStore) -> tuple[Pool, Application]:
    pool = await durable.create_pool(Pool(slug="shop", name="Shop"))
    application = await durable.create_application(
        Application(pool_id=pool.id, client_id="web", name="Web")
    )
    await durable.create_identity_source(
        IdentitySource(pool_id=pool.id, unique_id="scan", display_name="扫码")
    )
    await durable.enable_identity_source(pool.id, "web", "scan")
    return pool, application


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    """Whether ``check`` holds within ``seconds``: a message between instances takes a moment."""
    for _ in range(int(seconds / 0.01)):
        if await check():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_change_through_one_instance_reaches_every_instance(
    durable: SqlStore, instances: list[ConfigCache]
) -> None:
    first, second = instances
    pool, application = await a_pool_with_an_application(durable)
    for cache in instances:
        assert [s.unique_id for s in await cache.enabled_identity_sources(pool.id, "web")] == [
            "scan"
        ]
        assert (await cache.get_application(pool.id, "web")) == application

    await durable.disable_identity_source(pool.id, "web", "scan")
    application.name = "Web shop"
    await durable.update_application(application)
    await first.changed()

    assert await first.enabled_identity_sources(pool.id, "web") == []

    async def second_sees_it() -> bool:
        renamed = await second.get_application(pool.id, "web")
        return (
            renamed is not None
            and renamed.name == "Web shop"
            and await second.enabled_identity_sources(pool.id, "web") == []
        )

    assert await eventually(second_sees_it)


async def test_a_change_behind_the_service_shows_after_the_time_to_live(
    durable: SqlStore, instances: list[ConfigCache], clock: Clock
) -> None:
    """The CLI on another machine changes the database without telling anyone."""
    cache = instances[0]
    pool, _ = await a_pool_with_an_application(durable)
    assert await cache.get_identity_source(pool.id, "scan") is not None
    await durable.delete_identity_source(pool.id, "scan")
    assert await cache.get_identity_source(pool.id, "scan") is not None  # the copy, for now
    clock.advance(TTL + 1)
    assert await cache.get_identity_source(pool.id, "scan") is None


async def test_unknown_names_are_remembered_until_a_change(
    durable: SqlStore, instances: list[ConfigCache]
) -> None:
    cache = instances[0]
    assert await cache.get_pool("later") is None
    await durable.create_pool(Pool(slug="later", name="Later"))
    assert await cache.get_pool("later") is None  # a flood of unknown names stays in memory
    await cache.changed()
    created = await cache.get_pool("later")
    assert created is not None
    assert created.slug == "later"


async def test_a_read_that_began_before_a_change_does_not_store_what_it_read(
    durable: SqlStore, ephemerals: list[EphemeralStore], clock: Clock
) -> None:
    pool = await durable.create_pool(Pool(slug="shop", name="Before"))
    reading = asyncio.Event()
    release = asyncio.Event()

    class SlowDurable:
        """The database answering a pool read only once ``release`` is set."""

        async def get_pool(self, slug: str) -> Pool | None:
            found = await durable.get_pool(slug)
            reading.set()
            await release.wait()
            return found

        async def get_application(self, pool_id: str, client_id: str) -> Application | None:
            return await durable.get_application(pool_id, client_id)

        async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None:
            return await durable.get_identity_source(pool_id, unique_id)

        async def enabled_identity_sources(
            self, pool_id: str, client_id: str
        ) -> list[IdentitySource]:
            return await durable.enabled_identity_sources(pool_id, client_id)

    cache = ConfigCache(SlowDurable(), ephemerals[0], TTL, clock)
    stale = asyncio.create_task(cache.get_pool("shop"))
    await reading.wait()
    pool.name = "After"
    await durable.update_pool(pool)
    await cache.changed()
    release.set()
    before = await stale
    assert before is not None
    assert before.name == "Before"
    fresh = await cache.get_pool("shop")
    assert fresh is not None
    assert fresh.name == "After"


async def test_callers_get_their_own_list_of_sources(
    durable: SqlStore, instances: list[ConfigCache]
) -> None:
    cache = instances[0]
    pool, _ = await a_pool_with_an_application(durable)
    sources = await cache.enabled_identity_sources(pool.id, "web")
    sources.clear()
    assert len(await cache.enabled_identity_sources(pool.id, "web")) == 1


async def test_a_pools_keys_are_one_list_until_read_again(
    durable: SqlStore, instances: list[ConfigCache], clock: Clock
) -> None:
    """The signer made from a pool's key list is kept while the cache hands the same list:
    after the time to live, a change, or this instance forgetting the pool's keys."""
    cache = instances[0]
    pool, _ = await a_pool_with_an_application(durable)
    empty = await cache.get_signing_keys(pool.id)
    assert empty == []
    assert await cache.get_signing_keys(pool.id) is empty
    await durable.add_signing_key(generate_key("ES256", pool.id))
    assert await cache.get_signing_keys(pool.id) is empty, "the copy, for now"
    cache.forget_signing_keys(pool.id)
    [made] = await cache.get_signing_keys(pool.id)
    assert made.pool_id == pool.id
    listed = await cache.get_signing_keys(pool.id)
    clock.advance(TTL + 1)
    assert await cache.get_signing_keys(pool.id) is not listed
