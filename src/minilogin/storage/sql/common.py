"""What the SQL stores of one database share: its engine and sessions, the secret box, and how
a write runs and reports a broken uniqueness rule.

Each store method is one transaction. Uniqueness rules are checked before writing, so callers
get a ``Conflict`` with a code they can act on; when a concurrent transaction slips in between
the check and the write, the database's constraint refuses the row and the check runs again to
name the conflict. Secrets are sealed with the ``SecretBox`` before they reach the database.

The schema comes from the Alembic migrations (``migrate.py``), not from the stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Delete, exists, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from minilogin.core.errors import NotFound
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql.engine import for_reads, for_writes, make_engine
from minilogin.storage.sql.models import Base, PoolRow

Check = Callable[[AsyncSession], Awaitable[None]]


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
        await self.engine.dispose()

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
