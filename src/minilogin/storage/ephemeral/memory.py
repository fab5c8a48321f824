"""The in-process ephemeral store: the default for one process on a laptop.

Every operation runs without awaiting between its read and its write, so on one event loop
each is atomic without a lock. Expired keys are dropped when read and swept now and then.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from minilogin.storage.ephemeral.base import RESYNC, Mailbox


class MemorySubscription:
    def __init__(self) -> None:
        self.mailbox = Mailbox()

    async def next(self, timeout: float) -> str | None:
        return await self.mailbox.get(timeout)

    def resync(self) -> None:
        self.mailbox.put(RESYNC)

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            message = await self.mailbox.get()
            if message is not None:
                yield message


class MemoryStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[str, float]] = {}
        self._lists: dict[str, tuple[deque[str], float]] = {}
        self._subscribers: defaultdict[str, set[MemorySubscription]] = defaultdict(set)
        self._writes = 0

    def _live(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        value, deadline = entry
        if self._clock() >= deadline:
            del self._values[key]
            return None
        return value

    def _put(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, self._clock() + ttl)
        self._writes += 1
        if self._writes % 10_000 == 0:
            self._sweep()

    def _sweep(self) -> None:
        now = self._clock()
        for key in [k for k, (_, deadline) in self._values.items() if now >= deadline]:
            del self._values[key]

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        return [self._live(key) for key in keys]

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._put(key, value, ttl)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._put(key, value, ttl)
        return True

    async def compare_and_set(self, key: str, expected: str, value: str, ttl: float) -> bool:
        if self._live(key) != expected:
            return False
        self._put(key, value, ttl)
        return True

    async def take(self, key: str) -> str | None:
        value = self._live(key)
        if value is not None:
            del self._values[key]
        return value

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)
        self._lists.pop(key, None)

    async def incr(self, key: str, ttl: float, by: int = 1) -> int:
        entry = self._values.get(key)
        current = self._live(key)
        if current is None or entry is None:
            self._put(key, str(by), ttl)
            return by
        count = int(current) + by
        self._values[key] = (str(count), entry[1])
        return count

    def _list(self, key: str) -> deque[str] | None:
        entry = self._lists.get(key)
        if entry is None:
            return None
        values, deadline = entry
        if self._clock() >= deadline or not values:
            del self._lists[key]
            return None
        return values

    async def push(self, key: str, value: str, ttl: float) -> int:
        values = self._list(key) or deque()
        values.append(value)
        self._lists[key] = (values, self._clock() + ttl)
        return len(values)

    async def pop(self, key: str) -> str | None:
        values = self._list(key)
        return values.popleft() if values else None

    async def length(self, key: str) -> int:
        values = self._list(key)
        return len(values) if values else 0

    async def publish(self, channel: str, message: str) -> None:
        for subscription in self._subscribers.get(channel, ()):
            subscription.mailbox.put(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[MemorySubscription]:
        subscription = MemorySubscription()
        self._subscribers[channel].add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers[channel]
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[channel]

    async def close(self) -> None:
        self._values.clear()
        self._lists.clear()
