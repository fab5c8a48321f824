"""The migrations: they bring an empty database to the schema of the models, can run again,
and keep the data already there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from minilogin.core.entities import Application, ApplicationType, Pool
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStore, make_engine, upgrade, upgrade_async
from minilogin.storage.sql.migrate import MIGRATIONS, alembic_config
from minilogin.storage.sql.models import Base

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def _on(database_url: str, inspect_with: object) -> object:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(inspect_with)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


async def test_an_empty_database_is_migrated_to_the_models(database_url: str) -> None:
    await upgrade_async(database_url)
    assert await _on(database_url, _revision) == HEAD
    assert await _on(database_url, _schema_diff) == []
    assert await _on(database_url, _tables) == set(Base.metadata.tables) | {"alembic_version"}


async def test_upgrading_again_changes_nothing_and_keeps_the_data(
    database_url: str, secret_box: SecretBox
) -> None:
    await upgrade_async(database_url)
    store = await SqlStore.open(database_url, secret_box)
    try:
        await store.create_pool(Pool(slug="demo", name="Demo"))
        await upgrade_async(database_url)
        assert await _on(database_url, _revision) == HEAD
        assert await store.get_pool("demo") is not None
    finally:
        await store.close()


async def test_the_synchronous_upgrade_is_for_callers_without_an_event_loop(
    database_url: str,
) -> None:
    # In a thread, as the command line would: asyncio.run needs a thread without a loop.
    await asyncio.to_thread(upgrade, database_url)
    await asyncio.to_thread(upgrade, database_url)
    assert await _on(database_url, _revision) == HEAD


async def test_the_schema_downgrades_to_nothing_and_back(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = make_engine(database_url, foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
    finally:
        await engine.dispose()
    assert await _on(database_url, _tables) == {"alembic_version"}
    await upgrade_async(database_url)
    assert await _on(database_url, _schema_diff) == []


def test_the_migrations_refuse_to_run_without_a_connection() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with pytest.raises(RuntimeError, match=r"minilogin\.storage\.sql\.migrate"):
        command.upgrade(config, "head")


async def test_applications_made_before_the_choice_of_algorithm_keep_es256(
    database_url: str, secret_box: SecretBox
) -> None:
    """Their relying parties were given ES256 ID tokens and may expect exactly that."""
    await upgrade_async(database_url, "0002_refresh_tokens")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO pools (id, slug, name, created_at) "
                    "VALUES ('p1', 'old', 'Old', CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO applications (id, pool_id, client_id, name, type, "
                    "redirect_uris, web_origins, post_logout_redirect_uris, id_token_lifetime, "
                    "access_token_lifetime, refresh_token_lifetime, created_at) VALUES "
                    "('a1', 'p1', 'old-app', 'Old', 'spa', '[]', '[]', '[]', 3600, 3600, 3600, "
                    "CURRENT_TIMESTAMP)"
                )
            )
    finally:
        await engine.dispose()
    await upgrade_async(database_url)
    store = await SqlStore.open(database_url, secret_box)
    try:
        pool = await store.get_pool("old")
        assert pool is not None
        old = await store.get_application(pool.id, "old-app")
        assert old is not None
        assert old.id_token_signed_response_alg == "ES256"
        new = await store.create_application(Application(pool.id, "new-app", "New"))
        assert new.id_token_signed_response_alg == "RS256"
    finally:
        await store.close()


async def test_confidential_applications_that_exist_keep_going_without_pkce(
    database_url: str, secret_box: SecretBox
) -> None:
    """0003: PKCE becomes required of new applications; confidential ones already there
    were allowed without it, and keep that as an explicit opt-out."""
    await upgrade_async(database_url)
    store = await SqlStore.open(database_url, secret_box)
    try:
        pool = await store.create_pool(Pool(slug="demo", name="Demo"))
        for client_id, kind in (("spa", ApplicationType.SPA), ("web", ApplicationType.WEB)):
            await store.create_application(
                Application(pool_id=pool.id, client_id=client_id, name=client_id, type=kind)
            )
        engine = make_engine(database_url, foreign_keys=False)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(
                    lambda sync: command.downgrade(alembic_config(sync), "0002_refresh_tokens")
                )
        finally:
            await engine.dispose()
        await upgrade_async(database_url)
        spa = await store.get_application(pool.id, "spa")
        web = await store.get_application(pool.id, "web")
        assert spa is not None
        assert web is not None
        assert (spa.pkce_required, spa.resource_server) == (True, False)
        assert (web.pkce_required, web.resource_server) == (False, False)
    finally:
        await store.close()


async def _insert_at_0004(database_url: str, *rows: tuple[str, dict[str, object]]) -> None:
    await upgrade_async(database_url, "0004_code_images")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            for statement, values in rows:
                await connection.execute(text(statement), values)
    finally:
        await engine.dispose()


def _pool_row(pool_id: str, day: int) -> tuple[str, dict[str, object]]:
    return (
        "INSERT INTO pools (id, slug, name, created_at) VALUES (:id, :slug, :name, :at)",
        {"id": pool_id, "slug": pool_id, "name": pool_id, "at": datetime(2026, 6, day, tzinfo=UTC)},
    )


def _key_row(
    kid: str, algorithm: str, day: int, secret_box: SecretBox
) -> tuple[str, dict[str, object]]:
    return (
        "INSERT INTO signing_keys (kid, algorithm, private_jwk_encrypted, public_jwk, active, "
        "created_at) VALUES (:kid, :algorithm, :sealed, '{}', true, :at)",
        {
            "kid": kid,
            "algorithm": algorithm,
            "sealed": secret_box.encrypt("{}"),
            "at": datetime(2026, 6, day, tzinfo=UTC),
        },
    )


async def test_the_shared_keys_go_to_the_oldest_pool_and_the_others_get_none(
    database_url: str, secret_box: SecretBox
) -> None:
    """0005: the keys every pool shared stay with the oldest pool only (its tokens keep
    verifying); the other pools get fresh keys of their own on first use."""
    await _insert_at_0004(
        database_url,
        _pool_row("p2", 2),
        _pool_row("p1", 1),
        _key_row("es-a", "ES256", 1, secret_box),
        _key_row("rs-a", "RS256", 3, secret_box),
        _key_row("es-b", "ES256", 4, secret_box),
    )
    await upgrade_async(database_url)
    assert await _on(database_url, _schema_diff) == []
    store = await SqlStore.open(database_url, secret_box)
    try:
        kept = await store.list_signing_keys("p1")
        assert [(k.kid, k.serial, k.retire_at) for k in kept] == [
            ("es-a", 1, None),
            ("rs-a", 1, None),
            ("es-b", 2, None),
        ]
        assert await store.list_signing_keys("p2") == []
    finally:
        await store.close()


async def test_without_a_pool_the_shared_keys_are_dropped(
    database_url: str, secret_box: SecretBox
) -> None:
    await _insert_at_0004(database_url, _key_row("es-a", "ES256", 1, secret_box))
    await upgrade_async(database_url)
    rows = await _on(
        database_url, lambda sync: sync.execute(text("SELECT count(*) FROM signing_keys")).scalar()
    )
    assert rows == 0
