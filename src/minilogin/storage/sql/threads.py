"""Transactions on a SQLite file, each run whole in one of a few threads of the database's own.

sqlite3 blocks, so its calls leave the event loop. aiosqlite hands every call (cursor, execute,
fetch, close, begin, commit) to its connection's thread and back, each through an asyncio
future: on the login path those hand-overs cost more CPU than the statements. Here a whole
transaction, written as a synchronous function of a connection, is one hand-over; the threads
take jobs from one queue and answer through ``call_soon_threadsafe``, without the futures and
locks of ``run_in_executor``, whose ``submit`` alone held the event loop for 11 % of a login's
profile (BENCHMARKS.md, "Issue 17").

A lookup, a read of a few rows by an index, skips even that hand-over: it runs on the event
loop's own thread, on a connection kept for it whose busy timeout is zero, so it never waits
there. Under WAL readers and the writer don't block each other, and a checkpoint runs beside
readers (https://sqlite.org/wal.html, "Concurrency", "Checkpointing"): a read sees the last
commit before it began. What can still make a reader busy (a connection in exclusive locking
mode, the last connection cleaning up the WAL as it closes, the first one recovering it after
a crash: wal.html, "Sometimes Queries Return SQLITE_BUSY In WAL Mode") fails the lookup at
once with ``SQLITE_BUSY``, and it is then handed to the threads, whose connections wait. A
schema changed by a migration meanwhile costs the lookup one re-prepare of its statement.

A write, likewise, runs on the event loop's thread (``write_here``) when SQLite grants its
write lock at once: the process's writers take turns before (``common.Database.write``), so
only another process's writer can hold it, and then the write goes to the threads, which wait.
Under WAL with ``synchronous=NORMAL`` a commit appends to the WAL without syncing it
(https://sqlite.org/pragma.html#pragma_synchronous); the checkpoint, which syncs, is what
could stall, so commits on the loop's thread don't checkpoint and every ``CHECKPOINT_EVERY``
of them hand one to the threads (SQLite's own default is one per 1000 pages of WAL).

Their connections run a statement they have run before straight on the driver (``direct.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from minilogin.storage.sql.engine import SqliteFile

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Commits on the event loop's thread between two checkpoints handed to the threads: a code
#: image, the largest row written, takes about 8 pages of 4 KiB, so the WAL stays near the
#: 1000 pages SQLite lets it grow to before checkpointing.
CHECKPOINT_EVERY = 100
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", bool, Callable[[Connection], Any]]


class Busy(Exception):
    """SQLite refused a transaction on the event loop's thread because another connection
    holds a lock; nothing was written."""


class Threads:
    """``count`` threads running transactions on ``file``. Each keeps two connections of
    its own, one of ``file.reads`` and one of ``file.writes``, so each engine must keep
    ``count``: a transaction takes nothing from an engine's pool. Lookups and writes on the
    caller's thread run on a connection of each of ``here``'s engines, on the same file, whose
    connections never wait for a lock nor checkpoint (``engine.sqlite_file_engines``'s
    ``wait=False``)."""

    def __init__(
        self,
        file: SqliteFile,
        count: int,
        *,
        here: SqliteFile,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        self.file = file
        self.here = here
        self._own: dict[bool, Connection] = {}
        self._checkpoint_every = checkpoint_every
        self._commits_here = 0
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        # Daemons: a process that exits without closing the database isn't held up by them;
        # a transaction cut short by the exit is rolled back by SQLite.
        self._threads = [
            threading.Thread(target=self._serve, name=f"minilogin-sqlite-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def read(self, work: Callable[[Connection], T]) -> asyncio.Future[T]:
        """The outcome of ``work``, each statement of which sees the latest commits."""
        return self._run(False, work)

    async def lookup(self, work: Callable[[Connection], T]) -> T:
        """The outcome of ``work``, as ``read`` gives it, run on this thread at once; in a
        thread of the database's when SQLite answers that a lock is held. For reads of a few
        rows by an index: the event loop waits for the whole of ``work``."""
        try:
            return self._here(False, work)
        except Busy:
            return await self.read(work)

    def write_here(self, work: Callable[[Connection], T]) -> T:
        """The outcome of ``work``, as ``write`` gives it, run on this thread at once; ``Busy``
        when SQLite answers that another connection holds its write lock. The caller must
        hold the process's turn to write (``common.Database.write``)."""
        outcome = self._here(True, work)
        self._commits_here += 1
        if self._commits_here % self._checkpoint_every == 0:
            self._run(False, _checkpoint).add_done_callback(_checkpointed)
        return outcome

    def _here(self, writes: bool, work: Callable[[Connection], T]) -> T:
        try:
            # Opened at first use: its PRAGMAs may find the file busy too.
            if writes not in self._own:
                self._own[writes] = (self.here.writes if writes else self.here.reads).connect()
            return _transact(self._own[writes], writes, work)
        except OperationalError as error:
            if _busy(error):
                raise Busy from error
            raise

    def write(self, work: Callable[[Connection], T]) -> asyncio.Future[T]:
        """The outcome of ``work`` in one transaction that holds SQLite's write lock throughout,
        committed when ``work`` returns and rolled back when it raises."""
        return self._run(True, work)

    def _run(self, writes: bool, work: Callable[[Connection], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, done, writes, work))
        return done

    def close(self) -> None:
        """Stop the threads once the jobs already given are done, and close the connections."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        for connection in self._own.values():
            connection.close()
        self.here.dispose()
        self.file.dispose()

    def _serve(self) -> None:
        own: dict[bool, Connection] = {}
        try:
            while (job := self._jobs.get()) is not None:
                loop, done, writes, work = job
                try:
                    outcome = _transact(self._connection(own, writes), writes, work)
                except BaseException as error:  # the caller gets it, whatever it is
                    _answer(loop, _fail, done, error)
                else:
                    _answer(loop, _succeed, done, outcome)
        finally:
            for connection in own.values():
                connection.close()

    def _connection(self, own: dict[bool, Connection], writes: bool) -> Connection:
        """This thread's connection for reads or writes, opened at its first use. One the
        driver reported broken is invalidated by SQLAlchemy, which opens a new one when it is
        next used."""
        if writes not in own:
            own[writes] = (self.file.writes if writes else self.file.reads).connect()
        return own[writes]


def _transact(connection: Connection, writes: bool, work: Callable[[Connection], T]) -> T:
    if writes:
        # BEGIN IMMEDIATE: the writes' engine begins so (engine._ImmediateSQLite).
        with connection.begin():
            return work(connection)
    # The reads' engine sends no BEGIN: each statement reads the latest commit. SQLAlchemy's
    # transaction is begun all the same, which lets its statements run directly (direct.py).
    connection.begin()
    try:
        return work(connection)
    finally:
        connection.rollback()


def _checkpoint(connection: Connection) -> None:
    # PASSIVE: copies what no reader still needs, waiting for no one.
    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def _checkpointed(done: asyncio.Future[None]) -> None:
    # A checkpoint that failed leaves the WAL longer until the next one.
    if not done.cancelled() and (error := done.exception()) is not None:
        log.warning("checkpointing the SQLite WAL failed: %r", error)


def _busy(error: OperationalError) -> bool:
    """Whether SQLite refused a statement because another connection holds a lock; the
    extended codes (``SQLITE_BUSY_RECOVERY``…) keep the primary one in their low byte."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY


def _answer(
    loop: asyncio.AbstractEventLoop,
    settle: Callable[[asyncio.Future[Any], Any], None],
    done: asyncio.Future[Any],
    value: object,
) -> None:
    # A loop closed meanwhile has nobody waiting for the answer.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle, done, value)


def _succeed(done: asyncio.Future[Any], outcome: object) -> None:
    if not done.cancelled():
        done.set_result(outcome)


def _fail(done: asyncio.Future[Any], error: BaseException) -> None:
    if not done.cancelled():
        done.set_exception(error)
