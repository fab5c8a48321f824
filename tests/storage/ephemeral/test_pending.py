"""The cap on pending entries (``storage/ephemeral/pending.py``) on the memory store and on a
real Redis shared by two instances: it holds under a concurrent flood, an ended entry makes
room at once, an expired one within a bucket's width."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from tests.support.redis_server import RedisServer

from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.pending import PendingCount
from minilogin.storage.ephemeral.redis import RedisStore

LIFETIME = 600.0
CAP = 10


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
async def instances(
    request: pytest.FixtureRequest, clock: Clock
) -> AsyncIterator[list[PendingCount]]:
    """Two instances' counts over one store."""
    if request.param == "memory":
        stores: list[EphemeralStore] = [MemoryStore()]
    else:
        server: RedisServer = request.getfixturevalue("redis")
        prefix = f"pending-{uuid.uuid4().hex[:8]}:"
        stores = [RedisStore(server.url(), prefix=prefix) for _ in range(2)]
    yield [PendingCount(stores[n % len(stores)], "auth", LIFETIME, clock) for n in range(2)]
    for store in stores:
        await store.close()


async def test_a_flood_from_two_instances_never_passes_the_cap(
    instances: list[PendingCount],
) -> None:
    reserved = await asyncio.gather(*(instances[n % 2].reserve(CAP) for n in range(60)))
    kept = [bucket for bucket in reserved if bucket is not None]
    # Racing for the last places, several may all be refused: never more than CAP kept.
    assert len(kept) <= CAP
    assert await instances[0].pending() == len(kept)
    # Once the race is over the places left are taken one by one, and then none.
    while len(kept) < CAP:
        bucket = await instances[1].reserve(CAP)
        assert bucket is not None
        kept.append(bucket)
    assert await instances[0].reserve(CAP) is None
    assert await instances[1].pending() == CAP


async def test_an_ended_entry_makes_room_at_once(
    instances: list[PendingCount], clock: Clock
) -> None:
    buckets = [await instances[0].reserve(CAP) for _ in range(CAP)]
    assert await instances[1].reserve(CAP) is None
    clock.now += 200  # a later bucket: the entry ends in its own
    first = buckets[0]
    assert first is not None
    await instances[1].end(first)
    assert await instances[0].pending() == CAP - 1
    assert await instances[0].reserve(CAP) is not None
    assert await instances[1].reserve(CAP) is None


async def test_expired_entries_leave_the_count_within_a_bucket(
    instances: list[PendingCount], clock: Clock
) -> None:
    for _ in range(CAP):
        assert await instances[0].reserve(CAP) is not None
    clock.now += LIFETIME - 1
    assert await instances[1].reserve(CAP) is None, "still alive"
    clock.now += 1 + instances[0].retry_after
    assert await instances[1].pending() == 0
    assert await instances[1].reserve(CAP) is not None
    assert instances[0].retry_after == 60
