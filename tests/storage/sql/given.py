"""What the SQL stores' contract tests build on: a pool, a source, an identity, a look at the
raw rows, and the check that a call fails with a given error code."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from minilogin.core.entities import IdentitySource, Pool, WeChatIdentity
from minilogin.storage.sql import SqlStores, make_engine

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
APP_SECRET = "0123456789abcdef-plaintext-app-secret"
PRIVATE_JWK = '{"kty":"EC","crv":"P-256","d":"private-scalar-that-must-stay-secret"}'


async def a_pool(stores: SqlStores, slug: str = "demo") -> Pool:
    return await stores.pools.create_pool(Pool(slug=slug, name=slug.title()))


async def a_source(
    stores: SqlStores, pool: Pool, unique_id: str = "wechat-mp-qrcode", **fields: object
) -> IdentitySource:
    source = IdentitySource(pool_id=pool.id, unique_id=unique_id, display_name="扫码登录")
    for name, value in fields.items():
        setattr(source, name, value)
    return await stores.identity_sources.create_identity_source(source)


def an_identity(pool: Pool, openid: str = "o-1", unionid: str | None = None) -> WeChatIdentity:
    return WeChatIdentity(
        pool_id=pool.id, user_id="", app_id="wx-app", openid=openid, unionid=unionid
    )


async def raise_code(call: Awaitable[object], kind: type[Exception], code: str) -> None:
    with pytest.raises(kind) as caught:
        await call
    assert getattr(caught.value, "code", None) == code


async def raw_rows(database_url: str, query: str) -> list[tuple[object, ...]]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()
