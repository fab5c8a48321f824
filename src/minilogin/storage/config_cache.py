"""The configuration every login reads (pools, applications, identity sources, each pool's
signing keys), kept in memory for a few seconds.

Creating, scanning, confirming and exchanging a QR login each need the pool, the application
and its identity sources; read from the durable store every time, those lookups were most of a
creation's time (BENCHMARKS.md, "code_pool"). They change only when an administrator changes
them, so each instance keeps what it read for ``ttl`` seconds, and the admin flows call
``changed()`` after every write: it drops this instance's copies and publishes on the
ephemeral store's ``config:changed`` channel, on which every instance listens and drops its
own. The time to live bounds how stale a copy can be when that message does not arrive (a
Redis reconnect) or when the change comes from outside the admin API (the CLI, a migration):
that is how an instance that never restarts starts signing with a key ``rotate-keys`` made.

Misses are cached too (an unknown pool stays unknown for ``ttl``), so a flood of requests for
names that do not exist does not reach the database; the tables are cleared when they grow
past ``MAX_ENTRIES``, which bounds what such a flood can hold. While the database can't be
reached, an expired copy keeps answering (stale if error), so discovery, the JWKS and the
logins of known applications go on through an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Protocol, TypeVar

from minilogin.core.entities import Application, IdentitySource, Pool, SigningKey
from minilogin.storage.ephemeral import keys
from minilogin.storage.ephemeral.base import EphemeralStore
from minilogin.storage.errors import is_unavailable

log = logging.getLogger("minilogin.config_cache")

CHANNEL = keys.CONFIG_CHANGED
#: Entries per table beyond which a table is emptied rather than grown.
MAX_ENTRIES = 10_000
#: How long the listener waits before subscribing again after its subscription failed.
RESUBSCRIBE_DELAY = 1.0

T = TypeVar("T")


class ConfigReader(Protocol):
    """Where configuration is read from: the durable store itself, or the cache over it."""

    async def get_pool(self, slug: str) -> Pool | None: ...
    async def get_application(self, pool_id: str, client_id: str) -> Application | None: ...
    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None: ...
    async def enabled_identity_sources(
        self, pool_id: str, client_id: str
    ) -> list[IdentitySource]: ...


class ConfigSource(ConfigReader, Protocol):
    """What the cache reads from: the configuration, and each pool's signing keys."""

    async def list_signing_keys(self, pool_id: str) -> list[SigningKey]: ...


#: Copies of one kind of row by key, each with the instant it stops being used.
Table = dict[Hashable, tuple[float, T]]


class ConfigCache:
    """Read-through copies of the configuration rows, shared by every request of a process."""

    def __init__(
        self,
        durable: ConfigSource,
        ephemeral: EphemeralStore,
        ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self._durable = durable
        self._ephemeral = ephemeral
        self._ttl = ttl
        self._clock = clock
        self._pools: Table[Pool | None] = {}
        self._applications: Table[Application | None] = {}
        self._sources: Table[IdentitySource | None] = {}
        self._enabled: Table[list[IdentitySource]] = {}
        self._keys: Table[list[SigningKey]] = {}
        # Bumped by every invalidation: a read that began before one must not store what it
        # read, which may predate the change.
        self._generation = 0
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._closing = False

    async def get_pool(self, slug: str) -> Pool | None:
        return await self._read(self._pools, slug, lambda: self._durable.get_pool(slug))

    async def get_application(self, pool_id: str, client_id: str) -> Application | None:
        return await self._read(
            self._applications,
            (pool_id, client_id),
            lambda: self._durable.get_application(pool_id, client_id),
        )

    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None:
        return await self._read(
            self._sources,
            (pool_id, unique_id),
            lambda: self._durable.get_identity_source(pool_id, unique_id),
        )

    async def enabled_identity_sources(self, pool_id: str, client_id: str) -> list[IdentitySource]:
        sources = await self._read(
            self._enabled,
            (pool_id, client_id),
            lambda: self._durable.enabled_identity_sources(pool_id, client_id),
        )
        return list(sources)

    async def get_signing_keys(self, pool_id: str) -> list[SigningKey]:
        """The pool's keys: the same list object until it is read again (the signer made from
        it is kept as long)."""
        return await self._read(
            self._keys, pool_id, lambda: self._durable.list_signing_keys(pool_id)
        )

    def forget_signing_keys(self, pool_id: str) -> None:
        """Read the pool's keys afresh next time (this instance made some)."""
        self._generation += 1
        self._keys.pop(pool_id, None)

    async def changed(self) -> None:
        """Something in the configuration changed: forget it here, and tell every instance."""
        self._forget()
        await self._ephemeral.publish(CHANNEL, "changed")

    async def _read(self, table: Table[T], key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        now = self._clock()
        entry = table.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        generation = self._generation
        try:
            value = await load()
        except Exception as error:
            # Stale beats failing while the database is away: discovery, the JWKS and logins
            # go on with what this instance last read (until a change message drops it).
            if entry is None or not is_unavailable(error):
                raise
            return entry[1]
        if generation == self._generation:
            if len(table) >= MAX_ENTRIES:
                table.clear()
            table[key] = (now + self._ttl, value)
        return value

    def _forget(self) -> None:
        self._generation += 1
        for table in (self._pools, self._applications, self._sources, self._enabled, self._keys):
            table.clear()

    # Listening to the other instances ---------------------------------------------------

    async def start(self) -> None:
        """Listen for other instances' changes; returns once the subscription is open, so a
        change published after this cannot be missed."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="config-cache")
            await self._subscribed.wait()

    async def close(self) -> None:
        if self._listener is not None:
            # A flag as well as the cancel: redis-py may turn a cancellation that lands while
            # it reconnects into a ConnectionError, which the listener survives by design.
            self._closing = True
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _listen(self) -> None:
        while not self._closing:
            try:
                async with self._ephemeral.subscribe(CHANNEL) as messages:
                    # Whatever changed while not subscribed is unknown: start afresh.
                    self._forget()
                    self._subscribed.set()
                    async for _ in messages:
                        self._forget()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("config cache: lost the change channel; subscribing again")
                # Start-up must not hang on it: the time to live still bounds staleness.
                self._subscribed.set()
                await asyncio.sleep(RESUBSCRIBE_DELAY)
