"""The ephemeral store contract: what every ``EphemeralStore`` must do.

Written once, run against every implementation. To run it against a new one, subclass
``EphemeralStoreContract`` in a ``test_*.py`` module and provide the ``store`` fixture::

    from tests.storage.ephemeral.contract import EphemeralStoreContract

    class TestRedisStore(EphemeralStoreContract):
        @pytest.fixture
        async def store(self) -> AsyncIterator[EphemeralStore]:
            store = RedisStore(url)
            yield store
            await store.close()

The tests make their own key and channel names (``key``, ``channel`` fixtures, unique per
test), so a store shared between tests (one Redis database) is fine. Timing tests use real
short TTLs and poll, so a server-side clock works as well as an in-process one; the whole
suite stays under a few seconds.

Points an implementation might otherwise get wrong: values and messages are any ``str``
(empty, non-ASCII, large); an empty string is a value, not an absence; ``subscribe`` returns
only once the subscription is live (a message published right after entering the context
is delivered); channel names are literal, never patterns; and a subscription whose context
has been left answers ``next`` with ``None`` (it receives nothing more) rather than raising.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import pytest

from minilogin.storage.ephemeral.base import RESYNC, EphemeralStore, Subscription

#: A time to live that has surely not run out between two back-to-back calls.
LONG = 30.0
#: Short TTLs for expiry tests; their sum over the suite stays around a second.
SHORT = 0.15
#: How long to wait for something that must happen "soon" before failing.
PATIENCE = 2.0
#: A subscriber that must not receive anything waits this long to make sure.
QUIET = 0.05


async def eventually(check: Callable[[], Awaitable[bool]], within: float = PATIENCE) -> float:
    """Poll ``check`` until it is true; return the seconds it took. Fails after ``within``."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > within:
            pytest.fail(f"condition not met within {within} s")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def _is_zero(length: Awaitable[int]) -> bool:
    return await length == 0


async def expiry_time(store: EphemeralStore, key: str, started: float) -> float:
    """Poll until ``key`` reads as absent; return the seconds since ``started``."""

    async def gone() -> bool:
        return await store.get(key) is None

    await eventually(gone)
    return time.monotonic() - started


