"""The threads running transactions on a SQLite file (``storage/sql/threads.py``): outcomes and
errors reach the caller, a failed write leaves nothing, a caller that stops waiting or a
connection that broke leaves the threads serving, and closing finishes the jobs already given."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from minilogin.storage.sql import make_engine
from minilogin.storage.sql.engine import sqlite_file_engine
from minilogin.storage.sql.threads import Threads


@pytest.fixture
async def threads(tmp_path: Path) -> AsyncIterator[Threads]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'threads.db'}")
    file = sqlite_file_engine(engine, 4)
    assert file is not None
    running = Threads(file, 2)
    await running.write(_create)
    try:
        yield running
    finally:
        running.close()
        await engine.dispose()


def _create(connection: Connection) -> None:
    connection.execute(text("CREATE TABLE marks (n INTEGER PRIMARY KEY)"))


def _mark(n: int) -> Callable[[Connection], None]:
    def mark(connection: Connection) -> None:
        connection.execute(text("INSERT INTO marks VALUES (:n)"), {"n": n})

    return mark


def _marks(connection: Connection) -> list[int]:
    return [n for (n,) in connection.execute(text("SELECT n FROM marks ORDER BY n"))]


async def test_a_write_commits_and_a_read_sees_it_in_another_thread(threads: Threads) -> None:
    await threads.write(_mark(1))
    assert await threads.read(_marks) == [1]


async def test_a_failed_write_reaches_the_caller_and_leaves_nothing(threads: Threads) -> None:
    await threads.write(_mark(1))

    def two_then_a_duplicate(connection: Connection) -> None:
        _mark(2)(connection)
        _mark(1)(connection)

    with pytest.raises(IntegrityError):
        await threads.write(two_then_a_duplicate)
    assert await threads.read(_marks) == [1]


async def test_a_caller_that_stops_waiting_leaves_the_threads_serving(threads: Threads) -> None:
    started = threading.Event()
    go_on = threading.Event()

    def slow(connection: Connection) -> None:
        started.set()
        go_on.wait(10)
        _mark(1)(connection)

    waiting = asyncio.ensure_future(threads.write(slow))
    await asyncio.to_thread(started.wait, 10)
    waiting.cancel()
    go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # The transaction the caller gave up on still ran to its end (the next write waits for
    # its lock), and the threads serve on.
    await threads.write(_mark(2))
    assert await threads.read(_marks) == [1, 2]


async def test_closing_finishes_the_jobs_given_and_stops_the_threads(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'close.db'}")
    file = sqlite_file_engine(engine, 4)
    assert file is not None
    running = Threads(file, 2)
    await running.write(_create)
    given = [running.write(_mark(n)) for n in range(5)]
    before = {thread.name for thread in threading.enumerate()}
    running.close()
    # Closing joined the threads after their jobs; the answers wait on the loop.
    assert await asyncio.gather(*given) == [None] * 5
    assert not {name for name in before if name.startswith("minilogin-sqlite-")} & {
        thread.name for thread in threading.enumerate()
    }
    reopened = sqlite_file_engine(engine, 4)
    assert reopened is not None
    with reopened.connect() as connection:
        assert _marks(connection) == [0, 1, 2, 3, 4]
    reopened.dispose()
    await engine.dispose()


@pytest.mark.parametrize("writes", [False, True])
async def test_a_thread_whose_connection_broke_serves_on(tmp_path: Path, writes: bool) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'broken.db'}")
    file = sqlite_file_engine(engine, 2)
    assert file is not None
    # One thread: the job after the failure runs where the connection broke.
    running = Threads(file, 1)
    try:
        await running.write(_create)
        run = running.write if writes else running.read

        def breaks(connection: Connection) -> None:
            connection.invalidate()
            raise RuntimeError("the driver lost its connection")

        with pytest.raises(RuntimeError):
            await run(breaks)
        await running.write(_mark(1))
        assert await run(_marks) == [1]
    finally:
        running.close()
        await engine.dispose()
