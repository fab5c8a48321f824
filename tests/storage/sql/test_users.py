"""The user store (``storage/sql/users.py``) on every backend of ``stores``: users, their
WeChat identities, the uniqueness rules and concurrent writes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from tests.storage.sql.given import T0, a_pool, an_identity, raise_code

from minilogin.core.entities import User, WeChatIdentity
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql import SqlStores


async def test_a_new_user_gets_an_id_and_is_found_by_id_and_phone(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    user = await stores.users.create_user(
        User(pool_id=pool.id, phone="+8613800138000", phone_verified=True, nickname="小明")
    )
    assert user.id.startswith("usr_")
    assert user.created_at is not None
    assert user.login_count == 0
    assert user.last_login_at is None
    assert await stores.users.get_user(pool.id, user.id) == user
    assert await stores.users.find_user_by_phone(pool.id, "+8613800138000") == user


async def test_a_user_keeps_every_field(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    given = User(
        pool_id=pool.id,
        id="usr_given",
        phone="+8613800138000",
        phone_verified=True,
        username="xiaoming",
        email="xm@example.com",
        password_hash="$argon2id$…",
        nickname="小明",
        avatar_url="https://x/a.png",
        blocked=True,
        login_count=7,
        last_login_at=T0,
        created_at=T0 - timedelta(days=1),
    )
    assert await stores.users.create_user(given) == given
    assert await stores.users.get_user(pool.id, "usr_given") == given


async def test_users_are_found_only_in_their_pool(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    user = await stores.users.create_user(User(pool_id=demo.id, phone="+8613800138000"))
    assert await stores.users.get_user(other.id, user.id) is None
    assert await stores.users.find_user_by_phone(other.id, "+8613800138000") is None
    assert await stores.users.get_user(demo.id, "usr_nope") is None


async def test_a_phone_number_belongs_to_one_user_per_pool(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    await stores.users.create_user(User(pool_id=demo.id, phone="+8613800138000"))
    await raise_code(
        stores.users.create_user(User(pool_id=demo.id, phone="+8613800138000")),
        Conflict,
        "phone_in_use",
    )
    await stores.users.create_user(User(pool_id=other.id, phone="+8613800138000"))


async def test_usernames_are_unique_regardless_of_case_and_stored_lowercased(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    user = await stores.users.create_user(User(pool_id=pool.id, username="XiaoMing"))
    assert user.username == "xiaoming"
    await raise_code(
        stores.users.create_user(User(pool_id=pool.id, username="xiaoming")),
        Conflict,
        "username_taken",
    )


async def test_many_users_may_have_neither_phone_nor_username(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    first = await stores.users.create_user(User(pool_id=pool.id))
    second = await stores.users.create_user(User(pool_id=pool.id))
    assert first.id != second.id


async def test_a_user_needs_an_existing_pool(stores: SqlStores) -> None:
    await raise_code(stores.users.create_user(User(pool_id="pool_x")), NotFound, "unknown_pool")


async def test_a_user_created_with_an_identity_is_found_through_it(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    user = await stores.users.create_user(
        User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool, unionid="u-1")
    )
    identity = await stores.users.find_identity(pool.id, "wx-app", "o-1")
    assert identity is not None
    assert identity.id.startswith("wxid_")
    assert identity.user_id == user.id
    assert identity.unionid == "u-1"
    assert identity.created_at == user.created_at
    assert await stores.users.find_identity_by_unionid(pool.id, "u-1") == identity
    assert await stores.users.find_identity(pool.id, "wx-other", "o-1") is None


async def test_creating_a_user_with_a_linked_identity_creates_nothing(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    first = await stores.users.create_user(User(pool_id=pool.id), an_identity(pool))
    await raise_code(
        stores.users.create_user(
            User(pool_id=pool.id, phone="+8613800138000", username="second"), an_identity(pool)
        ),
        Conflict,
        "identity_linked",
    )
    assert await stores.users.find_user_by_phone(pool.id, "+8613800138000") is None
    # The username is still free: the failed user was not written.
    await stores.users.create_user(User(pool_id=pool.id, username="second"))
    identity = await stores.users.find_identity(pool.id, "wx-app", "o-1")
    assert identity is not None
    assert identity.user_id == first.id


async def test_a_user_and_its_identity_must_be_of_one_pool(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    with pytest.raises(ValueError, match="pool"):
        await stores.users.create_user(User(pool_id=demo.id), an_identity(other))


async def test_an_identity_links_to_an_existing_user_once(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    user = await stores.users.create_user(User(pool_id=pool.id))
    identity = an_identity(pool)
    identity.user_id = user.id
    linked = await stores.users.link_identity(identity)
    assert linked.user_id == user.id
    assert linked.created_at is not None
    assert await stores.users.find_identity(pool.id, "wx-app", "o-1") == linked
    other_user = await stores.users.create_user(User(pool_id=pool.id))
    identity.user_id = other_user.id
    await raise_code(stores.users.link_identity(identity), Conflict, "identity_linked")


async def test_an_identity_links_only_to_a_user_of_its_pool(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    user = await stores.users.create_user(User(pool_id=other.id))
    identity = an_identity(demo)
    identity.user_id = user.id
    await raise_code(stores.users.link_identity(identity), NotFound, "unknown_user")


async def test_a_unionid_finds_the_oldest_identity_in_the_pool(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    user = await stores.users.create_user(User(pool_id=demo.id))
    for minutes, app_id in [(1, "wx-new"), (0, "wx-old")]:
        await stores.users.link_identity(
            WeChatIdentity(
                pool_id=demo.id,
                user_id=user.id,
                app_id=app_id,
                openid=f"o-{app_id}",
                unionid="u-1",
                created_at=T0 + timedelta(minutes=minutes),
            )
        )
    found = await stores.users.find_identity_by_unionid(demo.id, "u-1")
    assert found is not None
    assert found.app_id == "wx-old"
    assert await stores.users.find_identity_by_unionid(other.id, "u-1") is None


async def test_a_login_is_counted_with_the_profile_sent(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    user = await stores.users.create_user(User(pool_id=pool.id, nickname="old"))
    after = await stores.users.record_login(
        pool.id, user.id, T0, {"nickname": "小明", "avatar_url": "https://x/a.png"}
    )
    assert (after.login_count, after.last_login_at) == (1, T0)
    assert (after.nickname, after.avatar_url) == ("小明", "https://x/a.png")
    assert await stores.users.get_user(pool.id, user.id) == after

    later = T0 + timedelta(hours=1)
    again = await stores.users.record_login(pool.id, user.id, later, {"nickname": ""})
    assert (again.login_count, again.last_login_at) == (2, later)
    assert (again.nickname, again.avatar_url) == ("小明", "https://x/a.png")


async def test_a_login_of_an_unknown_user_is_not_found(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    user = await stores.users.create_user(User(pool_id=demo.id))
    await raise_code(stores.users.record_login(other.id, user.id, T0, {}), NotFound, "unknown_user")


async def test_a_login_by_identity_counts_only_the_linked_user_who_is_not_blocked(
    stores: SqlStores,
) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    user = await stores.users.create_user(User(pool_id=demo.id), an_identity(demo, "o-1"))
    profile = {"nickname": "小明", "avatar_url": ""}
    after = await stores.users.record_login_by_identity(demo.id, "wx-app", "o-1", T0, profile)
    assert after is not None
    assert (after.id, after.login_count, after.last_login_at) == (user.id, 1, T0)
    assert (after.nickname, after.avatar_url) == ("小明", None)
    assert await stores.users.get_user(demo.id, user.id) == after

    for pool_id, app_id, openid in (
        (demo.id, "wx-app", "o-2"),
        (demo.id, "wx-other-app", "o-1"),
        (other.id, "wx-app", "o-1"),
    ):
        assert await stores.users.record_login_by_identity(pool_id, app_id, openid, T0, {}) is None
    blocked = await stores.users.update_user(replace(after, blocked=True))
    assert await stores.users.record_login_by_identity(demo.id, "wx-app", "o-1", T0, {}) is None
    assert await stores.users.get_user(demo.id, user.id) == blocked, "nothing written"


async def test_concurrent_logins_are_all_counted(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    user = await stores.users.create_user(User(pool_id=pool.id))
    await asyncio.gather(*(stores.users.record_login(pool.id, user.id, T0, {}) for _ in range(10)))
    after = await stores.users.get_user(pool.id, user.id)
    assert after is not None
    assert after.login_count == 10


async def test_of_concurrent_registrations_of_one_phone_exactly_one_wins(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    results = await asyncio.gather(
        *(
            stores.users.create_user(
                User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool, f"o-{n}")
            )
            for n in range(8)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(result, User) for result in results) == 1
    losers = [result for result in results if not isinstance(result, User)]
    assert all(isinstance(loser, Conflict) and loser.code == "phone_in_use" for loser in losers)


async def test_users_are_searched_newest_first_by_part_of_any_name(stores: SqlStores) -> None:
    pool, other = await a_pool(stores), await a_pool(stores, "other")
    for minutes, fields in enumerate(
        [
            {"phone": "+8613800138000"},
            {"username": "XiaoMing"},
            {"nickname": "小明 Ming"},
            {"email": "MING@example.com"},
            {"nickname": "100%_sure"},
        ]
    ):
        await stores.users.create_user(
            User(pool_id=pool.id, created_at=T0 + timedelta(minutes=minutes), **fields)
        )
    await stores.users.create_user(User(pool_id=other.id, nickname="ming elsewhere"))

    found, total = await stores.users.search_users(pool.id, " MING ", 10, 0)
    assert total == 3
    assert [(user.username, user.nickname, user.email) for user in found] == [
        (None, None, "MING@example.com"),
        (None, "小明 Ming", None),
        ("xiaoming", None, None),
    ]
    page, total = await stores.users.search_users(pool.id, None, 2, 1)
    assert total == 5
    assert [user.email for user in page] == ["MING@example.com", None]
    assert [user.nickname for user in page] == [None, "小明 Ming"]
    # LIKE's wildcards are matched as themselves.
    wild, total = await stores.users.search_users(pool.id, "0%_", 10, 0)
    assert (total, [user.nickname for user in wild]) == (1, ["100%_sure"])
    assert await stores.users.search_users(pool.id, "139", 10, 0) == ([], 0)


async def test_a_user_is_updated_unless_the_phone_or_username_is_anothers(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    await stores.users.create_user(User(pool_id=pool.id, phone="+8613800138000", username="a"))
    user = await stores.users.create_user(User(pool_id=pool.id, nickname="b"))
    user.username, user.email, user.blocked = "NewName", "b@example.com", True
    updated = await stores.users.update_user(user)
    assert updated.username == "newname"
    assert (updated.email, updated.blocked) == ("b@example.com", True)
    assert await stores.users.find_user_by_username(pool.id, "NEWNAME") == updated

    user.phone = "+8613800138000"
    await raise_code(stores.users.update_user(user), Conflict, "phone_in_use")
    user.phone, user.username = None, "A"
    await raise_code(stores.users.update_user(user), Conflict, "username_taken")
    user.username, user.id = None, "usr_missing"
    await raise_code(stores.users.update_user(user), NotFound, "unknown_user")


async def test_identities_are_listed_unlinked_and_deleted_with_their_user(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    user = await stores.users.create_user(User(pool_id=pool.id), an_identity(pool, "o-1"))
    second = an_identity(pool, "o-2")
    second.user_id, second.created_at = user.id, T0 + timedelta(days=365)
    await stores.users.link_identity(second)
    listed = await stores.users.list_identities(pool.id, user.id)
    assert [identity.openid for identity in listed] == ["o-1", "o-2"]

    await stores.users.unlink_identity(pool.id, user.id, listed[0].id)
    assert await stores.users.find_identity(pool.id, "wx-app", "o-1") is None
    await raise_code(
        stores.users.unlink_identity(pool.id, user.id, listed[0].id), NotFound, "unknown_identity"
    )
    await stores.users.delete_user(pool.id, user.id)
    assert await stores.users.get_user(pool.id, user.id) is None
    assert await stores.users.find_identity(pool.id, "wx-app", "o-2") is None
    await raise_code(stores.users.delete_user(pool.id, user.id), NotFound, "unknown_user")
