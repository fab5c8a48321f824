"""What every SQL store shares (``storage/sql/common.py``), on every backend of ``stores``:
a conflict is reported as ``Conflict`` even when a concurrent write slips past the check. On a
SQLite file, a write that another process's lock holds up waits for it without holding up
the event loop."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.storage.sql.given import a_pool, an_identity, raise_code

from minilogin.core.entities import CodeImage, Pool, User
from minilogin.core.errors import Conflict
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStores, upgrade_async
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


def _stale_first(check: Callable[..., object], checks: list[int]) -> Callable[..., object]:
    """``check``, except that its first run sees nothing: the write slips past it."""
    checks.append(0)

    def stale_first(*context: object) -> object:
        checks[-1] += 1
        return check(*context) if checks[-1] > 1 else _nothing(check)

    return stale_first


def _nothing(check: Callable[..., object]) -> object:
    # The ORM stores' checks are coroutine functions, the Core stores' plain ones.
    if inspect.iscoroutinefunction(check):
        return asyncio.sleep(0)
    return None


def _add_after_stale_check(real: Callable[..., Awaitable[object]], checks: list[int]) -> object:
    async def add(self: Database, check: Callable[..., object], *rest: object) -> object:
        return await real(self, _stale_first(check, checks), *rest)

    return add


@pytest.mark.parametrize(
    ("write", "method", "code"),
    [
        (_register_existing_phone, "add", "phone_in_use"),
        (_register_existing_identity, "add", "identity_linked"),
        (_link_existing_identity, "add", "identity_linked"),
        (_create_existing_pool, "insert", "pool_exists"),
    ],
)
async def test_a_conflict_the_first_check_misses_is_still_reported(
    stores: SqlStores,
    monkeypatch: pytest.MonkeyPatch,
    write: Callable[[SqlStores, Pool], Awaitable[None]],
    method: str,
    code: str,
) -> None:
    pool = await a_pool(stores)
    await stores.users.create_user(User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool))
    checks_per_write: list[int] = []
    real = getattr(Database, method)
    monkeypatch.setattr(Database, method, _add_after_stale_check(real, checks_per_write))
    await raise_code(write(stores, pool), Conflict, code)
    monkeypatch.undo()
    # The stale check let the row through, the database refused it, the check ran again.
    assert checks_per_write[-1] == 2
    assert await stores.users.find_user_by_phone(pool.id, "+8613800138000") is not None
    assert len(await stores.pools.list_pools()) == 1


async def test_a_write_another_process_holds_up_waits_off_the_event_loop(
    tmp_path: Path, secret_box: SecretBox
) -> None:
    path = tmp_path / "data" / "minilogin.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    stores = await SqlStores.open(url, secret_box)
    image = CodeImage("image/png", b"\x89PNG\r\n\x1a\n")
    until = datetime.now(UTC) + timedelta(hours=1)
    try:
        await stores.code_images.put_code_image("wx1", "before", image, until)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("DELETE FROM code_images")
        # Committed from the event loop: a write that waited on the loop's thread for the
        # lock would hold it until SQLite's busy timeout ran out, and fail.
        asyncio.get_running_loop().call_later(0.2, other.execute, "COMMIT")
        await stores.code_images.put_code_image("wx1", "after", image, until)
        assert await stores.code_images.get_code_image("wx1", "before") is None
        assert await stores.code_images.get_code_image("wx1", "after") == image
        other.close()
    finally:
        await stores.close()
