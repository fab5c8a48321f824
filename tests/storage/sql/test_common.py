"""What every SQL store shares (``storage/sql/common.py``), on every backend of ``stores``:
a conflict is reported as ``Conflict`` even when a concurrent write slips past the check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.storage.sql.given import a_pool, an_identity, raise_code

from minilogin.core.entities import Pool, User
from minilogin.core.errors import Conflict
from minilogin.storage.sql import SqlStores
from minilogin.storage.sql.common import Database


# A conflict the check before the write can miss: another transaction commits in between (on
# PostgreSQL; SQLite writers take turns). The database refuses the row and the caller still
# gets the Conflict, with nothing written.
async def _register_existing_phone(store: SqlStores, pool: Pool) -> None:
    await store.users.create_user(
        User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool, "x")
    )


async def _register_existing_identity(store: SqlStores, pool: Pool) -> None:
    await store.users.create_user(User(pool_id=pool.id, username="new"), an_identity(pool))


async def _link_existing_identity(store: SqlStores, pool: Pool) -> None:
    user = await store.users.create_user(User(pool_id=pool.id, username="new"))
    identity = an_identity(pool)
    identity.user_id = user.id
    await store.users.link_identity(identity)


async def _create_existing_pool(store: SqlStores, pool: Pool) -> None:
    await a_pool(store)


@pytest.mark.parametrize(
    ("write", "code"),
    [
        (_register_existing_phone, "phone_in_use"),
        (_register_existing_identity, "identity_linked"),
        (_link_existing_identity, "identity_linked"),
        (_create_existing_pool, "pool_exists"),
    ],
)
async def test_a_conflict_the_first_check_misses_is_still_reported(
    stores: SqlStores,
    monkeypatch: pytest.MonkeyPatch,
    write: Callable[[SqlStores, Pool], Awaitable[None]],
    code: str,
) -> None:
    pool = await a_pool(stores)
    await stores.users.create_user(User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool))
    real_insert = Database.insert
    checks_per_insert: list[int] = []

    async def insert_after_stale_check(
        self: Database, check: Callable[[AsyncSession], Awaitable[None]], *rows: object
    ) -> None:
        checks_per_insert.append(0)

        async def stale_first(session: AsyncSession) -> None:
            checks_per_insert[-1] += 1
            if checks_per_insert[-1] > 1:
                await check(session)

        await real_insert(self, stale_first, *rows)  # type: ignore[arg-type]

    monkeypatch.setattr(Database, "insert", insert_after_stale_check)
    await raise_code(write(stores, pool), Conflict, code)
    monkeypatch.undo()
    # The stale check let the row through, the database refused it, the check ran again.
    assert checks_per_insert[-1] == 2
    assert await stores.users.find_user_by_phone(pool.id, "+8613800138000") is not None
    assert len(await stores.pools.list_pools()) == 1
