"""The Redis ephemeral store: the contract every ephemeral store passes, on a real Redis, plus
what only a shared server adds: several stores (instances) acting as one, namespaces, times to
live on every key, and one subscriber connection however many subscribers there are."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from tests.storage.ephemeral.contract import LONG, PATIENCE, QUIET, EphemeralStoreContract
from tests.support.redis_server import RedisServer

from minilogin.storage.ephemeral.base import RESYNC, EphemeralStore
from minilogin.storage.ephemeral.redis import RedisStore


class TestRedisStore(EphemeralStoreContract):
    @pytest.fixture
    async def store(self, redis: RedisServer) -> AsyncIterator[EphemeralStore]:
        store = RedisStore(redis.url(), prefix="contract:")
        yield store
        await store.close()


@pytest.fixture
async def raw(redis: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A plain client, to look at the server the way an operator would."""
    client = aioredis.Redis.from_url(redis.url(), decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def instances(
    redis: RedisServer, prefix: str
) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Two stores on one server with the same prefix: two instances of one deployment."""
    first, second = RedisStore(redis.url(), prefix=prefix), RedisStore(redis.url(), prefix=prefix)
    yield first, second
    await first.close()
    await second.close()


async def test_two_instances_see_one_store(instances: tuple[RedisStore, RedisStore]) -> None:
    first, second = instances
    await first.set("login", "pending", LONG)
    assert await second.get("login") == "pending"
    assert await second.compare_and_set("login", "pending", "scanned", LONG) is True
    assert await first.compare_and_set("login", "pending", "cancelled", LONG) is False
    assert await first.get("login") == "scanned"


async def test_transitions_are_atomic_across_instances(
    instances: tuple[RedisStore, RedisStore],
) -> None:
    first = instances[0]
    await first.set("code", "grant", LONG)
    await first.set("state", "v0", LONG)
    takes = await asyncio.gather(*(store.take("code") for store in instances for _ in range(25)))
    assert takes.count("grant") == 1
    swaps = await asyncio.gather(
        *(
            store.compare_and_set("state", "v0", f"{n}-{index}", LONG)
            for n, store in enumerate(instances)
            for index in range(25)
        )
    )
    assert swaps.count(True) == 1
    adds = await asyncio.gather(
        *(store.add("lease", str(n), LONG) for n in range(20) for store in instances)
    )
    assert adds.count(True) == 1
    counts = await asyncio.gather(
        *(store.incr("n", LONG) for store in instances for _ in range(50))
    )
    assert sorted(counts) == list(range(1, 101))


async def test_a_change_published_by_one_instance_reaches_subscribers_of_the_other(
    instances: tuple[RedisStore, RedisStore],
) -> None:
    first, second = instances
    # Read after subscribe, across instances: a publish right after subscribing is received,
    # every time.
    for n in range(50):
        async with second.subscribe(f"qrlogin:{n}") as subscription:
            await first.publish(f"qrlogin:{n}", "authorized")
            assert await subscription.next(PATIENCE) == "authorized"


async def test_keys_and_channels_live_under_the_prefix_and_every_key_has_a_ttl(
    redis: RedisServer, raw: aioredis.Redis, prefix: str
) -> None:
    store = RedisStore(redis.url(), prefix=prefix)
    neighbour = RedisStore(redis.url(), prefix=f"other-{prefix}")
    try:
        await store.set("a", "1", LONG)
        await store.add("b", "2", LONG)
        await store.compare_and_set("a", "1", "3", LONG)
        await store.incr("n", LONG)
        await store.incr("n", LONG)
        await neighbour.set("a", "neighbour", LONG)
        assert await store.get("a") == "3"
        assert await neighbour.get("a") == "neighbour"
        keys = sorted([key async for key in raw.scan_iter(match=f"{prefix}*")])
        assert keys == [f"{prefix}a", f"{prefix}b", f"{prefix}n"]
        for key in keys:
            assert 0 < await raw.pttl(key) <= LONG * 1000
        async with store.subscribe("events") as subscription:
            assert await raw.pubsub_numsub(f"{prefix}events") == [(f"{prefix}events", 1)]
            await raw.publish(f"{prefix}events", "from outside")
            assert await subscription.next(PATIENCE) == "from outside"
            async with neighbour.subscribe("events") as other:
                await store.publish("events", "mine")
                assert await other.next(QUIET) is None
    finally:
        await store.close()
        await neighbour.close()


async def test_many_subscribers_share_one_connection(
    redis: RedisServer, raw: aioredis.Redis, prefix: str
) -> None:
    """Ten thousand waiting browsers must not mean ten thousand Redis connections."""
    name = f"instance-{uuid.uuid4().hex[:8]}"
    store = RedisStore(f"{redis.url()}?client_name={name}", prefix=prefix, max_connections=8)
    try:
        count = 2000
        entered = asyncio.Event()
        inside = 0

        async def wait_for_message(n: int) -> str | None:
            nonlocal inside
            async with store.subscribe(f"qrlogin:{n}") as subscription:
                inside += 1
                if inside == count:
                    entered.set()
                return await subscription.next(PATIENCE * 5)

        waiters = [asyncio.create_task(wait_for_message(n)) for n in range(count)]
        await asyncio.wait_for(entered.wait(), PATIENCE * 5)
        clients = [c for c in await raw.client_list() if c.get("name") == name]
        assert len(clients) <= 8 + 1
        assert [int(c["sub"]) for c in clients if int(c["sub"]) > 0] == [count]
        await asyncio.gather(*(store.publish(f"qrlogin:{n}", str(n)) for n in range(count)))
        assert await asyncio.gather(*waiters) == [str(n) for n in range(count)]
        # Every server-side subscription ends with its last local subscriber.
        await _eventually(lambda: _subscriptions(raw, name), 0)
    finally:
        await store.close()


async def _subscriptions(raw: aioredis.Redis, name: str) -> int:
    return sum(int(c["sub"]) for c in await raw.client_list() if c.get("name") == name)


async def _eventually(read: Callable[[], Awaitable[object]], expected: object) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while True:
        value = await read()
        if value == expected:
            return
        assert loop.time() < deadline, f"{value!r} never became {expected!r}"
        await asyncio.sleep(0.01)


async def test_a_subscriber_that_goes_away_while_subscribing_breaks_nothing(
    instances: tuple[RedisStore, RedisStore],
) -> None:
    """Browsers close their tab at any moment; the connection the others share survives."""
    store, publisher = instances

    async def subscribe_and_wait(channel: str) -> str | None:
        async with store.subscribe(channel) as subscription:
            return await subscription.next(PATIENCE)

    doomed = [asyncio.create_task(subscribe_and_wait(f"gone:{n}")) for n in range(200)]
    await asyncio.sleep(0)
    for task in doomed:
        task.cancel()
    await asyncio.gather(*doomed, return_exceptions=True)
    for n in range(20):
        async with store.subscribe(f"gone:{n}") as subscription:
            await publisher.publish(f"gone:{n}", "still works")
            assert await subscription.next(PATIENCE) == "still works"


async def test_subscriptions_come_back_after_the_connection_is_lost(
    instances: tuple[RedisStore, RedisStore], raw: aioredis.Redis
) -> None:
    store, publisher = instances
    async with store.subscribe("survivor") as subscription:
        await publisher.publish("survivor", "before")
        assert await subscription.next(PATIENCE) == "before"
        await raw.client_kill_filter(_type="pubsub")
        # Pub/sub loses what is published while disconnected: once the reader has reconnected
        # and Redis confirmed the subscription again, the subscriber is told to read what it
        # watches again (RESYNC), and messages flow to it as before.
        assert await subscription.next(PATIENCE * 2) == RESYNC
        await publisher.publish("survivor", "after")
        assert await subscription.next(PATIENCE) == "after"
    async with store.subscribe("newcomer") as subscription:
        await publisher.publish("newcomer", "hello")
        assert await subscription.next(PATIENCE) == "hello"


async def test_a_closed_store_refuses_new_subscriptions(redis: RedisServer) -> None:
    store = RedisStore(redis.url())
    async with store.subscribe("c") as subscription:
        pass
    await store.close()
    assert await subscription.next(QUIET) is None
    with pytest.raises(RuntimeError, match="closed"):
        async with store.subscribe("c"):
            pass


async def test_replies_are_parsed_by_hiredis(redis: RedisServer, prefix: str) -> None:
    store = RedisStore(redis.url(), prefix=prefix)
    try:
        await store.set("k", "v", LONG)
        assert await store.get("k") == "v"
        # The connection that carried them, back in the pool: redis-py chose its parser.
        pool = store._redis.connection_pool
        parsers = {type(conn._parser).__name__ for conn in pool._available_connections}
    finally:
        await store.close()
    assert parsers == {"_AsyncHiredisParser"}
