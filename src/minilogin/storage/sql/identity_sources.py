"""Identity sources and the applications they are enabled for, on SQL: ``IdentitySourceStore``
of ``minilogin.ports``. AppSecrets are sealed with the database's ``SecretBox``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import Application, Association, EnvVersion, IdentitySource, LoginMode
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql.applications import application_entity
from minilogin.storage.sql.common import Database, exists_where, new_id, require_pool, table, utc
from minilogin.storage.sql.models import (
    ApplicationIdentitySourceRow,
    ApplicationRow,
    IdentitySourceRow,
)

_sources = table(IdentitySourceRow)
_links = table(ApplicationIdentitySourceRow)
_applications = table(ApplicationRow)
_IN_POOL = _sources.c.pool_id == bindparam("pool")
_ORDER = (_sources.c.created_at, _sources.c.id)
# Read on every login whose sources the configuration cache doesn't hold: Core, built once.
_GET = select(_sources).where(_IN_POOL, _sources.c.unique_id == bindparam("unique"))
_LIST = select(_sources).where(_IN_POOL).order_by(*_ORDER)
_ENABLED = (
    select(_sources)
    .join(_links, _links.c.identity_source_id == _sources.c.id)
    .join(_applications, _applications.c.id == _links.c.application_id)
    .where(
        _applications.c.pool_id == bindparam("pool"),
        _applications.c.client_id == bindparam("client"),
    )
    .order_by(*_ORDER)
)


class SqlIdentitySourceStore:
    """``IdentitySourceStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_identity_source(self, source: IdentitySource) -> IdentitySource:
        row = IdentitySourceRow(
            id=source.id or new_id("conn"),
            pool_id=source.pool_id,
            unique_id=source.unique_id,
            display_name=source.display_name,
            callback_url=source.callback_url,
            private_deployment=source.private_deployment,
            app_id=source.app_id,
            app_secret_encrypted=(
                None if source.app_secret is None else self._db.box.encrypt(source.app_secret)
            ),
            login_mode=source.login_mode.value,
            association=source.association.value,
            page=source.page,
            env_version=source.env_version.value,
            qr_expires_in=source.qr_expires_in,
            logo=source.logo,
            logo_version=source.logo_version,
            created_at=utc(source.created_at),
        )

        async def check(session: AsyncSession) -> None:
            await require_pool(session, row.pool_id)
            if await exists_where(
                session,
                IdentitySourceRow.pool_id == row.pool_id,
                IdentitySourceRow.unique_id == row.unique_id,
            ):
                raise Conflict("connection_exists")

        await self._db.insert(check, row)
        return self._identity_source(row)

    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None:
        def get(connection: Connection) -> IdentitySource | None:
            row = connection.execute(_GET, {"pool": pool_id, "unique": unique_id}).first()
            return None if row is None else self._identity_source(row)

        return await self._db.lookup(get)

    async def list_identity_sources(self, pool_id: str) -> list[IdentitySource]:
        return await self._db.read(self._sources_of(_LIST, {"pool": pool_id}))

    async def enable_identity_source(self, pool_id: str, client_id: str, unique_id: str) -> None:
        try:
            async with self._db.transaction() as session:
                link = await _link(session, pool_id, client_id, unique_id)
                if not await exists_where(session, *_link_matches(link)):
                    session.add(link)
        except IntegrityError:
            # A concurrent enable won the race, which leaves the source enabled as asked;
            # anything else (the application or source deleted meanwhile) is re-raised.
            async with self._db.reads() as session:
                link = await _link(session, pool_id, client_id, unique_id)
                if not await exists_where(session, *_link_matches(link)):
                    raise

    async def disable_identity_source(self, pool_id: str, client_id: str, unique_id: str) -> None:
        async with self._db.transaction() as session:
            link = await _link(session, pool_id, client_id, unique_id)
            await session.execute(delete(ApplicationIdentitySourceRow).where(*_link_matches(link)))

    async def enabled_identity_sources(self, pool_id: str, client_id: str) -> list[IdentitySource]:
        return await self._db.lookup(
            self._sources_of(_ENABLED, {"pool": pool_id, "client": client_id})
        )

    async def update_identity_source(self, source: IdentitySource) -> IdentitySource:
        values: dict[str, Any] = {
            "display_name": source.display_name,
            "callback_url": source.callback_url,
            "private_deployment": source.private_deployment,
            "app_id": source.app_id,
            "login_mode": source.login_mode.value,
            "association": source.association.value,
            "page": source.page,
            "env_version": source.env_version.value,
            "qr_expires_in": source.qr_expires_in,
        }
        if source.app_secret is not None:
            values["app_secret_encrypted"] = self._db.box.encrypt(source.app_secret)
        return await self._update_source(source.pool_id, source.unique_id, values)

    async def set_identity_source_logo(
        self, pool_id: str, unique_id: str, logo: bytes | None
    ) -> IdentitySource:
        # One UPDATE: two uploads at once can't end with the same version for different logos.
        return await self._update_source(
            pool_id,
            unique_id,
            {"logo": logo, "logo_version": IdentitySourceRow.logo_version + 1},
        )

    async def _update_source(
        self, pool_id: str, unique_id: str, values: dict[str, Any]
    ) -> IdentitySource:
        async with self._db.transaction() as session:
            row = await session.scalar(
                update(IdentitySourceRow)
                .where(
                    IdentitySourceRow.pool_id == pool_id,
                    IdentitySourceRow.unique_id == unique_id,
                )
                .values(values)
                .returning(IdentitySourceRow)
            )
        if row is None:
            raise NotFound("unknown_connection")
        return self._identity_source(row)

    async def delete_identity_source(self, pool_id: str, unique_id: str) -> None:
        await self._db.delete_one(
            delete(IdentitySourceRow).where(
                IdentitySourceRow.pool_id == pool_id, IdentitySourceRow.unique_id == unique_id
            ),
            "unknown_connection",
        )

    async def applications_using(self, pool_id: str, unique_id: str) -> list[Application]:
        async with self._db.reads() as session:
            rows = await session.scalars(
                select(ApplicationRow)
                .join(
                    ApplicationIdentitySourceRow,
                    ApplicationIdentitySourceRow.application_id == ApplicationRow.id,
                )
                .join(
                    IdentitySourceRow,
                    IdentitySourceRow.id == ApplicationIdentitySourceRow.identity_source_id,
                )
                .where(
                    IdentitySourceRow.pool_id == pool_id,
                    IdentitySourceRow.unique_id == unique_id,
                )
                .order_by(ApplicationRow.created_at, ApplicationRow.id)
            )
        return [application_entity(row) for row in rows]

    def _sources_of(
        self, statement: Select[Any], values: dict[str, str]
    ) -> Callable[[Connection], list[IdentitySource]]:
        def sources(connection: Connection) -> list[IdentitySource]:
            return [self._identity_source(row) for row in connection.execute(statement, values)]

        return sources

    def _identity_source(self, row: IdentitySourceRow | Row[Any]) -> IdentitySource:
        return IdentitySource(
            id=row.id,
            pool_id=row.pool_id,
            unique_id=row.unique_id,
            display_name=row.display_name,
            callback_url=row.callback_url,
            private_deployment=row.private_deployment,
            app_id=row.app_id,
            app_secret=(
                None
                if row.app_secret_encrypted is None
                else self._db.box.decrypt(row.app_secret_encrypted)
            ),
            login_mode=LoginMode(row.login_mode),
            association=Association(row.association),
            page=row.page,
            env_version=EnvVersion(row.env_version),
            qr_expires_in=row.qr_expires_in,
            logo=row.logo,
            logo_version=row.logo_version,
            created_at=row.created_at,
        )


async def _link(
    session: AsyncSession, pool_id: str, client_id: str, unique_id: str
) -> ApplicationIdentitySourceRow:
    """The (not yet stored) row enabling the source for the application, both of the pool."""
    application_id = await session.scalar(
        select(ApplicationRow.id).where(
            ApplicationRow.pool_id == pool_id, ApplicationRow.client_id == client_id
        )
    )
    if application_id is None:
        raise NotFound("unknown_client")
    source_id = await session.scalar(
        select(IdentitySourceRow.id).where(
            IdentitySourceRow.pool_id == pool_id, IdentitySourceRow.unique_id == unique_id
        )
    )
    if source_id is None:
        raise NotFound("unknown_connection")
    return ApplicationIdentitySourceRow(application_id=application_id, identity_source_id=source_id)


def _link_matches(
    link: ApplicationIdentitySourceRow,
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (
        ApplicationIdentitySourceRow.application_id == link.application_id,
        ApplicationIdentitySourceRow.identity_source_id == link.identity_source_id,
    )
