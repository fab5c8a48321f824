"""Identity pools on SQL: ``PoolStore`` of ``minilogin.ports``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import Pool
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql.common import Database, exists_where, new_id, table, utc
from minilogin.storage.sql.models import PoolRow

_pools = table(PoolRow)
# Read on every login whose pool the configuration cache doesn't hold: Core, built once.
_BY_SLUG = select(_pools).where(_pools.c.slug == bindparam("slug"))
_ALL = select(_pools).order_by(_pools.c.created_at, _pools.c.id)


class SqlPoolStore:
    """``PoolStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_pool(self, pool: Pool) -> Pool:
        row = PoolRow(
            id=pool.id or new_id("pool"),
            slug=pool.slug,
            name=pool.name,
            logo_url=pool.logo_url,
            created_at=utc(pool.created_at),
        )

        async def check(session: AsyncSession) -> None:
            if await exists_where(session, PoolRow.slug == row.slug):
                raise Conflict("pool_exists")

        await self._db.insert(check, row)
        return _pool(row)

    async def get_pool(self, slug: str) -> Pool | None:
        def get(connection: Connection) -> Pool | None:
            row = connection.execute(_BY_SLUG, {"slug": slug}).first()
            return None if row is None else _pool(row)

        return await self._db.lookup(get)

    async def list_pools(self) -> list[Pool]:
        def list_them(connection: Connection) -> list[Pool]:
            return [_pool(row) for row in connection.execute(_ALL)]

        return await self._db.read(list_them)

    async def update_pool(self, pool: Pool) -> Pool:
        async with self._db.transaction() as session:
            row = await session.scalar(
                update(PoolRow)
                .where(PoolRow.id == pool.id)
                .values(name=pool.name, logo_url=pool.logo_url)
                .returning(PoolRow)
            )
        if row is None:
            raise NotFound("unknown_pool")
        return _pool(row)

    async def delete_pool(self, pool_id: str) -> None:
        # Foreign keys cascade to the pool's applications, sources, users and identities.
        await self._db.delete_one(delete(PoolRow).where(PoolRow.id == pool_id), "unknown_pool")


def _pool(row: PoolRow | Row[Any]) -> Pool:
    return Pool(
        id=row.id, slug=row.slug, name=row.name, logo_url=row.logo_url, created_at=row.created_at
    )
