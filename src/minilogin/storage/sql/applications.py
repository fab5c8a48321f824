"""Applications (a pool's OpenID clients) on SQL: ``ApplicationStore`` of ``minilogin.ports``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import Application, ApplicationType
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql.common import Database, exists_where, new_id, require_pool, table, utc
from minilogin.storage.sql.models import ApplicationRow

_applications = table(ApplicationRow)
_IN_POOL = _applications.c.pool_id == bindparam("pool")
# Read on every login whose application the configuration cache doesn't hold: Core, built once.
_GET = select(_applications).where(_IN_POOL, _applications.c.client_id == bindparam("client"))
_LIST = (
    select(_applications).where(_IN_POOL).order_by(_applications.c.created_at, _applications.c.id)
)


def _changeable(application: Application) -> dict[str, object]:
    """The columns an update may change: all but the client_id, the type and the creation
    time, which are written once."""
    return {
        "name": application.name,
        "redirect_uris": list(application.redirect_uris),
        "web_origins": list(application.web_origins),
        "post_logout_redirect_uris": list(application.post_logout_redirect_uris),
        "client_secret_hash": application.client_secret_hash,
        "id_token_lifetime": application.id_token_lifetime,
        "access_token_lifetime": application.access_token_lifetime,
        "refresh_token_lifetime": application.refresh_token_lifetime,
        "id_token_signed_response_alg": application.id_token_signed_response_alg,
        "pkce_required": application.pkce_required,
        "resource_server": application.resource_server,
    }


class SqlApplicationStore:
    """``ApplicationStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_application(self, application: Application) -> Application:
        row = ApplicationRow(
            id=new_id("app"),
            pool_id=application.pool_id,
            client_id=application.client_id,
            type=application.type.value,
            created_at=utc(application.created_at),
            **_changeable(application),
        )

        async def check(session: AsyncSession) -> None:
            await require_pool(session, row.pool_id)
            if await exists_where(session, ApplicationRow.client_id == row.client_id):
                raise Conflict("client_id_exists")

        await self._db.insert(check, row)
        return application_entity(row)

    async def get_application(self, pool_id: str, client_id: str) -> Application | None:
        def get(connection: Connection) -> Application | None:
            row = connection.execute(_GET, {"pool": pool_id, "client": client_id}).first()
            return None if row is None else application_entity(row)

        return await self._db.lookup(get)

    async def list_applications(self, pool_id: str) -> list[Application]:
        def list_them(connection: Connection) -> list[Application]:
            return [application_entity(row) for row in connection.execute(_LIST, {"pool": pool_id})]

        return await self._db.read(list_them)

    async def update_application(self, application: Application) -> Application:
        async with self._db.transaction() as session:
            row = await session.scalar(
                update(ApplicationRow)
                .where(
                    ApplicationRow.pool_id == application.pool_id,
                    ApplicationRow.client_id == application.client_id,
                )
                .values(**_changeable(application))
                .returning(ApplicationRow)
            )
        if row is None:
            raise NotFound("unknown_client")
        return application_entity(row)

    async def delete_application(self, pool_id: str, client_id: str) -> None:
        await self._db.delete_one(
            delete(ApplicationRow).where(
                ApplicationRow.pool_id == pool_id, ApplicationRow.client_id == client_id
            ),
            "unknown_client",
        )


def application_entity(row: ApplicationRow | Row[Any]) -> Application:
    return Application(
        pool_id=row.pool_id,
        client_id=row.client_id,
        name=row.name,
        type=ApplicationType(row.type),
        redirect_uris=list(row.redirect_uris),
        web_origins=list(row.web_origins),
        post_logout_redirect_uris=list(row.post_logout_redirect_uris),
        client_secret_hash=row.client_secret_hash,
        id_token_lifetime=row.id_token_lifetime,
        access_token_lifetime=row.access_token_lifetime,
        refresh_token_lifetime=row.refresh_token_lifetime,
        id_token_signed_response_alg=row.id_token_signed_response_alg,
        created_at=row.created_at,
        pkce_required=row.pkce_required,
        resource_server=row.resource_server,
    )
