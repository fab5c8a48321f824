"""The ephemeral store's interface.

A handful of atomic primitives over string values (and first-in first-out lists of them)
with a time to live, plus publish/subscribe. Every typed record (QR logins, authorization
codes, mini program sessions, the WeChat access-token cache, rate-limit counters) is built
on these in ``records.py``, so a second implementation only has to get these few operations
right, and the contract tests in ``tests/storage/ephemeral/contract.py`` say exactly what
"right" is.

Atomicity is per call and holds across processes for implementations that are shared (Redis).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Final, Protocol

#: What ``Subscription.next`` returns instead of a message to say "read what you watch again":
#: after the subscription was lost and made again (what was published meanwhile is gone, as
#: pub/sub may always lose it), and when ``resync()`` asks for it. Never a published message.
RESYNC: Final = ""

#: A wait's time-out ends on the next multiple of this many seconds of the event loop's clock,
#: so that the waits running out within one tick are woken together (``Mailbox.get``).
TICK: Final = 0.02


class Mailbox:
    """One subscriber's messages, first in first out, for one reader at a time.

    Waiting for the next one with a time-out raises nothing when the time is up: a long poll
    that ends without news is the common case (every browser's re-poll), and ``asyncio.timeout``
    would raise and catch a ``TimeoutError`` for each, whose traceback keeps the request's
    frames in reference cycles until the next full collection. Here a timer simply wakes the
    reader. Cancelling the reader's task still cancels its wait, as any await.

    The timer is rounded up to the event loop's next ``TICK``: every browser's re-poll waits
    out such a time-out, and a timer of its own wakes the idle process once for each, a sleep
    and a wake-up of the event loop's, mostly the kernel's work. A hello-world that answered
    after such a one-second wait cost the server 1.40-1.46 times one answered at once, both
    sent as re-polls are (200 connections, one request a second each); on a 20 ms tick,
    1.06-1.08 times (issue 17, BENCHMARKS.md). The waits running out within one tick are then
    answered in one wake-up. A wait so ends up to one tick late on the loop's clock, never
    early; a message still ends it at once."""

    __slots__ = ("_messages", "_waiter")

    def __init__(self) -> None:
        self._messages: deque[str] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, message: str) -> None:
        self._messages.append(message)
        _wake(self._waiter)

    def empty(self) -> bool:
        return not self._messages

    async def get(self, timeout: float | None = None) -> str | None:
        """The oldest message, waiting for one for ``timeout`` seconds (forever when ``None``),
        rounded up to the next ``TICK``; ``None`` when the time is up first."""
        if not self._messages:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            timer = None
            if timeout is not None:
                timer = loop.call_at(_on_tick(loop.time() + timeout), _wake, waiter)
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
            if not self._messages:
                return None
        return self._messages.popleft()


def _on_tick(when: float) -> float:
    return math.ceil(when / TICK) * TICK


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Subscription(Protocol):
    async def next(self, timeout: float) -> str | None:
        """The next message published after the subscription began, ``RESYNC``, or ``None``
        after ``timeout`` seconds without either."""
        ...

    def resync(self) -> None:
        """Make the waiting (or the next) ``next`` return ``RESYNC``."""
        ...

    def __aiter__(self) -> AsyncIterator[str]: ...


class EphemeralStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def get_many(self, keys: list[str]) -> list[str | None]:
        """The values of ``keys``, in their order (``None`` for a missing one), in one
        operation: one round trip to a shared store, where ``get`` each costs one."""
        ...

    async def set(self, key: str, value: str, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds, replacing what was there."""
        ...

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Store only if ``key`` holds nothing; ``True`` when stored."""
        ...

    async def compare_and_set(self, key: str, expected: str, value: str, ttl: float) -> bool:
        """Replace the value only if it is still ``expected``; ``True`` when replaced."""
        ...

    async def take(self, key: str) -> str | None:
        """Read and delete in one step: of two concurrent takers only one gets the value."""
        ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl: float, by: int = 1) -> int:
        """Add ``by`` (one unless said) and return the new count; the time to live starts at
        the first increment."""
        ...

    async def push(self, key: str, value: str, ttl: float) -> int:
        """Append ``value`` to the list at ``key`` (a key holds a value or a list, never
        both); the whole list then lives ``ttl`` seconds. The list's new length."""
        ...

    async def pop(self, key: str) -> str | None:
        """Remove and return the oldest value of the list: of two concurrent poppers each
        gets a different value, or ``None`` once the list is empty."""
        ...

    async def length(self, key: str) -> int:
        """How many values the list at ``key`` holds (0 for none)."""
        ...

    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """Messages published on ``channel`` while the context is open."""
        ...

    async def close(self) -> None: ...
