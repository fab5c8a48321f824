"""The database engine (``storage/sql/engine.py``): URLs and SQLite's set-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from tests.storage.sql.given import a_pool, raw_rows

from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStores, make_engine
from minilogin.storage.sql.engine import sqlite_file_engine


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
async def test_the_stores_thread_engine_on_a_sqlite_file_is_set_up_alike(
    tmp_path: Path, wait: bool, busy_timeout_and_checkpoints: list[int]
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'threads.db'}")
    try:
        threads = sqlite_file_engine(engine, 4, wait=wait)
        assert threads is not None
        try:
            with threads.connect() as connection:
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


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite://", "postgresql://u@localhost/db"]
)
async def test_no_thread_engine_where_a_second_engine_would_not_share_the_database(
    url: str,
) -> None:
    engine = make_engine(url)
    try:
        assert sqlite_file_engine(engine, 4) is None
    finally:
        await engine.dispose()
