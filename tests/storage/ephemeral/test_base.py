"""The mailbox every subscription of the ephemeral stores queues its messages in: first in
first out, a wait that ends on a timer with ``None`` (on the event loop's next tick), and a
wait that cancelling ends."""

from __future__ import annotations

import asyncio
import math

import pytest

from minilogin.storage.ephemeral.base import TICK, Mailbox


async def test_a_wait_with_nothing_put_ends_with_none_when_the_time_is_up() -> None:
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    started = loop.time()

    assert await mailbox.get(0.05) is None
    assert loop.time() - started >= 0.05
    assert mailbox.empty()


async def test_a_wait_that_runs_out_ends_on_the_loops_next_tick_not_before() -> None:
    # Waits running out within one tick are woken together (one wake-up of the process).
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    started = loop.time()

    assert await mailbox.get(0.001) is None
    assert loop.time() >= math.ceil((started + 0.001) / TICK) * TICK


async def test_two_waits_running_out_within_one_tick_end_in_the_same_wake_up() -> None:
    loop = asyncio.get_running_loop()
    now = loop.time()
    tick = math.ceil(now / TICK) * TICK
    if tick - now < TICK / 2:
        tick += TICK
    # Both run out a few milliseconds apart, before the same tick.
    first = asyncio.create_task(Mailbox().get(tick - now - TICK / 2))
    second = asyncio.create_task(Mailbox().get(tick - now - TICK / 4))

    done, _ = await asyncio.wait({first, second}, return_when=asyncio.FIRST_COMPLETED)

    assert done == {first, second}


async def test_messages_come_out_in_the_order_they_were_put() -> None:
    mailbox = Mailbox()
    for message in ("one", "two", "three"):
        mailbox.put(message)

    assert [await mailbox.get(1) for _ in range(3)] == ["one", "two", "three"]
    assert await mailbox.get(0) is None


async def test_a_message_put_while_waiting_ends_the_wait_at_once() -> None:
    mailbox = Mailbox()
    waiting = asyncio.create_task(mailbox.get(30))
    await asyncio.sleep(0)

    mailbox.put("news")

    assert await asyncio.wait_for(waiting, 1) == "news"


async def test_a_wait_without_a_time_limit_lasts_until_a_message() -> None:
    mailbox = Mailbox()
    waiting = asyncio.create_task(mailbox.get())
    await asyncio.sleep(0.05)
    assert not waiting.done()

    mailbox.put("late")

    assert await waiting == "late"


async def test_cancelling_the_reader_ends_its_wait_and_keeps_later_messages() -> None:
    mailbox = Mailbox()
    waiting = asyncio.create_task(mailbox.get(30))
    await asyncio.sleep(0)

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    mailbox.put("after")

    assert await mailbox.get(1) == "after"
