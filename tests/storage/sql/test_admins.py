"""The administrator store (``storage/sql/admins.py``) on every backend of ``stores``."""

from __future__ import annotations

import pytest
from tests.storage.sql.given import T0, raise_code

from minilogin.core.entities import Admin, ApiToken
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql import SqlStores


async def test_administrators_and_tokens_are_listed_described_and_deleted(
    stores: SqlStores,
) -> None:
    boss = await stores.admins.create_admin(Admin(username="boss", password_hash="h1"))
    await stores.admins.create_admin(Admin(username="alice", password_hash="h2"))
    owned = await stores.admins.create_api_token(ApiToken(token_hash="t1", admin_id=boss.id))
    unowned = await stores.admins.create_api_token(ApiToken(token_hash="t2", description="ci"))

    assert [admin.username for admin in await stores.admins.list_admins()] == ["alice", "boss"]
    assert {token.id for token in await stores.admins.list_api_tokens()} == {owned.id, unowned.id}
    described = await stores.admins.describe_api_token(owned.id, "deploy")
    assert described.description == "deploy"
    assert (await stores.admins.get_api_token(owned.id)) == described
    assert await stores.admins.get_api_token("tok_missing") is None

    await stores.admins.delete_api_token(unowned.id)
    with pytest.raises(NotFound, match="unknown_api_token"):
        await stores.admins.delete_api_token(unowned.id)
    with pytest.raises(NotFound, match="unknown_api_token"):
        await stores.admins.describe_api_token(unowned.id, "x")
    # Deleting an administrator takes their tokens with them.
    await stores.admins.delete_admin(boss.id)
    assert await stores.admins.list_api_tokens() == []
    assert [admin.username for admin in await stores.admins.list_admins()] == ["alice"]
    with pytest.raises(NotFound, match="unknown_admin"):
        await stores.admins.delete_admin(boss.id)


async def test_an_administrator_is_found_by_username_in_any_case_and_by_id(
    stores: SqlStores,
) -> None:
    boss = await stores.admins.create_admin(Admin(username="Boss", password_hash="h1"))
    assert boss.username == "boss"
    assert await stores.admins.find_admin("BOSS") == boss
    assert await stores.admins.get_admin(boss.id) == boss
    assert await stores.admins.find_admin("alice") is None
    assert await stores.admins.get_admin("adm_missing") is None
    await raise_code(
        stores.admins.create_admin(Admin(username="bOSS", password_hash="h2")),
        Conflict,
        "admin_exists",
    )


async def test_a_password_is_changed_for_a_known_administrator_only(stores: SqlStores) -> None:
    boss = await stores.admins.create_admin(Admin(username="boss", password_hash="h1"))
    await stores.admins.set_admin_password(boss.id, "h2")
    found = await stores.admins.get_admin(boss.id)
    assert found is not None
    assert found.password_hash == "h2"
    await raise_code(
        stores.admins.set_admin_password("adm_missing", "h3"), NotFound, "unknown_admin"
    )


async def test_an_api_token_is_found_by_hash_and_its_use_recorded(stores: SqlStores) -> None:
    token = await stores.admins.create_api_token(ApiToken(token_hash="t1", description="ci"))
    assert token.id.startswith("tok_")
    assert token.last_used_at is None
    assert await stores.admins.find_api_token("t1") == token
    assert await stores.admins.find_api_token("t2") is None
    await stores.admins.touch_api_token(token.id, T0)
    touched = await stores.admins.find_api_token("t1")
    assert touched is not None
    assert touched.last_used_at == T0
    await raise_code(
        stores.admins.create_api_token(ApiToken(token_hash="t1")), Conflict, "api_token_exists"
    )
    await raise_code(
        stores.admins.create_api_token(ApiToken(token_hash="t3", admin_id="adm_missing")),
        NotFound,
        "unknown_admin",
    )
