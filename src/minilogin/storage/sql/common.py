"""What the SQL stores of one database share: its engine and sessions, the secret box, and how
a write runs and reports a broken uniqueness rule.

Each store method is one transaction. The statements the login path runs are SQLAlchemy Core,
built once at import with bound parameters so their compiled form is cached, and each
transaction is one synchronous function of its connection (``read``, ``write``, ``add``): on a
SQLite file it runs whole in a thread of the database's own with the sqlite3 driver (aiosqlite
hands every cursor call to its thread and back), elsewhere inside the async connection through
``run_sync``. On a SQLite file a ``lookup``, a read of a few rows by an index, and a write that
SQLite lets take its lock at once run on the event loop's own thread instead, never waiting for
a lock there (``threads.py``), and a statement run before runs straight on the driver
(``direct.py``). The administration's stores use ORM sessions (``reads``,
``transaction``, ``insert``).

Uniqueness rules are checked before writing, so callers get a ``Conflict`` with a code they can
act on; when a concurrent transaction slips in between the check and the write, the database's
constraint refuses the row and the check runs again to name the conflict. Secrets are sealed
with the ``SecretBox`` before they reach the database.

The schema comes from the Alembic migrations (``migrate.py``), not from the stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Table,
    bindparam,
    exists,
    literal,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from minilogin.core.errors import NotFound
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql.engine import (
    SQLITE_CONNECTIONS,
    for_reads,
    for_writes,
    make_engine,
    sqlite_file_engines,
)
from minilogin.storage.sql.models import Base, PoolRow
from minilogin.storage.sql.threads import Busy, Threads

T = TypeVar("T")
Check = Callable[[AsyncSession], Awaitable[None]]
#: Statements run in one transaction, as a synchronous function of its connection.
Work = Callable[[Connection], T]


class Database:
    """One database, shared by every store on it."""

    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box
        self.reads = async_sessionmaker(for_reads(engine), expire_on_commit=False)
        self._writes = async_sessionmaker(for_writes(engine), expire_on_commit=False)
        # SQLite lets one transaction write at a time. Queueing this process's writers here
        # keeps them from waking in SQLite's busy handler, whose growing sleeps (up to 100 ms
        # each) stalled logins and, past the busy timeout, failed them with "database is locked".
        self._write_turn = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._core_reads = for_reads(engine)
        self._core_writes = for_writes(engine)
        # Each thread keeps a connection for reads and one for writes, and so does the event
        # loop's thread.
        file = sqlite_file_engines(engine, SQLITE_CONNECTIONS)
        here = sqlite_file_engines(engine, 1, wait=False)
        self._threads = (
            None if file is None or here is None else Threads(file, SQLITE_CONNECTIONS, here=here)
        )

    @classmethod
    async def open(cls, database_url: str, box: SecretBox) -> Database:
        """Connect to the database once, so that a wrong URL or credentials fail at start-up."""
        engine = make_engine(database_url)
        try:
            async with engine.connect():
                pass
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, box)

    async def close(self) -> None:
        if self._threads is not None:
            self._threads.close()
        await self.engine.dispose()

    async def read(self, work: Work[T]) -> T:
        """Run ``work`` outside any shared snapshot: each statement sees the latest commits."""
        if self._threads is None:
            async with self._core_reads.connect() as connection:
                return await connection.run_sync(work)
        return await self._threads.read(work)

    async def lookup(self, work: Work[T]) -> T:
        """Run ``work``, a read of a few rows by an index, as ``read`` does; on a SQLite file
        on the event loop's own thread, without handing it to another (``Threads.lookup``)."""
        if self._threads is None:
            return await self.read(work)
        return await self._threads.lookup(work)

    async def write(self, work: Work[T]) -> T:
        """Run ``work`` in one transaction, committed when it returns and rolled back when it
        raises; on SQLite it holds the write lock throughout."""
        if self._threads is None or self._write_turn is None:
            async with contextlib.AsyncExitStack() as stack:
                if self._write_turn is not None:
                    await stack.enter_async_context(self._write_turn)
                connection = await stack.enter_async_context(self._core_writes.begin())
                return await connection.run_sync(work)
        turn = self._write_turn
        await turn.acquire()
        try:
            try:
                outcome = self._threads.write_here(work)
            except Busy:
                # Another process writes: wait for it in a thread, not here.
                done = self._threads.write(work)
            else:
                turn.release()
                return outcome
        except BaseException:
            turn.release()
            raise
        done.add_done_callback(lambda _: turn.release())
        # A caller cancelled meanwhile leaves the transaction to finish in its thread: the
        # next writer's turn comes when it has, not before.
        return await asyncio.shield(done)

    async def add(self, check: Work[None], work: Work[T]) -> T:
        """Run ``work`` in one transaction, unless ``check`` raises first in it."""

        def checked(connection: Connection) -> T:
            check(connection)
            return work(connection)

        try:
            return await self.write(checked)
        except IntegrityError:
            # A concurrent transaction wrote between our check and our write; its row now
            # makes the check raise the error callers understand.
            await self.read(check)
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with contextlib.AsyncExitStack() as stack:
            if self._write_turn is not None:
                await stack.enter_async_context(self._write_turn)
            session = await stack.enter_async_context(self._writes())
            await stack.enter_async_context(session.begin())
            yield session

    async def insert(self, check: Check, *rows: Base) -> None:
        """Insert ``rows`` in this order, in one transaction, unless ``check`` raises."""
        try:
            async with self.transaction() as session:
                await check(session)
                for row in rows:
                    session.add(row)
                    # One flush per row keeps the order: a row may refer to the one before.
                    await session.flush()
        except IntegrityError:
            # A concurrent transaction wrote between our check and our insert; its row now
            # makes the check raise the error callers understand.
            async with self.reads() as session:
                await check(session)
            raise

    async def delete_one(self, statement: Delete, not_found: str) -> None:
        """Run ``statement``; ``NotFound(not_found)`` when it deleted nothing."""
        async with self.transaction() as session:
            deleted = (await session.execute(statement.returning(literal(1)))).first()
        if deleted is None:
            raise NotFound(not_found)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(16)}"


def utc(when: datetime | None) -> datetime:
    """``when`` in UTC, or now when it is None."""
    if when is None:
        return datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: pass a timezone-aware one")
    return when.astimezone(UTC)


def utc_or_none(when: datetime | None) -> datetime | None:
    return None if when is None else utc(when)


# checks shared by several writes


async def exists_where(session: AsyncSession, *where: ColumnElement[bool]) -> bool:
    return bool(await session.scalar(select(exists().where(*where))))


async def require_pool(session: AsyncSession, pool_id: str) -> None:
    if not await exists_where(session, PoolRow.id == pool_id):
        raise NotFound("unknown_pool")


def table(model: type[Base]) -> Table:
    """The Core table of a model, for statements built once at import."""
    return cast(Table, model.__table__)


_POOL_EXISTS = select(exists().where(table(PoolRow).c.id == bindparam("pool_id")))


def pool_exists(connection: Connection, pool_id: str) -> bool:
    return bool(connection.scalar(_POOL_EXISTS, {"pool_id": pool_id}))
