"""The Redis ephemeral store: what lets any number of instances act as one service.

Every operation of ``EphemeralStore`` is one Redis command or one Lua script, so each is atomic
across every instance sharing the server: ``add`` is ``SET NX``, ``take`` is ``GETDEL``
(Redis ≥ 6.2), ``pop`` is ``LPOP``, ``get_many`` is ``MGET``; ``compare_and_set``, ``incr``
and ``push`` are scripts. Every key is written with a time to live and under the ``prefix``
setting, so several deployments can share one server.

Publish/subscribe runs over **one** connection per store (per process): local subscribers of a
channel share one server-side subscription, and one reader task fans each message out to them.
Ten thousand browsers waiting on one instance are ten thousand queues in memory, not ten
thousand Redis connections. Subscribing returns only once Redis has confirmed the subscription
(its confirmations come back in order on that connection), so a status read after
``subscribe()`` can never miss a change published in between: the contract's "read after
subscribe". Commands go through a bounded pool, so a burst of requests waits for a connection
instead of opening one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Literal

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from minilogin.storage.ephemeral.base import RESYNC, Mailbox

log = logging.getLogger("minilogin.redis")

#: Replace only when the value is still the expected one (a missing key never matches).
_COMPARE_AND_SET = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""

#: Count, and start the window's time to live at the first increment only.
_INCREMENT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
"""

#: Append to a list and give the whole list the time to live.
_PUSH = """
local length = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return length
"""

#: How long a subscriber waits for Redis to confirm its subscription before giving up. Under
#: a flood (ten thousand browsers arriving at once) the confirmation waits for the event loop
#: as long as the requests ahead of it take, so this is generous: slow beats failed.
SUBSCRIBE_TIMEOUT = 30.0
#: The reader's pause after losing the connection, before it reconnects.
RECONNECT_DELAY = 0.5
#: How long closing waits for the subscriber connection's tasks to stop by themselves.
CLOSE_TIMEOUT = 2.0


def _milliseconds(ttl: float) -> int:
    # Redis keeps whole milliseconds; rounding up never ends a value before its time.
    return max(1, math.ceil(ttl * 1000))


class RedisSubscription:
    """One local subscriber's queue of messages, filled by the store's reader task."""

    def __init__(self) -> None:
        self._mailbox = Mailbox()
        self._open = True

    def deliver(self, message: str) -> None:
        self._mailbox.put(message)

    def resync(self) -> None:
        self._mailbox.put(RESYNC)

    def close(self) -> None:
        self._open = False

    async def next(self, timeout: float) -> str | None:
        if not self._open and self._mailbox.empty():
            return None
        return await self._mailbox.get(timeout)

    async def __aiter__(self) -> AsyncIterator[str]:
        while self._open or not self._mailbox.empty():
            message = await self._mailbox.get()
            if message is not None:
                yield message


class _Channel:
    """The local subscribers of one channel, and whether Redis has confirmed it."""

    __slots__ = ("ready", "subscribers")

    def __init__(self, ready: asyncio.Future[None]) -> None:
        self.subscribers: set[RedisSubscription] = set()
        self.ready = ready


