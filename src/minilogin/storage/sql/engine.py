"""The database engine: a SQLite file by default, PostgreSQL in production, set up for the
stores (``common.Database``) and the migrations (``migrate.py``) alike."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Engine, PoolProxiedConnection, create_engine, event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from minilogin.storage.sql.direct import use_direct

# The async driver for each backend, for URLs that name only the backend ("postgresql://…").
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}

# An execution option telling how a connection's transactions are used; see _sqlite_begin.
_ACCESS = "minilogin_access"

#: Connections the async engine keeps open to a SQLite file, and threads running the stores'
#: transactions on it (``threads.py``). Each new aiosqlite connection costs a thread start and
#: three PRAGMAs: the pool keeps this many and opens no overflow connections, which were closed
#: again as soon as they were returned. A caller beyond it waits its turn.
SQLITE_CONNECTIONS = 4

E = TypeVar("E", AsyncEngine, Engine)


def make_engine(database_url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    """An async engine for ``database_url``, with SQLite set up for concurrent use.

    For SQLite: the folder of the file is created, the journal is WAL (readers don't block the
    writer), and transactions are begun by SQLAlchemy instead of the sqlite3 driver, whose
    legacy mode runs SELECTs and DDL outside any transaction. ``foreign_keys=False`` leaves
    SQLite's foreign keys unenforced, which migrations need: rebuilding a table there drops
    the old one, and with enforcement that drop would cascade into the rows pointing at it.
    """
    url = make_url(database_url)
    url = url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))
    if url.get_backend_name() != "sqlite":
        # Pinged when taken from the pool: after the server restarted, the first request
        # gets a fresh connection instead of failing on a dead one.
        return create_async_engine(url, pool_pre_ping=True)

    if _is_file(url):
        _private_file(Path(str(url.database)))
        engine = create_async_engine(url, pool_size=SQLITE_CONNECTIONS, max_overflow=0)
    else:
        # In memory: one connection for the process (SQLAlchemy's StaticPool), nothing to size.
        engine = create_async_engine(url)
    _set_up_sqlite(engine.sync_engine, foreign_keys=foreign_keys)
    return engine


class SqliteFile(NamedTuple):
    """Synchronous engines on a SQLite file: one whose connections read, each statement
    outside any transaction, and one whose transactions write, each beginning with
    ``BEGIN IMMEDIATE``."""

    reads: Engine
    writes: Engine

    def dispose(self) -> None:
        self.reads.dispose()
        self.writes.dispose()


def sqlite_file_engines(
    engine: AsyncEngine, connections: int, *, wait: bool = True
) -> SqliteFile | None:
    """Synchronous engines on the SQLite file of ``engine`` (sqlite3 without aiosqlite), each
    keeping ``connections``, set up as ``make_engine`` sets up its own, for statements run in
    threads of their own (``threads.py``); ``None`` for another database or an in-memory one,
    which a second engine would not share.

    ``wait=False`` is for statements run on the event loop's own thread (``Threads.lookup``,
    ``Threads.write_here``): SQLite's busy timeout is zero, so a statement that would wait for
    another connection's lock fails at once with ``SQLITE_BUSY`` instead, and commits don't
    checkpoint the WAL (``wal_autocheckpoint=0``), which syncs the files to disk; the threads
    checkpoint instead.

    aiosqlite hands each call (cursor, execute, fetch, close, commit) to its connection's
    thread and back: on the login path those hand-overs cost more than the statements did.
    Here a whole transaction is one hand-over.

    These engines listen to no connection event: one listener (``make_engine``'s ``begin``)
    makes SQLAlchemy dispatch every event of every statement and transaction, and with the
    ``BEGIN`` it sent as a statement of its own that cost a write transaction about a quarter
    of its CPU (BENCHMARKS.md, "Issue 17, third pass"). The writes' engine begins its
    transactions in its dialect's ``do_begin`` instead (``_ImmediateSQLite``).
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or not _is_file(url):
        return None
    # ``timeout`` is sqlite3's busy timeout, in seconds (5 by default).
    timeout = {} if wait else {"timeout": 0}
    reads = _sqlite_file_engine(url.set(drivername="sqlite"), connections, timeout, wait)
    writes = _sqlite_file_engine(url.set(drivername=_IMMEDIATE), connections, timeout, wait)
    return SqliteFile(reads, writes)


def _sqlite_file_engine(url: URL, connections: int, timeout: dict[str, int], wait: bool) -> Engine:
    sync = create_engine(
        url,
        pool_size=connections,
        max_overflow=0,
        # Connections are taken and returned by the threads that run the statements.
        connect_args={"check_same_thread": False, **timeout},
    )
    _set_up_connections(sync, foreign_keys=True)
    if not wait:
        event.listen(sync, "connect", _no_checkpoints)
    use_direct(sync)
    return sync


class _ImmediateSQLite(SQLiteDialect_pysqlite):
    """sqlite3 whose transactions take SQLite's write lock as they begin.

    SQLAlchemy calls ``do_begin`` as a transaction begins and wraps what the driver raises
    there as it wraps a statement's errors: a lock held past the busy timeout is an
    ``OperationalError``, whose ``orig`` keeps SQLite's error code (``threads._busy``) and
    which ``storage/errors.py`` answers as an outage. The driver's own ``execute`` spares
    ``BEGIN`` the whole of SQLAlchemy's execution of a statement.
    """

    # Compiled statements are cached for a dialect only when its class says so.
    supports_statement_cache = True

    def do_begin(self, dbapi_connection: PoolProxiedConnection) -> None:
        dbapi_connection.cursor().execute("BEGIN IMMEDIATE")


#: The driver name under which SQLAlchemy finds ``_ImmediateSQLite`` (its dialect registry).
_IMMEDIATE = "sqlite+minilogin_immediate"
registry.register(_IMMEDIATE.replace("+", "."), __name__, _ImmediateSQLite.__name__)


def _no_checkpoints(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _is_file(url: URL) -> bool:
    return bool(url.database) and url.database != ":memory:"


def _set_up_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    _set_up_connections(engine, foreign_keys=foreign_keys)
    event.listen(engine, "begin", _sqlite_begin)


def _set_up_connections(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
        # ``Any``: the DBAPI protocol doesn't declare sqlite3's ``isolation_level``.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Under WAL, NORMAL syncs at checkpoints rather than at every commit: the database
        # can't be corrupted, and only the last commits before a power cut can be lost.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600), in a folder of its own
    (0700) when the folder is new: it holds password hashes and sealed secrets. SQLite
    gives its WAL and shared-memory files the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sqlite_begin(connection: Connection) -> None:
    access = connection.get_execution_options().get(_ACCESS)
    if access == "write":
        # Take the write lock up front. A transaction that reads and then writes would
        # otherwise fail at once with "database is locked" when another writer committed in
        # between, instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif access != "read":
        connection.exec_driver_sql("BEGIN")
    # Reads: each SELECT runs in its own implicit transaction (see for_reads).


def for_reads(engine: E) -> E:
    """The engine for reads that need no snapshot shared by several statements.

    Each statement sees the latest committed data, without BEGIN/ROLLBACK round trips: the
    lookups on the login path are one SELECT each.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_ACCESS: "read"})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def for_writes(engine: E) -> E:
    """The engine for transactions that write; on SQLite they hold the write lock throughout."""
    return engine.execution_options(**{_ACCESS: "write"})
