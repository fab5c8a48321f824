"""The in-process ephemeral store: the contract, plus what only memory has (its clock, its
sweep of expired keys, its bookkeeping of subscribers)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest
from tests.storage.ephemeral.contract import EphemeralStoreContract

from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.storage.ephemeral.memory import MemoryStore


class TestMemoryStore(EphemeralStoreContract):
    @pytest.fixture
    async def store(self) -> AsyncIterator[EphemeralStore]:
        store = MemoryStore()
        yield store
        await store.close()


def test_memory_store_has_the_shape_of_the_protocol() -> None:
    """Every coroutine of ``EphemeralStore`` is a coroutine here, and ``subscribe`` gives an
    async context manager (mypy checks the signatures; this checks the kinds)."""
    store = MemoryStore()
    for name in ("get", "set", "add", "compare_and_set", "take", "delete", "incr", "publish"):
        assert inspect.iscoroutinefunction(getattr(store, name)), name
        assert inspect.iscoroutinefunction(getattr(EphemeralStore, name)), name
    assert inspect.iscoroutinefunction(store.close)
    manager = store.subscribe("c")
    assert hasattr(manager, "__aenter__")
    assert hasattr(manager, "__aexit__")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryStore:
    return MemoryStore(clock=clock)


async def test_a_value_expires_exactly_at_its_deadline(store: MemoryStore, clock: Clock) -> None:
    await store.set("k", "v", 10)
    clock.now += 9.999
    assert await store.get("k") == "v"
    clock.now += 0.001
    assert await store.get("k") is None
    assert "k" not in store._values  # dropped when read


async def test_every_operation_sees_an_expired_key_as_absent(
    store: MemoryStore, clock: Clock
) -> None:
    for name in ("add", "cas", "take", "incr"):
        await store.set(name, "1", 5)
    clock.now += 5
    assert await store.add("add", "new", 5) is True
    assert await store.compare_and_set("cas", "1", "2", 5) is False
    assert await store.take("take") is None
    assert await store.incr("incr", 5) == 1


async def test_incr_keeps_the_deadline_of_the_first_increment(
    store: MemoryStore, clock: Clock
) -> None:
    assert await store.incr("n", 60) == 1
    clock.now += 59
    assert await store.incr("n", 60) == 2
    assert await store.incr("n", 3600) == 3  # a different TTL later changes nothing
    clock.now += 1
    assert await store.get("n") is None
    assert await store.incr("n", 60) == 1
    clock.now += 59.5
    assert await store.incr("n", 60) == 2


async def test_expired_keys_are_swept_without_being_read(store: MemoryStore, clock: Clock) -> None:
    """Keys nobody reads again (abandoned QR logins) do not pile up in memory."""
    for n in range(100):
        await store.set(f"abandoned:{n}", "x", 120)
    await store.set("alive", "y", 3600)
    clock.now += 121
    # Writes go on; somewhere within the next ten thousand the expired keys are swept.
    for n in range(10_000):
        await store.set(f"fresh:{n % 50}", "z", 3600)
    assert not any(key.startswith("abandoned:") for key in store._values)
    assert await store.get("alive") == "y"
    assert len(store._values) == 51


async def test_the_sweep_keeps_live_keys(store: MemoryStore, clock: Clock) -> None:
    await store.set("short", "s", 10)
    await store.set("long", "l", 1000)
    clock.now += 10
    store._sweep()
    assert set(store._values) == {"long"}
    assert await store.get("long") == "l"


async def test_leaving_a_subscription_leaves_no_trace(store: MemoryStore) -> None:
    async with store.subscribe("a") as first, store.subscribe("a") as second:
        assert store._subscribers["a"] == {first, second}
    assert "a" not in store._subscribers
    await store.publish("a", "nobody listens")
    assert "a" not in store._subscribers
    assert first.mailbox.empty()
    assert second.mailbox.empty()


async def test_close_forgets_every_value(store: MemoryStore) -> None:
    await store.set("a", "1", 60)
    await store.incr("n", 60)
    await store.close()
    assert await store.get("a") is None
    assert await store.incr("n", 60) == 1
