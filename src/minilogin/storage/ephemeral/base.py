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

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Final, Protocol

#: What ``Subscription.next`` returns instead of a message to say "read what you watch again":
#: after the subscription was lost and made again (what was published meanwhile is gone, as
#: pub/sub may always lose it), and when ``resync()`` asks for it. Never a published message.
RESYNC: Final = ""


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

    async def incr(self, key: str, ttl: float) -> int:
        """Add one and return the new count; the time to live starts at the first increment."""
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