class EphemeralStoreContract:
    """Subclasses provide a ``store`` fixture yielding a working store (fresh or shared)."""

    @pytest.fixture
    def store(self) -> EphemeralStore:
        raise NotImplementedError("a contract subclass provides the store fixture")

    @pytest.fixture
    def key(self) -> Callable[[str], str]:
        """``key("name")``: a key name no other test uses."""
        prefix = f"contract:{uuid.uuid4().hex}:"
        return lambda name: prefix + name

    @pytest.fixture
    def channel(self) -> Callable[[str], str]:
        prefix = f"contract-channel:{uuid.uuid4().hex}:"
        return lambda name: prefix + name

    # --- get / set --------------------------------------------------------------------

    async def test_get_of_a_missing_key_is_none(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        assert await store.get(key("missing")) is None

    async def test_set_then_get(self, store: EphemeralStore, key: Callable[[str], str]) -> None:
        await store.set(key("a"), "1", LONG)
        await store.set(key("b"), "2", LONG)
        assert await store.get(key("a")) == "1"
        assert await store.get(key("b")) == "2"

    async def test_get_many_reads_each_key_in_order_none_for_a_missing_one(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("a"), "1", LONG)
        await store.set(key("b"), "扫码 2", LONG)
        await store.incr(key("count"), LONG, 3)

        read = await store.get_many([key("b"), key("missing"), key("a"), key("count")])

        assert read == ["扫码 2", None, "1", "3"]
        assert await store.get_many([]) == []

    async def test_get_many_reads_an_expired_key_as_missing(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("short"), "soon gone", 0.2)
        await store.set(key("long"), "stays", LONG)

        await asyncio.sleep(0.4)

        assert await store.get_many([key("short"), key("long")]) == [None, "stays"]

    async def test_values_round_trip_unchanged(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        values = [
            "",
            " padded ",
            '{"status": "scanned", "scanner": {"nickname": "小明"}}',
            "扫码登录 😀",
            "line\nbreak\ttab",
            "x" * 100_000,
        ]
        for index, value in enumerate(values):
            await store.set(key(str(index)), value, LONG)
        for index, value in enumerate(values):
            assert await store.get(key(str(index))) == value

    async def test_set_overwrites(self, store: EphemeralStore, key: Callable[[str], str]) -> None:
        await store.set(key("k"), "old", LONG)
        await store.set(key("k"), "new", LONG)
        assert await store.get(key("k")) == "new"

    async def test_keys_are_case_sensitive_and_exact(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("Key"), "upper", LONG)
        assert await store.get(key("key")) is None
        assert await store.get(key("Ke")) is None
        assert await store.get(key("Key ")) is None
        assert await store.get(key("Key")) == "upper"

    # --- time to live -----------------------------------------------------------------

    async def test_a_value_lives_until_its_ttl_and_no_longer(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        started = time.monotonic()
        await store.set(key("k"), "v", SHORT)
        assert await store.get(key("k")) == "v"
        lived = await expiry_time(store, key("k"), started)
        assert lived >= SHORT * 0.9

    async def test_overwriting_replaces_the_ttl(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        started = time.monotonic()
        # A longer TTL outlives the first one...
        await store.set(key("longer"), "first", SHORT)
        await store.set(key("longer"), "second", LONG)
        # ...and a shorter TTL cuts a long one short.
        await store.set(key("shorter"), "first", LONG)
        await store.set(key("shorter"), "second", SHORT)
        lived = await expiry_time(store, key("shorter"), started)
        assert lived < 1.0
        # "longer" was first set earlier with the same short TTL: it would be gone by now.
        assert await store.get(key("longer")) == "second"

    async def test_keys_expire_independently(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        started = time.monotonic()
        await store.set(key("short"), "s", 0.05)
        await store.set(key("long"), "l", LONG)
        await expiry_time(store, key("short"), started)
        assert await store.get(key("long")) == "l"

    # --- add --------------------------------------------------------------------------

    async def test_add_stores_only_when_absent(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        assert await store.add(key("k"), "first", LONG) is True
        assert await store.get(key("k")) == "first"
        assert await store.add(key("k"), "second", LONG) is False
        assert await store.get(key("k")) == "first"

    async def test_add_refuses_over_a_value_set_by_set(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("k"), "set", LONG)
        assert await store.add(key("k"), "added", LONG) is False
        assert await store.get(key("k")) == "set"

    async def test_add_refuses_over_an_empty_string(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("k"), "", LONG)
        assert await store.add(key("k"), "added", LONG) is False
        assert await store.get(key("k")) == ""

    async def test_add_after_expiry_and_after_delete(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        started = time.monotonic()
        assert await store.add(key("expiring"), "first", SHORT) is True
        await expiry_time(store, key("expiring"), started)
        assert await store.add(key("expiring"), "second", LONG) is True
        assert await store.get(key("expiring")) == "second"

        assert await store.add(key("deleted"), "first", LONG) is True
        await store.delete(key("deleted"))
        assert await store.add(key("deleted"), "second", LONG) is True
        assert await store.get(key("deleted")) == "second"

    async def test_add_sets_the_ttl(self, store: EphemeralStore, key: Callable[[str], str]) -> None:
        started = time.monotonic()
        assert await store.add(key("k"), "v", SHORT) is True
        assert await expiry_time(store, key("k"), started) >= SHORT * 0.9

    async def test_concurrent_adds_have_one_winner(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        results = await asyncio.gather(
            *(store.add(key("lease"), f"holder-{n}", LONG) for n in range(50))
        )
        assert results.count(True) == 1
        winner = results.index(True)
        assert await store.get(key("lease")) == f"holder-{winner}"

    # --- compare_and_set --------------------------------------------------------------

    async def test_compare_and_set_replaces_the_expected_value(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("k"), "pending", LONG)
        assert await store.compare_and_set(key("k"), "pending", "scanned", LONG) is True
        assert await store.get(key("k")) == "scanned"

    async def test_compare_and_set_refuses_another_value(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("k"), "scanned", LONG)
        assert await store.compare_and_set(key("k"), "pending", "authorized", LONG) is False
        assert await store.get(key("k")) == "scanned"
        # A stale writer loses against a fresher one.
        assert await store.compare_and_set(key("k"), "scanned", "authorized", LONG) is True
        assert await store.compare_and_set(key("k"), "scanned", "cancelled", LONG) is False
        assert await store.get(key("k")) == "authorized"

    async def test_compare_and_set_does_not_create(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        assert await store.compare_and_set(key("absent"), "", "v", LONG) is False
        assert await store.compare_and_set(key("absent"), "x", "v", LONG) is False
        assert await store.get(key("absent")) is None

    async def test_compare_and_set_after_expiry_fails(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        started = time.monotonic()
        await store.set(key("k"), "pending", SHORT)
        await expiry_time(store, key("k"), started)
        assert await store.compare_and_set(key("k"), "pending", "scanned", LONG) is False
        assert await store.get(key("k")) is None

    async def test_compare_and_set_sets_the_new_ttl(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        started = time.monotonic()
        await store.set(key("extended"), "a", SHORT)
        assert await store.compare_and_set(key("extended"), "a", "b", LONG) is True
        await store.set(key("shortened"), "a", LONG)
        assert await store.compare_and_set(key("shortened"), "a", "b", SHORT) is True
        assert await expiry_time(store, key("shortened"), started) < 1.0
        # "extended" was set first with the same short TTL: without the new TTL it would
        # be gone by now.
        assert await store.get(key("extended")) == "b"

    async def test_concurrent_compare_and_sets_have_one_winner(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("k"), "v0", LONG)
        results = await asyncio.gather(
            *(store.compare_and_set(key("k"), "v0", f"v{n}", LONG) for n in range(1, 51))
        )
        assert results.count(True) == 1
        assert await store.get(key("k")) == f"v{results.index(True) + 1}"

    # --- take -------------------------------------------------------------------------

    async def test_take_reads_and_deletes(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("code"), "user-1", LONG)
        assert await store.take(key("code")) == "user-1"
        assert await store.get(key("code")) is None
        assert await store.take(key("code")) is None

    async def test_take_of_a_missing_or_expired_key_is_none(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        assert await store.take(key("missing")) is None
        started = time.monotonic()
        await store.set(key("expiring"), "v", SHORT)
        await expiry_time(store, key("expiring"), started)
        assert await store.take(key("expiring")) is None

    async def test_take_returns_an_empty_string_value(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.set(key("k"), "", LONG)
        assert await store.take(key("k")) == ""
        assert await store.get(key("k")) is None

    async def test_take_is_atomic(self, store: EphemeralStore, key: Callable[[str], str]) -> None:
        """An authorization code is exchanged once, however many requests race for it."""
        await store.set(key("code"), "the-value", LONG)
        results = await asyncio.gather(*(store.take(key("code")) for _ in range(50)))
        assert results.count("the-value") == 1
        assert results.count(None) == 49
        assert await store.get(key("code")) is None

    # --- delete -----------------------------------------------------------------------

    async def test_delete(self, store: EphemeralStore, key: Callable[[str], str]) -> None:
        await store.set(key("gone"), "v", LONG)
        await store.set(key("kept"), "v", LONG)
        await store.delete(key("gone"))
        assert await store.get(key("gone")) is None
        assert await store.get(key("kept")) == "v"

    async def test_delete_of_a_missing_key_is_quiet(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        await store.delete(key("missing"))
        await store.delete(key("missing"))
        assert await store.get(key("missing")) is None

    # --- incr -------------------------------------------------------------------------

    async def test_incr_starts_at_one_and_counts(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        assert [await store.incr(key("n"), LONG) for _ in range(5)] == [1, 2, 3, 4, 5]
        assert await store.incr(key("other"), LONG) == 1

    async def test_incr_adds_what_it_is_given(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        """The code pool adds a pass's leases at once (``codepool/pool.py``)."""
        assert await store.incr(key("n"), LONG, by=3) == 3
        assert await store.incr(key("n"), LONG) == 4
        assert await store.incr(key("n"), LONG, by=5) == 9
        assert await store.get(key("n")) == "9"

    async def test_concurrent_incrs_count_every_one(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        results = await asyncio.gather(*(store.incr(key("n"), LONG) for _ in range(100)))
        assert sorted(results) == list(range(1, 101))

    async def test_incr_ttl_runs_from_the_first_increment_then_restarts(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        """A rate-limit window: later increments do not push the window's end back."""
        ttl = 0.3
        started = time.monotonic()
        assert await store.incr(key("n"), ttl) == 1
        await asyncio.sleep(ttl / 2)
        second = time.monotonic()
        assert await store.incr(key("n"), ttl) == 2
        assert await store.get(key("n")) == "2"
        lived = await expiry_time(store, key("n"), started)
        assert lived >= ttl * 0.9
        # Had the second increment restarted the window, the count would live until
        # ``second + ttl``; it ended well before that.
        assert lived < (second - started) + ttl - 0.05
        assert await store.incr(key("n"), ttl) == 1
        assert await store.incr(key("n"), ttl) == 2

    # --- lists ------------------------------------------------------------------------

    async def test_a_list_is_first_in_first_out(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        assert await store.length(key("l")) == 0
        assert await store.pop(key("l")) is None
        assert [await store.push(key("l"), v, LONG) for v in ("a", "", "汉字")] == [1, 2, 3]
        assert await store.length(key("l")) == 3
        assert [await store.pop(key("l")) for _ in range(4)] == ["a", "", "汉字", None]
        assert await store.length(key("l")) == 0

    async def test_concurrent_pops_each_get_a_different_value(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        for n in range(50):
            await store.push(key("l"), str(n), LONG)
        popped = await asyncio.gather(*(store.pop(key("l")) for _ in range(60)))
        assert sorted(int(v) for v in popped if v is not None) == list(range(50))
        assert popped.count(None) == 10

    async def test_a_list_lives_its_last_pushes_ttl_and_delete_removes_it(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        started = time.monotonic()
        await store.push(key("l"), "a", SHORT)
        await store.push(key("l"), "b", LONG)
        await asyncio.sleep(SHORT * 1.5)
        assert await store.length(key("l")) == 2
        await store.delete(key("l"))
        assert await store.pop(key("l")) is None
        await store.push(key("short"), "a", SHORT)
        await eventually(lambda: _is_zero(store.length(key("short"))))
        assert time.monotonic() - started >= SHORT * 0.9

    # --- publish / subscribe ----------------------------------------------------------

    async def test_a_subscriber_gets_what_is_published_after_it_subscribed_in_order(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        await store.publish(channel("qrl"), "before")
        async with store.subscribe(channel("qrl")) as subscription:
            for message in ("pending", "scanned", "authorized"):
                await store.publish(channel("qrl"), message)
            assert await subscription.next(PATIENCE) == "pending"
            assert await subscription.next(PATIENCE) == "scanned"
            assert await subscription.next(PATIENCE) == "authorized"
            assert await subscription.next(QUIET) is None

    async def test_many_messages_arrive_all_and_in_order(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with store.subscribe(channel("c")) as subscription:
            for n in range(200):
                await store.publish(channel("c"), str(n))
            received = [await subscription.next(PATIENCE) for _ in range(200)]
        assert received == [str(n) for n in range(200)]

    async def test_messages_round_trip_unchanged(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        messages = ["", '{"status": "scanned", "nickname": "小明"}', "a\nb", "😀" * 1000]
        async with store.subscribe(channel("c")) as subscription:
            for message in messages:
                await store.publish(channel("c"), message)
            for message in messages:
                assert await subscription.next(PATIENCE) == message

    async def test_publish_without_subscribers_is_quiet(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        await store.publish(channel("nobody"), "hello")
        async with store.subscribe(channel("nobody")) as subscription:
            assert await subscription.next(QUIET) is None

    async def test_two_subscribers_both_get_it(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with (
            store.subscribe(channel("c")) as first,
            store.subscribe(channel("c")) as second,
        ):
            await store.publish(channel("c"), "m1")
            await store.publish(channel("c"), "m2")
            assert [await first.next(PATIENCE), await first.next(PATIENCE)] == ["m1", "m2"]
            assert [await second.next(PATIENCE), await second.next(PATIENCE)] == ["m1", "m2"]

    async def test_other_channels_do_not_leak(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with (
            store.subscribe(channel("a")) as on_a,
            store.subscribe(channel("b")) as on_b,
            store.subscribe(channel("a:suffix")) as on_a_suffix,
        ):
            await store.publish(channel("a"), "for a")
            await store.publish(channel("b"), "for b")
            assert await on_a.next(PATIENCE) == "for a"
            assert await on_b.next(PATIENCE) == "for b"
            assert await on_a.next(QUIET) is None
            assert await on_b.next(QUIET) is None
            assert await on_a_suffix.next(QUIET) is None

    async def test_channel_names_are_not_patterns(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with store.subscribe(channel("qrl:*")) as star:
            await store.publish(channel("qrl:abc"), "not for the star")
            assert await star.next(QUIET) is None
            await store.publish(channel("qrl:*"), "for the star")
            assert await star.next(PATIENCE) == "for the star"

    async def test_next_returns_none_on_timeout(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with store.subscribe(channel("c")) as subscription:
            started = time.monotonic()
            assert await subscription.next(0.1) is None
            waited = time.monotonic() - started
            assert 0.08 <= waited < 1.0
            # A timeout loses nothing: what comes next is still delivered.
            await store.publish(channel("c"), "after the timeout")
            assert await subscription.next(PATIENCE) == "after the timeout"

    async def test_next_wakes_as_soon_as_a_message_is_published(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with store.subscribe(channel("c")) as subscription:
            waiting = asyncio.create_task(subscription.next(PATIENCE))
            await asyncio.sleep(0.02)
            assert not waiting.done()
            started = time.monotonic()
            await store.publish(channel("c"), "now")
            assert await waiting == "now"
            assert time.monotonic() - started < PATIENCE / 2

    async def test_resync_wakes_a_waiting_subscriber_and_loses_no_message(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with (
            store.subscribe(channel("c")) as woken,
            store.subscribe(channel("c")) as other,
        ):
            waiting = asyncio.create_task(woken.next(PATIENCE))
            await asyncio.sleep(0.02)
            woken.resync()
            assert await waiting == RESYNC
            # Only the one asked is woken, and messages keep coming to both.
            assert await other.next(QUIET) is None
            await store.publish(channel("c"), "after")
            assert await woken.next(PATIENCE) == "after"
            assert await other.next(PATIENCE) == "after"
            # Asked before it waits, the next wait returns at once.
            woken.resync()
            assert await woken.next(PATIENCE) == RESYNC

    async def test_leaving_the_context_unsubscribes(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with store.subscribe(channel("c")) as stayer:
            async with store.subscribe(channel("c")) as leaver:
                await store.publish(channel("c"), "while inside")
                assert await leaver.next(PATIENCE) == "while inside"
                assert await stayer.next(PATIENCE) == "while inside"
            await store.publish(channel("c"), "after leaving")
            assert await stayer.next(PATIENCE) == "after leaving"
            # A subscription that has been left yields nothing more.
            assert await leaver.next(QUIET) is None
        # And the channel works as before for a new subscriber.
        async with store.subscribe(channel("c")) as again:
            await store.publish(channel("c"), "new")
            assert await again.next(PATIENCE) == "new"

    async def test_leaving_on_an_error_unsubscribes_and_propagates_the_error(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        class Boom(Exception):
            pass

        left: list[Subscription] = []

        async def fail_inside() -> None:
            async with store.subscribe(channel("c")) as subscription:
                left.append(subscription)
                raise Boom

        with pytest.raises(Boom):
            await fail_inside()
        assert len(left) == 1
        await store.publish(channel("c"), "after the error")
        assert await left[0].next(QUIET) is None

    async def test_subscribing_again_and_again_keeps_working(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        """Long polls open and close a subscription per request."""
        for n in range(100):
            async with store.subscribe(channel("c")) as subscription:
                await store.publish(channel("c"), str(n))
                assert await subscription.next(PATIENCE) == str(n)

    async def test_a_thousand_concurrent_subscribers_all_get_one_publish(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        count = 1000
        subscribed = 0
        everyone_in = asyncio.Event()

        async def subscriber() -> str | None:
            nonlocal subscribed
            async with store.subscribe(channel("busy")) as subscription:
                subscribed += 1
                if subscribed == count:
                    everyone_in.set()
                return await subscription.next(PATIENCE)

        tasks = [asyncio.create_task(subscriber()) for _ in range(count)]
        try:
            await asyncio.wait_for(everyone_in.wait(), PATIENCE)
            await store.publish(channel("busy"), "authorized")
            results = await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        assert results == ["authorized"] * count

    async def test_a_thousand_subscriptions_in_one_task(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with AsyncExitStack() as stack:
            subscriptions = [
                await stack.enter_async_context(store.subscribe(channel("c"))) for _ in range(1000)
            ]
            await store.publish(channel("c"), "one")
            results = await asyncio.gather(*(s.next(PATIENCE) for s in subscriptions))
            assert set(results) == {"one"}
            assert len(results) == 1000

    async def test_async_iteration(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with store.subscribe(channel("c")) as subscription:
            for message in ("pending", "scanned", "authorized", "consumed"):
                await store.publish(channel("c"), message)
            received: list[str] = []
            async with asyncio.timeout(PATIENCE):
                async for message in subscription:
                    received.append(message)
                    if message == "consumed":
                        break
        assert received == ["pending", "scanned", "authorized", "consumed"]

    async def test_async_iteration_waits_for_later_messages(
        self, store: EphemeralStore, channel: Callable[[str], str]
    ) -> None:
        async with store.subscribe(channel("c")) as subscription:

            async def publish_later() -> None:
                for message in ("one", "two"):
                    await asyncio.sleep(0.02)
                    await store.publish(channel("c"), message)

            publisher = asyncio.create_task(publish_later())
            received: list[str] = []
            async with asyncio.timeout(PATIENCE):
                async for message in subscription:
                    received.append(message)
                    if len(received) == 2:
                        break
            await publisher
        assert received == ["one", "two"]

    # --- the store as a whole ---------------------------------------------------------

    async def test_keys_and_channels_of_the_same_name_are_unrelated(
        self, store: EphemeralStore, key: Callable[[str], str]
    ) -> None:
        name = key("same-name")
        await store.set(name, "value", LONG)
        async with store.subscribe(name) as subscription:
            await store.publish(name, "message")
            assert await subscription.next(PATIENCE) == "message"
        assert await store.get(name) == "value"
