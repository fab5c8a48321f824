"""Schema migrations: brings a database to the latest revision with Alembic, configured here
in code (no ``alembic.ini``), so it works the same from a source tree and an installed wheel.

``minilogin`` calls ``upgrade(settings.database_url)`` before serving; it is a no-op on a
database already at the latest revision. To write a new revision, change the models, then
let Alembic compare them with a database migrated to head::

    engine = make_engine(url, foreign_keys=False)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.revision(
            alembic_config(sync), "what changes", autogenerate=True, rev_id="0002"))

and read and tidy the generated file in ``migrations/versions``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from minilogin.storage.sql.engine import for_writes, make_engine

MIGRATIONS = Path(__file__).with_name("migrations")

# Key of the PostgreSQL advisory lock that makes instances starting together migrate in turn
# (an arbitrary constant: the bytes of "minilogn").
_LOCK_KEY = int.from_bytes(b"minilogn", "big") >> 1


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration whose migrations run on ``connection`` (see ``env.py``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` to ``revision``, in one transaction."""
    # Without enforced foreign keys on SQLite: see make_engine.
    engine = for_writes(make_engine(database_url, foreign_keys=False))
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                )
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
    finally:
        await engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """``upgrade_async`` for callers without a running event loop (the command line)."""
    asyncio.run(upgrade_async(database_url, revision))
