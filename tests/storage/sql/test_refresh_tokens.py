"""The refresh token store (``storage/sql/refresh_tokens.py``) on every backend of ``stores``:
tokens kept by hash, rotation that lets one of two concurrent rotations win, revocation by
family and by user and client."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from tests.storage.sql.given import T0, a_pool, raise_code

from minilogin.core.entities import Pool, RefreshToken, User
from minilogin.core.errors import Conflict
from minilogin.storage.sql import SqlStores


async def a_user(stores: SqlStores) -> tuple[Pool, User]:
    pool = await a_pool(stores)
    return pool, await stores.users.create_user(User(pool_id=pool.id))


def a_token(
    pool: Pool, user: User, token_hash: str, family_id: str = "fam-1", client_id: str = "shop"
) -> RefreshToken:
    return RefreshToken(
        pool_id=pool.id,
        client_id=client_id,
        user_id=user.id,
        family_id=family_id,
        token_hash=token_hash,
        scope="openid profile",
        auth_time=1_700_000_000,
        expires_at=T0 + timedelta(days=30),
        amr=["wechat_mp_qrcode"],
        access_token_id="at-1",
        access_expires_at=T0 + timedelta(hours=1),
        created_at=T0,
    )


async def test_a_token_keeps_every_field_and_is_found_by_its_hash(stores: SqlStores) -> None:
    pool, user = await a_user(stores)
    given = a_token(pool, user, "hash-1")
    added = await stores.refresh_tokens.add_refresh_token(given)
    assert added is not None
    assert added.id.startswith("rt_")
    given.id = added.id
    assert added == given
    assert await stores.refresh_tokens.find_refresh_token("hash-1") == given
    assert await stores.refresh_tokens.find_refresh_token("hash-2") is None


async def test_a_token_hash_is_unique(stores: SqlStores) -> None:
    pool, user = await a_user(stores)
    await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-1"))
    await raise_code(
        stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-1", "fam-2")),
        Conflict,
        "refresh_token_exists",
    )


async def test_a_token_of_a_user_gone_blocked_or_of_another_pool_is_not_added(
    stores: SqlStores,
) -> None:
    # The insert is the code exchange's check that the user may still log in.
    pool, user = await a_user(stores)
    other = await stores.pools.create_pool(Pool(slug="other", name="Other"))
    gone = User(pool_id=pool.id, id="usr_gone")
    blocked = await stores.users.create_user(User(pool_id=pool.id, blocked=True))
    for n, who in enumerate((gone, blocked)):
        assert await stores.refresh_tokens.add_refresh_token(a_token(pool, who, f"h{n}")) is None
        assert await stores.refresh_tokens.find_refresh_token(f"h{n}") is None
    elsewhere = a_token(pool, user, "h2")
    elsewhere.pool_id = other.id
    assert await stores.refresh_tokens.add_refresh_token(elsewhere) is None
    assert await stores.refresh_tokens.find_refresh_token("h2") is None
    assert await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "h3")) is not None


async def test_a_failed_insert_is_named_by_what_refused_it_not_taken_for_a_duplicate(
    stores: SqlStores,
) -> None:
    # The insert is not looked before: a refusal other than the hash's is raised as it came.
    pool, user = await a_user(stores)
    token = a_token(pool, user, "hash-1")
    token.scope = None  # type: ignore[assignment]
    with pytest.raises(IntegrityError):
        await stores.refresh_tokens.add_refresh_token(token)
    assert await stores.refresh_tokens.find_refresh_token("hash-1") is None


async def test_rotating_marks_the_token_used_and_adds_its_successor(stores: SqlStores) -> None:
    pool, user = await a_user(stores)
    first = await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-1"))
    when = T0 + timedelta(minutes=5)
    second = await stores.refresh_tokens.rotate_refresh_token(
        first.id, a_token(pool, user, "hash-2"), when
    )
    assert second is not None
    assert await stores.refresh_tokens.find_refresh_token("hash-2") == second
    used = await stores.refresh_tokens.find_refresh_token("hash-1")
    assert used is not None
    assert used.used_at == when


async def test_a_used_or_revoked_token_does_not_rotate_and_nothing_is_written(
    stores: SqlStores,
) -> None:
    pool, user = await a_user(stores)
    first = await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-1"))
    await stores.refresh_tokens.rotate_refresh_token(first.id, a_token(pool, user, "hash-2"), T0)
    replayed = await stores.refresh_tokens.rotate_refresh_token(
        first.id, a_token(pool, user, "hash-3"), T0
    )
    assert replayed is None
    assert await stores.refresh_tokens.find_refresh_token("hash-3") is None

    other = await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-4", "fam-2"))
    await stores.refresh_tokens.revoke_refresh_family("fam-2", T0)
    revoked = await stores.refresh_tokens.rotate_refresh_token(
        other.id, a_token(pool, user, "hash-5", "fam-2"), T0
    )
    assert revoked is None
    assert await stores.refresh_tokens.find_refresh_token("hash-5") is None


async def test_of_concurrent_rotations_of_one_token_exactly_one_wins(stores: SqlStores) -> None:
    pool, user = await a_user(stores)
    first = await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-0"))
    results = await asyncio.gather(
        *(
            stores.refresh_tokens.rotate_refresh_token(
                first.id, a_token(pool, user, f"hash-{n}"), T0
            )
            for n in range(1, 9)
        )
    )
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert await stores.refresh_tokens.find_refresh_token(winners[0].token_hash) == winners[0]


async def test_revoking_a_family_revokes_its_tokens_only(stores: SqlStores) -> None:
    pool, user = await a_user(stores)
    first = await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-1"))
    await stores.refresh_tokens.rotate_refresh_token(first.id, a_token(pool, user, "hash-2"), T0)
    await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-3", "fam-2"))

    when = T0 + timedelta(hours=1)
    revoked = await stores.refresh_tokens.revoke_refresh_family("fam-1", when)
    assert sorted(token.token_hash for token in revoked) == ["hash-1", "hash-2"]
    assert all(token.revoked_at == when for token in revoked)
    again = await stores.refresh_tokens.revoke_refresh_family("fam-1", when + timedelta(hours=1))
    assert all(token.revoked_at == when for token in again)  # the first revocation stands
    untouched = await stores.refresh_tokens.find_refresh_token("hash-3")
    assert untouched is not None
    assert untouched.revoked_at is None


async def test_revoking_a_users_tokens_takes_those_of_one_client(stores: SqlStores) -> None:
    pool, user = await a_user(stores)
    await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-1", "fam-1"))
    await stores.refresh_tokens.add_refresh_token(a_token(pool, user, "hash-2", "fam-2"))
    await stores.refresh_tokens.add_refresh_token(
        a_token(pool, user, "hash-3", "fam-3", client_id="blog")
    )

    revoked = await stores.refresh_tokens.revoke_user_refresh_tokens(pool.id, user.id, "shop", T0)
    assert sorted(token.token_hash for token in revoked) == ["hash-1", "hash-2"]
    assert all(token.revoked_at == T0 for token in revoked)
    blog = await stores.refresh_tokens.find_refresh_token("hash-3")
    assert blog is not None
    assert blog.revoked_at is None
