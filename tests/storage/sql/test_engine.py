"""The database engine (``storage/sql/engine.py``): URLs and SQLite's set-up, and how the
stores' engines on a SQLite file begin their transactions: writes with the write lock taken,
reads with none, and a lock held elsewhere raised as SQLAlchemy raises a statement's."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from tests.storage.sql.given import a_pool, raw_rows

from minilogin.storage.crypto import SecretBox
from minilogin.storage.errors import is_unavailable
from minilogin.storage.sql import SqlStores, make_engine
from minilogin.storage.sql.engine import SqliteFile, sqlite_file_engines


async def test_a_url_without_the_async_driver_is_accepted(
    stores: SqlStores, database_url: str, secret_box: SecretBox
) -> None:
    await a_pool(stores)
    url = make_url(database_url)
    plain = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=False)
    store = await SqlStores.open(plain, secret_box)
    try:
        assert await store.pools.get_pool("demo") is not None
    finally:
        await store.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}"
    store = await SqlStores.open(database_url, SecretBox("k" * 32))
    await store.close()
    assert await raw_rows(database_url, "PRAGMA journal_mode") == [("wal",)]


@pytest.mark.parametrize(
    ("wait", "busy_timeout_and_checkpoints"),
    # sqlite3's default busy timeout of 5 s and SQLite's checkpoint every 1000 pages; none
    # on the event loop's thread.
    [(True, [5000, 1000]), (False, [0, 0])],
)
@pytest.mark.parametrize("role", ["reads", "writes"])
async def test_the_stores_thread_engines_on_a_sqlite_file_are_set_up_alike(
    tmp_path: Path, wait: bool, busy_timeout_and_checkpoints: list[int], role: str
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'threads.db'}")
    try:
        threads = sqlite_file_engines(engine, 4, wait=wait)
        assert threads is not None
        try:
            with getattr(threads, role).connect() as connection:
                pragmas = [
                    connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in (
                        "journal_mode",
                        "synchronous",
                        "foreign_keys",
                        "busy_timeout",
                        "wal_autocheckpoint",
                    )
                ]
        finally:
            threads.dispose()
    finally:
        await engine.dispose()
    # WAL, NORMAL (1), foreign keys enforced: as on the async engine's connections.
    assert pragmas == ["wal", 1, 1, *busy_timeout_and_checkpoints]


@pytest.fixture
async def file_engines(tmp_path: Path) -> AsyncIterator[tuple[Path, SqliteFile]]:
    path = tmp_path / "begin.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    threads = sqlite_file_engines(engine, 1, wait=False)
    assert threads is not None
    with threads.writes.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE marks (n INTEGER PRIMARY KEY)")
    try:
        yield path, threads
    finally:
        threads.dispose()
        await engine.dispose()


def _lock_is_free(path: Path) -> bool:
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


async def test_a_write_transaction_takes_the_write_lock_as_it_begins(
    file_engines: tuple[Path, SqliteFile],
) -> None:
    path, threads = file_engines
    with threads.writes.connect() as connection:
        with connection.begin():
            # Before any statement: a transaction that read first and wrote after could
            # otherwise find another writer's commit in between.
            assert not _lock_is_free(path)
        assert _lock_is_free(path)
        with connection.begin():
            connection.exec_driver_sql("SELECT count(*) FROM marks").scalar()
            assert not _lock_is_free(path)


async def test_a_read_begins_no_transaction(file_engines: tuple[Path, SqliteFile]) -> None:
    path, threads = file_engines
    with threads.reads.connect() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM marks").scalar()
        # SQLAlchemy's transaction is open, SQLite's is not: no snapshot held, no lock.
        assert connection.in_transaction()
        assert not connection.connection.dbapi_connection.in_transaction
        assert _lock_is_free(path)


async def test_a_write_lock_held_elsewhere_is_an_outage_the_stores_recognise(
    file_engines: tuple[Path, SqliteFile],
) -> None:
    path, threads = file_engines
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with threads.writes.connect() as connection:
            with pytest.raises(OperationalError) as refused:
                connection.begin()
            # SQLAlchemy's error, as a statement's would be: answered 503 with Retry-After.
            assert is_unavailable(refused.value)
            assert isinstance(refused.value.orig, sqlite3.OperationalError)
            assert refused.value.orig.sqlite_errorcode == sqlite3.SQLITE_BUSY
            # Nothing half begun: the connection begins again once the lock is free.
            assert not connection.in_transaction()
            other.execute("ROLLBACK")
            with connection.begin():
                connection.exec_driver_sql("INSERT INTO marks VALUES (1)")
    finally:
        other.close()
    with threads.reads.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM marks").scalars().all() == [1]


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite://", "postgresql://u@localhost/db"]
)
async def test_no_thread_engine_where_a_second_engine_would_not_share_the_database(
    url: str,
) -> None:
    engine = make_engine(url)
    try:
        assert sqlite_file_engines(engine, 4) is None
    finally:
        await engine.dispose()
