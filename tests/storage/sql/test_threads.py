"""The threads running transactions on a SQLite file (``storage/sql/threads.py``): outcomes and
errors reach the caller, a failed write leaves nothing, a caller that stops waiting or a
connection that broke leaves the threads serving, and closing finishes the jobs already given.
A lookup runs on the event loop's thread and, when SQLite answers busy, in a thread that waits
instead of on the loop; a write there is refused at once, with nothing written, when another
connection holds the write lock, and the threads checkpoint the WAL such writes leave."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from minilogin.storage.sql import make_engine
from minilogin.storage.sql.engine import sqlite_file_engines
from minilogin.storage.sql.threads import Busy, Threads


def _running(engine: AsyncEngine, count: int, checkpoint_every: int = 100) -> Threads:
    file = sqlite_file_engines(engine, count)
    here = sqlite_file_engines(engine, 1, wait=False)
    assert file is not None
    assert here is not None
    return Threads(file, count, here=here, checkpoint_every=checkpoint_every)


@pytest.fixture
async def threads(tmp_path: Path) -> AsyncIterator[Threads]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'threads.db'}")
    running = _running(engine, 2)
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
    running = _running(engine, 2)
    await running.write(_create)
    given = [running.write(_mark(n)) for n in range(5)]
    before = {thread.name for thread in threading.enumerate()}
    running.close()
    # Closing joined the threads after their jobs; the answers wait on the loop.
    assert await asyncio.gather(*given) == [None] * 5
    assert not {name for name in before if name.startswith("minilogin-sqlite-")} & {
        thread.name for thread in threading.enumerate()
    }
    reopened = sqlite_file_engines(engine, 4)
    assert reopened is not None
    with reopened.reads.connect() as connection:
        assert _marks(connection) == [0, 1, 2, 3, 4]
    reopened.dispose()
    await engine.dispose()


@pytest.mark.parametrize("kind", ["read", "write", "lookup"])
async def test_a_thread_whose_connection_broke_serves_on(tmp_path: Path, kind: str) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'broken.db'}")
    # One thread: the job after the failure runs where the connection broke.
    running = _running(engine, 1)
    try:
        await running.write(_create)
        run = {"read": running.read, "write": running.write, "lookup": running.lookup}[kind]

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


async def test_a_lookup_runs_on_the_callers_thread_and_sees_the_latest_commit(
    threads: Threads,
) -> None:
    ran_in: list[int] = []

    def marks_where(connection: Connection) -> list[int]:
        ran_in.append(threading.get_ident())
        return _marks(connection)

    await threads.write(_mark(1))
    assert await threads.lookup(marks_where) == [1]
    await threads.write(_mark(2))
    assert await threads.lookup(marks_where) == [1, 2]
    assert ran_in == [threading.get_ident()] * 2


async def test_a_lookup_another_connections_lock_holds_up_waits_in_a_thread(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    set_up = sqlite3.connect(path, isolation_level=None)
    set_up.execute("PRAGMA journal_mode=WAL")
    set_up.execute("CREATE TABLE marks (n INTEGER PRIMARY KEY)")
    set_up.execute("INSERT INTO marks VALUES (7)")
    set_up.close()
    # A connection in exclusive locking mode, the first to read the file, keeps every other
    # connection from reading it until it closes: SQLite's busy case that WAL leaves readers.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("SELECT n FROM marks").fetchall()
    running = _running(engine, 1)
    ran_in: list[int] = []

    def marks_where(connection: Connection) -> list[int]:
        ran_in.append(threading.get_ident())
        return _marks(connection)

    try:
        # Released from the event loop: a lookup that waited on the loop's thread for the lock
        # would hold it until SQLite's busy timeout ran out, and fail.
        asyncio.get_running_loop().call_later(0.2, holder.close)
        assert await running.lookup(marks_where) == [7]
        # Its connection found the file locked as it opened, before ``work`` ran here.
        assert len(ran_in) == 1
        assert ran_in[0] != threading.get_ident()
        # The lock gone, lookups run on this thread again.
        assert await running.lookup(marks_where) == [7]
        assert ran_in[1] == threading.get_ident()
    finally:
        holder.close()
        running.close()
        await engine.dispose()


async def test_a_lookups_other_errors_reach_the_caller_without_a_second_try(
    threads: Threads,
) -> None:
    tries: list[int] = []

    def missing(connection: Connection) -> None:
        tries.append(1)
        connection.execute(text("SELECT n FROM no_such_table"))

    with pytest.raises(OperationalError, match="no_such_table"):
        await threads.lookup(missing)
    assert tries == [1]


async def test_a_write_here_commits_on_the_callers_thread(threads: Threads) -> None:
    ran_in: list[int] = []

    def mark_where(connection: Connection) -> None:
        ran_in.append(threading.get_ident())
        _mark(1)(connection)

    threads.write_here(mark_where)
    assert ran_in == [threading.get_ident()]
    assert await threads.read(_marks) == [1]
    with pytest.raises(IntegrityError):
        threads.write_here(mark_where)
    assert await threads.read(_marks) == [1]


async def test_a_write_here_another_connection_holds_the_lock_for_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    running = _running(engine, 1)
    try:
        await running.write(_create)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO marks VALUES (5)")
        started = asyncio.get_running_loop().time()
        with pytest.raises(Busy):
            running.write_here(_mark(1))
        # Refused at once, not after SQLite's busy timeout (5 s here).
        assert asyncio.get_running_loop().time() - started < 1
        other.execute("COMMIT")
        other.close()
        assert await running.read(_marks) == [5]
        running.write_here(_mark(1))
        assert await running.lookup(_marks) == [1, 5]
    finally:
        running.close()
        await engine.dispose()


async def test_the_threads_checkpoint_the_wal_the_writes_here_leave(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    # One thread: the read after the writes runs after the checkpoint they handed over.
    running = _running(engine, 1, checkpoint_every=3)
    try:
        await running.write(_create)
        await running.read(_checkpoint_now)

        def marks_in_the_file() -> list[int]:
            # ``immutable`` reads the database file alone, not the WAL beside it.
            with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as file:
                return [n for (n,) in file.execute("SELECT n FROM marks ORDER BY n")]

        running.write_here(_mark(1))
        running.write_here(_mark(2))
        await running.read(_marks)
        # Two commits on this thread: in the WAL only, not checkpointed by their commits.
        assert marks_in_the_file() == []
        running.write_here(_mark(3))
        await running.read(_marks)
        assert marks_in_the_file() == [1, 2, 3]
    finally:
        running.close()
        await engine.dispose()


def _checkpoint_now(connection: Connection) -> None:
    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