class _PubSubHub:
    """The one subscriber connection of a store: a writer task sends SUBSCRIBE/UNSUBSCRIBE in
    order (in batches when many arrive at once), a reader task confirms subscriptions and fans
    messages out. Neither is ever cancelled by a subscriber going away, so one browser closing
    its tab can't break the connection everyone shares."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pubsub: PubSub | None = None
        self._channels: dict[str, _Channel] = {}
        # Futures waiting for Redis to confirm a SUBSCRIBE, per channel, in the order sent.
        self._confirmations: dict[str, deque[asyncio.Future[None]]] = {}
        self._outbox: list[tuple[Literal["SUBSCRIBE", "UNSUBSCRIBE"], str]] = []
        self._outbox_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._starting: asyncio.Lock = asyncio.Lock()
        self._closed = False

    async def _started(self) -> PubSub:
        if self._closed:
            raise RuntimeError("the Redis store is closed")
        async with self._starting:
            if self._pubsub is None:
                pubsub = self._redis.pubsub()
                # The reader needs the connection before the first SUBSCRIBE goes out.
                # (redis-py leaves PubSub.connect and PubSub.aclose unannotated.)
                await pubsub.connect()  # type: ignore[no-untyped-call]
                self._pubsub = pubsub
                self._tasks = [
                    asyncio.create_task(self._write(pubsub), name="redis-pubsub-writer"),
                    asyncio.create_task(self._read(pubsub), name="redis-pubsub-reader"),
                ]
            return self._pubsub

    @contextlib.asynccontextmanager
    async def subscribe(self, name: str) -> AsyncIterator[RedisSubscription]:
        await self._started()
        channel = self._channels.get(name)
        if channel is None:
            channel = _Channel(asyncio.get_running_loop().create_future())
            self._channels[name] = channel
            self._confirmations.setdefault(name, deque()).append(channel.ready)
            self._send("SUBSCRIBE", name)
        subscription = RedisSubscription()
        channel.subscribers.add(subscription)
        try:
            # Shielded: a caller cancelled while waiting must not cancel the shared future.
            await asyncio.wait_for(asyncio.shield(channel.ready), SUBSCRIBE_TIMEOUT)
            yield subscription
        finally:
            subscription.close()
            channel.subscribers.discard(subscription)
            if not channel.subscribers and self._channels.get(name) is channel:
                del self._channels[name]
                self._send("UNSUBSCRIBE", name)

    def _send(self, command: Literal["SUBSCRIBE", "UNSUBSCRIBE"], name: str) -> None:
        self._outbox.append((command, name))
        self._outbox_ready.set()

    async def _write(self, pubsub: PubSub) -> None:
        # Stopped by ``_closed`` rather than cancelled: redis-py may swallow a cancellation
        # that lands in the middle of a command.
        while not self._closed:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            batch, self._outbox = self._outbox, []
            # Runs of the same command go out as one; their order per channel is kept.
            start = 0
            while start < len(batch):
                command = batch[start][0]
                end = start
                while end < len(batch) and batch[end][0] == command:
                    end += 1
                names = [name for _, name in batch[start:end]]
                try:
                    if command == "SUBSCRIBE":
                        await pubsub.subscribe(*names)
                    else:
                        await pubsub.unsubscribe(*names)
                except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                    log.warning("redis %s of %d channels failed: %s", command, len(names), error)
                    if command == "SUBSCRIBE":
                        self._fail(names, error)
                start = end

    def _fail(self, names: list[str], error: Exception) -> None:
        for name in names:
            waiting = self._confirmations.pop(name, None)
            for future in waiting or ():
                if not future.done():
                    future.set_exception(error)
            channel = self._channels.get(name)
            if channel is not None and channel.ready.done():
                del self._channels[name]

    async def _read(self, pubsub: PubSub) -> None:
        while not self._closed:
            try:
                message = await pubsub.get_message(timeout=None)
            except (RedisConnectionError, RedisTimeoutError, OSError, RuntimeError) as error:
                if self._closed:
                    return
                # redis-py reconnects and subscribes again to every channel on the next read;
                # what was published meanwhile is lost, as pub/sub always may lose it.
                log.warning("redis subscriber connection lost: %s", error)
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        name = message["channel"]
        if kind == "message":
            channel = self._channels.get(name)
            # Before the confirmation the message belongs to an earlier subscription of the
            # same name, published before these subscribers began: not theirs.
            if channel is not None and channel.ready.done():
                for subscription in channel.subscribers:
                    subscription.deliver(message["data"])
        elif kind == "subscribe":
            waiting = self._confirmations.get(name)
            if waiting:
                future = waiting.popleft()
                if not waiting:
                    del self._confirmations[name]
                if not future.done():
                    future.set_result(None)
            else:
                # No SUBSCRIBE of ours is waiting: redis-py subscribed again after losing the
                # connection. What was published in between is lost: each subscriber reads
                # what it watches again (after this confirmation, so nothing more is missed).
                channel = self._channels.get(name)
                if channel is not None and channel.ready.done():
                    for subscription in channel.subscribers:
                        subscription.resync()

    async def close(self) -> None:
        self._closed = True
        self._outbox_ready.set()
        for task in self._tasks[1:]:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_TIMEOUT)
        for waiting in self._confirmations.values():
            for future in waiting:
                if not future.done():
                    future.cancel()
        self._confirmations.clear()
        self._channels.clear()
        if self._pubsub is not None:
            # Closing the connection also ends a reader that missed its cancellation.
            await self._pubsub.aclose()
            self._pubsub = None
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


class RedisStore:
    """``EphemeralStore`` on Redis. ``prefix`` namespaces keys and channels; at most
    ``max_connections`` connections carry commands, plus one for subscriptions."""

    def __init__(self, url: str, *, prefix: str = "minilogin:", max_connections: int = 64) -> None:
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections + 1, decode_responses=True, timeout=10
        )
        self._redis: Redis = Redis(connection_pool=pool)
        self._prefix = prefix
        self._compare_and_set = self._redis.register_script(_COMPARE_AND_SET)
        self._increment = self._redis.register_script(_INCREMENT)
        self._push = self._redis.register_script(_PUSH)
        self._hub = _PubSubHub(self._redis)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._key(key))
        return None if value is None else str(value)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []  # MGET needs a key
        values = await self._redis.mget([self._key(key) for key in keys])
        return [None if value is None else str(value) for value in values]

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._redis.set(self._key(key), value, px=_milliseconds(ttl))

    async def add(self, key: str, value: str, ttl: float) -> bool:
        stored = await self._redis.set(self._key(key), value, px=_milliseconds(ttl), nx=True)
        return bool(stored)

    async def compare_and_set(self, key: str, expected: str, value: str, ttl: float) -> bool:
        replaced = await self._compare_and_set(
            keys=[self._key(key)], args=[expected, value, _milliseconds(ttl)]
        )
        return bool(replaced)

    async def take(self, key: str) -> str | None:
        value = await self._redis.getdel(self._key(key))
        return None if value is None else str(value)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def incr(self, key: str, ttl: float, by: int = 1) -> int:
        count = await self._increment(keys=[self._key(key)], args=[_milliseconds(ttl), by])
        return int(count)

    async def push(self, key: str, value: str, ttl: float) -> int:
        length = await self._push(keys=[self._key(key)], args=[value, _milliseconds(ttl)])
        return int(length)

    async def pop(self, key: str) -> str | None:
        value = await self._redis.lpop(self._key(key))
        return None if value is None else str(value)

    async def length(self, key: str) -> int:
        return int(await self._redis.llen(self._key(key)))

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(self._key(channel), message)

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[RedisSubscription]:
        return self._hub.subscribe(self._key(channel))

    async def close(self) -> None:
        await self._hub.close()
        await self._redis.aclose()
        await self._redis.connection_pool.disconnect()
