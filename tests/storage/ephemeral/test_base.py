"""The mailbox every subscription of the ephemeral stores queues its messages in: first in
first out, a wait that ends on a timer with ``None``, and a wait that cancelling ends."""

from __future__ import annotations

import asyncio

import pytest

from minilogin.storage.ephemeral.base import Mailbox


async def test_a_wait_with_nothing_put_ends_with_none_when_the_time_is_up() -> None:
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    started = loop.time()

    assert await mailbox.get(0.05) is None
    assert loop.time() - started >= 0.05
    assert mailbox.empty()


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
