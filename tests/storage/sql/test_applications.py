"""The application store (``storage/sql/applications.py``) on every backend of ``stores``."""

from __future__ import annotations

from datetime import timedelta

from tests.storage.sql.given import T0, a_pool, raise_code

from minilogin.core.entities import Application, ApplicationType
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql import SqlStores


async def test_an_application_keeps_every_field(stores: SqlStores) -> None:
    pool = await a_pool(stores)
    given = Application(
        pool_id=pool.id,
        client_id="shop",
        name="商城",
        type=ApplicationType.WEB,
        redirect_uris=["https://shop.example/cb", "https://shop.example/cb2"],
        web_origins=["https://shop.example"],
        post_logout_redirect_uris=["https://shop.example/bye"],
        client_secret_hash="$argon2id$…",
        id_token_lifetime=600,
        access_token_lifetime=900,
        refresh_token_lifetime=86400,
    )
    created = await stores.applications.create_application(given)
    assert created.created_at is not None
    given.created_at = created.created_at
    assert created == given
    assert await stores.applications.get_application(pool.id, "shop") == given


async def test_an_application_is_found_only_in_its_pool(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    await stores.applications.create_application(
        Application(pool_id=demo.id, client_id="a", name="A")
    )
    assert await stores.applications.get_application(other.id, "a") is None
    assert await stores.applications.get_application(demo.id, "b") is None


async def test_a_client_id_is_unique_across_pools(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    await stores.applications.create_application(
        Application(pool_id=demo.id, client_id="a", name="A")
    )
    await raise_code(
        stores.applications.create_application(
            Application(pool_id=other.id, client_id="a", name="A")
        ),
        Conflict,
        "client_id_exists",
    )


async def test_an_application_needs_an_existing_pool(stores: SqlStores) -> None:
    await raise_code(
        stores.applications.create_application(
            Application(pool_id="pool_x", client_id="a", name="A")
        ),
        NotFound,
        "unknown_pool",
    )


async def test_applications_are_listed_per_pool_oldest_first(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    for minutes, client_id in [(1, "b"), (0, "a")]:
        await stores.applications.create_application(
            Application(
                pool_id=demo.id,
                client_id=client_id,
                name=client_id,
                created_at=T0 + timedelta(minutes=minutes),
            )
        )
    await stores.applications.create_application(
        Application(pool_id=other.id, client_id="c", name="c")
    )
    listed = await stores.applications.list_applications(demo.id)
    assert [application.client_id for application in listed] == ["a", "b"]


async def test_an_application_changes_all_but_its_client_id_type_and_creation(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)
    created = await stores.applications.create_application(
        Application(pool_id=pool.id, client_id="shop", name="Shop", type=ApplicationType.WEB)
    )
    changed = Application(
        pool_id=pool.id,
        client_id="shop",
        name="商城",
        type=ApplicationType.SPA,
        redirect_uris=["https://shop.example/cb"],
        web_origins=["https://shop.example"],
        post_logout_redirect_uris=["https://shop.example/bye"],
        client_secret_hash="$argon2id$new",
        id_token_lifetime=60,
        access_token_lifetime=120,
        refresh_token_lifetime=3600,
        id_token_signed_response_alg="RS256",
        pkce_required=True,
        resource_server=True,
        created_at=T0,
    )
    updated = await stores.applications.update_application(changed)
    changed.type, changed.created_at = ApplicationType.WEB, created.created_at
    assert updated == changed
    assert await stores.applications.get_application(pool.id, "shop") == changed
    changed.client_id = "missing"
    await raise_code(stores.applications.update_application(changed), NotFound, "unknown_client")


async def test_an_application_is_deleted_in_its_pool_only(stores: SqlStores) -> None:
    demo, other = await a_pool(stores), await a_pool(stores, "other")
    await stores.applications.create_application(
        Application(pool_id=demo.id, client_id="a", name="A")
    )
    await raise_code(
        stores.applications.delete_application(other.id, "a"), NotFound, "unknown_client"
    )
    await stores.applications.delete_application(demo.id, "a")
    assert await stores.applications.list_applications(demo.id) == []
