"""The audit log's writer: events queued as they happen and written in batches after answering.

Every step of a login writes an event (created, scanned, authorized, exchanged…); written one
transaction each, on the request's path, they were a quarter of a creation's time and the
busiest writes of the database (BENCHMARKS.md). So an event is stamped when it happens and
queued; a background task writes what has gathered every ``audit_flush_interval`` seconds in
one transaction. Readers of the log (the console's dashboard and audit pages) call ``flush``
first, so an instance always shows its own events; other instances' appear within the
interval. The queue is bounded (``audit_max_pending``): past it, the request that adds an
event waits for the queue to be written, so memory cannot grow while the database is slow.

What a crash (kill -9, a lost machine) can lose is what is queued and not yet committed. The
writer holds no event longer than the interval before it starts writing, but a write takes
time too (a transaction on a database busy with the requests), and on a saturated machine the
event loop itself runs late: so in time, the loss is the interval plus one write plus that lag,
which under load is several times the interval. In events, the bound is firm: a request is
answered without waiting for the write only while fewer than ``audit_max_pending`` events are
queued, so at most ``audit_max_pending - 1`` answered requests' events are lost. The shutdown
path (SIGTERM) writes everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from minilogin.core.entities import AuditEvent
from minilogin.ports import AuditStore

log = logging.getLogger("minilogin.audit")

#: Events written in one transaction at most.
MAX_BATCH = 500
#: How long the writer waits after a failed write before it tries again.
RETRY_DELAY = 1.0


class AuditLog:
    """The queue of events not yet written, and the task that writes them."""

    def __init__(self, durable: AuditStore, flush_interval: float, max_pending: int) -> None:
        self._durable = durable
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        self._pending: list[AuditEvent] = []
        # When each pending event was queued (the event loop's clock), oldest first.
        self._queued_at: list[float] = []
        self._writing = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def add(self, event: AuditEvent) -> None:
        self._pending.append(event)
        self._queued_at.append(asyncio.get_running_loop().time())
        if len(self._pending) >= self._max_pending:
            await self.flush()
        else:
            self._wakeup.set()

    async def flush(self) -> None:
        """Write every event added so far, oldest first."""
        async with self._writing:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                await self._durable.add_audit_events(batch)
                del self._pending[: len(batch)]
                del self._queued_at[: len(batch)]

    def start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._run(), name="audit-writer")

    async def close(self) -> None:
        """Stop the writer and write what is left."""
        if self._writer is not None:
            # Cancelled halfway through a write, the writer would leave its transaction open
            # and the database locked; holding the turn, it can only be waiting.
            async with self._writing:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer
            self._writer = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            # Gather what the next moments add, so a burst becomes one transaction; but keep
            # no event waiting longer than the interval (those queued during the last write
            # have waited already).
            if self._queued_at:
                oldest = self._queued_at[0]
                await asyncio.sleep(
                    oldest + self._flush_interval - asyncio.get_running_loop().time()
                )
            self._wakeup.clear()
            try:
                await self.flush()
            except Exception:
                # The events stay queued; a database outage must not stop the writer.
                log.exception("could not write %d audit events; trying again", len(self._pending))
                self._wakeup.set()
                await asyncio.sleep(RETRY_DELAY)
