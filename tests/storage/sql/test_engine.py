"""The database engine (``storage/sql/engine.py``): URLs and SQLite's set-up."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from tests.storage.sql.given import a_pool, raw_rows

from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStores


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
