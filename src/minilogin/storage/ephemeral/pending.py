"""A cap on how many entries of one kind are pending at once, shared by every instance through
the ephemeral store (issue #13: pending ``/oidc/auth`` requests are bounded).

Entries live ``lifetime`` seconds unless they end first. Time is cut into buckets of a tenth of
that lifetime; each bucket counts the entries created in it and, separately, those of them that
ended (every instance only ever increments, which both stores do atomically). An entry created
in the oldest of the last ``BUCKETS + 1`` buckets may still be alive; none older can be. What is
pending is what those buckets created minus what they ended, so an entry leaves the count when
it ends, or within a bucket's width of expiring.

A reservation counts itself first and looks after: of two instances racing for the last place
both may be refused, but the cap is never passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from minilogin.storage.ephemeral.base import EphemeralStore

#: Buckets per lifetime.
BUCKETS = 10


class PendingCount:
    def __init__(
        self,
        store: EphemeralStore,
        name: str,
        lifetime: float,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._name = name
        self._width = lifetime / BUCKETS
        # A bucket's counters are read until BUCKETS buckets after its own have passed.
        self._ttl = lifetime + 2 * self._width
        self._clock = clock

    @property
    def retry_after(self) -> int:
        """Seconds after which a refused caller may find room: a bucket's width at most,
        when the oldest counted entries leave the count."""
        return max(1, round(self._width))

    async def reserve(self, cap: int) -> int | None:
        """Count one more entry unless ``cap`` are pending: the bucket to hand to ``end``
        when the entry ends, or ``None`` when there is no room."""
        bucket = int(self._clock() // self._width)
        await self._store.incr(self._created(bucket), self._ttl)
        if await self.pending(bucket) > cap:
            await self._store.incr(self._ended(bucket), self._ttl)
            return None
        return bucket

    async def end(self, bucket: int) -> None:
        """The entry counted in ``bucket`` ended (call once per entry)."""
        await self._store.incr(self._ended(bucket), self._ttl)

    async def pending(self, bucket: int | None = None) -> int:
        current = int(self._clock() // self._width) if bucket is None else bucket
        buckets = range(current - BUCKETS, current + 1)
        created = await asyncio.gather(*(self._store.get(self._created(b)) for b in buckets))
        ended = await asyncio.gather(*(self._store.get(self._ended(b)) for b in buckets))
        return sum(int(n or 0) for n in created) - sum(int(n or 0) for n in ended)

    def _created(self, bucket: int) -> str:
        return f"pending:{self._name}:{bucket}:created"

    def _ended(self, bucket: int) -> str:
        return f"pending:{self._name}:{bucket}:ended"
