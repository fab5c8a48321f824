"""The administrator store (``storage/sql/admins.py``) on every backend of ``stores``."""

from __future__ import annotations

import pytest

from minilogin.core.entities import Admin, ApiToken
from minilogin.core.errors import NotFound
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
