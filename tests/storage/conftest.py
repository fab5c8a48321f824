"""Storage fixtures. ``stores`` are freshly migrated, empty SQL stores on each database
backend in ``DATABASES``, so every test that uses it runs once per backend: SQLite, and
PostgreSQL on a real server the session starts (``tests/support/postgres_server.py``).

``database_url`` is an empty database (nothing migrated) for the migration tests, or the
store's own database in tests that use both.
``redis`` is a real Redis for the Redis store's tests. Both servers start only when a
test asks for them and stop at the end of the session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import asyncpg
import pytest
from tests.support.postgres_server import PostgresServer, postgres_server
from tests.support.redis_server import RedisServer, redis_server

from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStores, upgrade_async
from minilogin.storage.sql.models import Base


class Backend(Protocol):
    def empty(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> AbstractAsyncContextManager[str]:
        """The URL of an empty database for one test, removed afterwards."""
        ...

    def migrated(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> AbstractAsyncContextManager[str]:
        """The URL of a database at the latest migration, holding no rows."""
        ...


class SQLite:
    @asynccontextmanager
    async def empty(self, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
        # In a folder that doesn't exist yet: the migrations and the store create it.
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'minilogin.db'}"

    @asynccontextmanager
    async def migrated(self, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
        async with self.empty(request, tmp_path) as url:
            await upgrade_async(url)
            yield url


@dataclass
class MigratedPostgres:
    """One database per session, migrated once; each test starts from its rows deleted.
    (Creating a database per test costs half a second on PostgreSQL; deleting rows from
    tables that hold a handful costs milliseconds.)"""

    server: PostgresServer
    url: str | None = None

    async def fresh(self) -> str:
        if self.url is None:
            admin = await asyncpg.connect(self.server.dsn())
            try:
                await admin.execute('CREATE DATABASE "migrated"')
            finally:
                await admin.close()
            self.url = self.server.url("migrated")
            await upgrade_async(self.url)
            return self.url
        connection = await asyncpg.connect(self.server.dsn("migrated"))
        try:
            async with connection.transaction():
                for table in reversed(Base.metadata.sorted_tables):
                    # The names come from our own models, not from input.
                    await connection.execute(f'DELETE FROM "{table.name}"')  # noqa: S608
        finally:
            await connection.close()
        return self.url


class PostgreSQL:
    @asynccontextmanager
    async def empty(self, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
        server: PostgresServer = request.getfixturevalue("postgres")
        async with server.database() as url:
            yield url

    @asynccontextmanager
    async def migrated(self, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
        databases: MigratedPostgres = request.getfixturevalue("migrated_postgres")
        yield await databases.fresh()


# A backend joins the whole storage suite by adding an entry here.
DATABASES: dict[str, Backend] = {
    "sqlite": SQLite(),
    "postgresql": PostgreSQL(),
}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def migrated_postgres(postgres: PostgresServer) -> MigratedPostgres:
    return MigratedPostgres(postgres)


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(params=sorted(DATABASES))
def backend(request: pytest.FixtureRequest) -> Backend:
    return DATABASES[request.param]


@pytest.fixture
async def database_url(
    backend: Backend, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """An empty database; in a test that also uses ``stores``, the stores' database
    (migrated, no rows), so the test can look at what the store wrote."""
    if "stores" in request.fixturenames:
        database = backend.migrated(request, tmp_path)
    else:
        database = backend.empty(request, tmp_path)
    async with database as url:
        yield url


@pytest.fixture
def secret_box() -> SecretBox:
    return SecretBox("test-secret-key")


@pytest.fixture
async def stores(database_url: str, secret_box: SecretBox) -> AsyncIterator[SqlStores]:
    opened = await SqlStores.open(database_url, secret_box)
    try:
        yield opened
    finally:
        await opened.close()
