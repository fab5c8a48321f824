"""The identity source store (``storage/sql/identity_sources.py``) on every backend of
``stores``: sources, enabling them per application, AppSecrets readable with the right key only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from tests.storage.sql.given import APP_SECRET, T0, a_pool, a_source, raise_code

from minilogin.core.entities import Application, Association, EnvVersion, IdentitySource, LoginMode
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.crypto import SecretBox, SecretBoxError
from minilogin.storage.sql import SqlStores
from minilogin.storage.sql import identity_sources as identity_sources_module


async def test_an_identity_source_keeps_every_field(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    given = IdentitySource(
        pool_id=pool.id,
        unique_id="wechat-mp-qrcode",
        display_name="小程序扫码",
        callback_url="https://shop.example/after",
        private_deployment=True,
        app_id="wx1234567890abcdef",
        app_secret=APP_SECRET,
        login_mode=LoginMode.LOGIN_ONLY,
        association=Association.ASK_BINDING,
        page="pages/scan/scan",
        env_version=EnvVersion.TRIAL,
        qr_expires_in=300,
        logo=b"\x89PNG\r\n\x1a\n-logo-bytes",
        logo_version=3,
    )
    created = await stores.identity_sources.create_identity_source(given)
    assert created.id.startswith("conn_")
    given.id, given.created_at = created.id, created.created_at
    assert created == given
    assert await stores.identity_sources.get_identity_source(pool.id, "wechat-mp-qrcode") == given


async def test_an_identity_source_without_an_app_secret_reads_back_without_one(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    await a_source(stores, pool)
    source = await stores.identity_sources.get_identity_source(pool.id, "wechat-mp-qrcode")
    assert source is not None
    assert source.app_secret is None
    assert not source.app_secret_set


async def test_a_unique_id_is_unique_within_a_pool_only(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    await a_source(stores, demo)
    await raise_code(a_source(stores, demo), Conflict, "connection_exists")
    await a_source(stores, other)
    assert (
        await stores.identity_sources.get_identity_source(other.id, "wechat-mp-qrcode") is not None
    )
    assert await stores.identity_sources.get_identity_source(demo.id, "nope") is None


async def test_identity_sources_are_listed_per_pool_oldest_first(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    await a_source(stores, demo, "late", created_at=T0 + timedelta(minutes=1))
    await a_source(stores, demo, "early", created_at=T0)
    await a_source(stores, other, "elsewhere")
    listed = await stores.identity_sources.list_identity_sources(demo.id)
    assert [source.unique_id for source in listed] == ["early", "late"]


async def test_sources_are_enabled_per_application_in_creation_order(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    for client_id in ("shop", "blog"):
        await stores.applications.create_application(
            Application(pool_id=pool.id, client_id=client_id, name=client_id)
        )
    await a_source(stores, pool, "second", created_at=T0 + timedelta(minutes=1))
    await a_source(stores, pool, "first", created_at=T0)
    await stores.identity_sources.enable_identity_source(pool.id, "shop", "second")
    await stores.identity_sources.enable_identity_source(pool.id, "shop", "first")
    await stores.identity_sources.enable_identity_source(
        pool.id, "shop", "first"
    )  # again: no change

    enabled = await stores.identity_sources.enabled_identity_sources(pool.id, "shop")
    assert [source.unique_id for source in enabled] == ["first", "second"]
    assert await stores.identity_sources.enabled_identity_sources(pool.id, "blog") == []

    await stores.identity_sources.disable_identity_source(pool.id, "shop", "first")
    await stores.identity_sources.disable_identity_source(
        pool.id, "shop", "first"
    )  # again: no change
    enabled = await stores.identity_sources.enabled_identity_sources(pool.id, "shop")
    assert [source.unique_id for source in enabled] == ["second"]


async def test_enabled_sources_of_an_unknown_application_are_none(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    assert await stores.identity_sources.enabled_identity_sources(pool.id, "nope") == []


@pytest.mark.parametrize("toggle", ["enable_identity_source", "disable_identity_source"])
async def test_enabling_names_an_application_and_a_source_of_the_same_pool(
    stores: SqlStores, toggle: str
) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    await stores.applications.create_application(
        Application(pool_id=demo.id, client_id="a", name="A")
    )
    await a_source(stores, demo, "mine")
    await a_source(stores, other, "theirs")
    method: Callable[[str, str, str], Awaitable[None]] = getattr(stores.identity_sources, toggle)
    await raise_code(method(demo.id, "nope", "mine"), NotFound, "unknown_client")
    await raise_code(method(demo.id, "a", "theirs"), NotFound, "unknown_connection")
    await raise_code(method(other.id, "a", "theirs"), NotFound, "unknown_client")


async def test_enabling_concurrently_is_harmless(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    await stores.applications.create_application(
        Application(pool_id=pool.id, client_id="a", name="A")
    )
    await a_source(stores, pool)
    await asyncio.gather(
        *(
            stores.identity_sources.enable_identity_source(pool.id, "a", "wechat-mp-qrcode")
            for _ in range(8)
        )
    )
    assert len(await stores.identity_sources.enabled_identity_sources(pool.id, "a")) == 1


async def test_an_enable_that_loses_a_race_still_succeeds(
    stores: SqlStores, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = await a_pool(stores)
    await stores.applications.create_application(
        Application(pool_id=pool.id, client_id="a", name="A")
    )
    await a_source(stores, pool)
    await stores.identity_sources.enable_identity_source(pool.id, "a", "wechat-mp-qrcode")

    # The next existence check answers as if read before a concurrent enable committed.
    real_exists = identity_sources_module.exists_where
    answers = iter([False])

    async def stale_once(session: AsyncSession, *where: ColumnElement[bool]) -> bool:
        answer = next(answers, None)
        return answer if answer is not None else await real_exists(session, *where)

    monkeypatch.setattr(identity_sources_module, "exists_where", stale_once)
    await stores.identity_sources.enable_identity_source(pool.id, "a", "wechat-mp-qrcode")
    assert len(await stores.identity_sources.enabled_identity_sources(pool.id, "a")) == 1


async def test_a_store_with_another_key_cannot_read_the_secrets(
    stores: SqlStores, database_url: str
) -> None:
    pool = await a_pool(stores)
    await a_source(stores, pool, app_secret=APP_SECRET)
    other = await SqlStores.open(database_url, SecretBox("another-key"))
    try:
        with pytest.raises(SecretBoxError, match="MINILOGIN_SECRET_KEY"):
            await other.identity_sources.get_identity_source(pool.id, "wechat-mp-qrcode")
    finally:
        await other.close()


async def test_a_source_changes_all_but_its_id_logo_and_creation_keeping_an_unsent_secret(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    created = await a_source(stores, pool, app_secret=APP_SECRET, logo=b"logo", logo_version=2)
    changed = IdentitySource(
        pool_id=pool.id,
        unique_id="wechat-mp-qrcode",
        display_name="新名字",
        callback_url="https://shop.example/after",
        private_deployment=True,
        app_id="wx-own",
        app_secret=None,
        login_mode=LoginMode.LOGIN_ONLY,
        association=Association.ASK_BINDING,
        page="pages/scan/scan",
        env_version=EnvVersion.TRIAL,
        qr_expires_in=300,
        logo=b"ignored",
        logo_version=9,
        created_at=T0,
    )
    updated = await stores.identity_sources.update_identity_source(changed)
    changed.id, changed.created_at = created.id, created.created_at
    changed.app_secret, changed.logo, changed.logo_version = APP_SECRET, b"logo", 2
    assert updated == changed
    changed.app_secret = "a-new-secret"
    updated = await stores.identity_sources.update_identity_source(changed)
    assert updated.app_secret == "a-new-secret"
    assert await stores.identity_sources.get_identity_source(pool.id, "wechat-mp-qrcode") == updated
    changed.unique_id = "missing"
    await raise_code(
        stores.identity_sources.update_identity_source(changed), NotFound, "unknown_connection"
    )


async def test_each_logo_change_gets_a_new_version(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    await a_source(stores, pool)
    versions = await asyncio.gather(
        *(
            stores.identity_sources.set_identity_source_logo(
                pool.id, "wechat-mp-qrcode", f"logo-{n}".encode()
            )
            for n in range(4)
        )
    )
    assert sorted(source.logo_version for source in versions) == [1, 2, 3, 4]
    removed = await stores.identity_sources.set_identity_source_logo(
        pool.id, "wechat-mp-qrcode", None
    )
    assert (removed.logo, removed.logo_version) == (None, 5)
    await raise_code(
        stores.identity_sources.set_identity_source_logo(pool.id, "missing", b"x"),
        NotFound,
        "unknown_connection",
    )


async def test_the_applications_using_a_source_are_listed_until_it_is_deleted(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    for minutes, client_id in [(1, "blog"), (0, "shop"), (2, "unused")]:
        await stores.applications.create_application(
            Application(
                pool_id=pool.id,
                client_id=client_id,
                name=client_id,
                created_at=T0 + timedelta(minutes=minutes),
            )
        )
    await a_source(stores, pool)
    for client_id in ("blog", "shop"):
        await stores.identity_sources.enable_identity_source(pool.id, client_id, "wechat-mp-qrcode")
    using = await stores.identity_sources.applications_using(pool.id, "wechat-mp-qrcode")
    assert [application.client_id for application in using] == ["shop", "blog"]

    await stores.identity_sources.delete_identity_source(pool.id, "wechat-mp-qrcode")
    assert await stores.identity_sources.get_identity_source(pool.id, "wechat-mp-qrcode") is None
    assert await stores.identity_sources.applications_using(pool.id, "wechat-mp-qrcode") == []
    assert await stores.identity_sources.enabled_identity_sources(pool.id, "shop") == []
    await raise_code(
        stores.identity_sources.delete_identity_source(pool.id, "wechat-mp-qrcode"),
        NotFound,
        "unknown_connection",
    )
