"""Storage fixtures. ``durable_store`` is a freshly migrated, empty store on each database
backend in ``DATABASES``, so every test that uses it runs once per backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStore, upgrade_async


@asynccontextmanager
async def sqlite_database(tmp_path: Path) -> AsyncIterator[str]:
    # In a folder that doesn't exist yet: the migrations and the store create it.
    yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'minilogin.db'}"


# Each backend maps to a function of the test's tmp_path that provides the URL of an empty
# database for one test and removes that database afterwards. A backend joins the whole
# storage suite by adding an entry here.
DATABASES: dict[str, Callable[[Path], AbstractAsyncContextManager[str]]] = {
    "sqlite": sqlite_database,
}


@pytest.fixture(params=sorted(DATABASES))
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with DATABASES[request.param](tmp_path) as url:
        yield url


@pytest.fixture
def secret_box() -> SecretBox:
    return SecretBox("test-secret-key")


@pytest.fixture
async def durable_store(database_url: str, secret_box: SecretBox) -> AsyncIterator[SqlStore]:
    await upgrade_async(database_url)
    store = await SqlStore.open(database_url, secret_box)
    try:
        yield store
    finally:
        await store.close()
