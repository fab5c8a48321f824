"""Administrators and their API tokens on SQL: ``AdminStore`` of ``minilogin.ports``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import Admin, ApiToken
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql.common import Database, exists_where, new_id, utc
from minilogin.storage.sql.models import AdminRow, ApiTokenRow


class SqlAdminStore:
    """``AdminStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_admin(self, admin: Admin) -> Admin:
        row = AdminRow(
            id=admin.id or new_id("adm"),
            username=admin.username.lower(),
            password_hash=admin.password_hash,
            created_at=utc(admin.created_at),
        )

        async def check(session: AsyncSession) -> None:
            if await exists_where(session, AdminRow.username == row.username):
                raise Conflict("admin_exists")

        await self._db.insert(check, row)
        return _admin(row)

    async def find_admin(self, username: str) -> Admin | None:
        async with self._db.reads() as session:
            row = await session.scalar(
                select(AdminRow).where(AdminRow.username == username.lower())
            )
        return None if row is None else _admin(row)

    async def get_admin(self, admin_id: str) -> Admin | None:
        async with self._db.reads() as session:
            row = await session.scalar(select(AdminRow).where(AdminRow.id == admin_id))
        return None if row is None else _admin(row)

    async def set_admin_password(self, admin_id: str, password_hash: str) -> None:
        async with self._db.transaction() as session:
            changed = await session.scalar(
                update(AdminRow)
                .where(AdminRow.id == admin_id)
                .values(password_hash=password_hash)
                .returning(AdminRow.id)
            )
        if changed is None:
            raise NotFound("unknown_admin")

    async def create_api_token(self, token: ApiToken) -> ApiToken:
        row = ApiTokenRow(
            id=token.id or new_id("tok"),
            token_hash=token.token_hash,
            admin_id=token.admin_id,
            description=token.description,
            created_at=utc(token.created_at),
            last_used_at=None,
        )

        async def check(session: AsyncSession) -> None:
            if row.admin_id is not None and not await exists_where(
                session, AdminRow.id == row.admin_id
            ):
                raise NotFound("unknown_admin")
            if await exists_where(session, ApiTokenRow.token_hash == row.token_hash):
                raise Conflict("api_token_exists")

        await self._db.insert(check, row)
        return _api_token(row)

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        async with self._db.reads() as session:
            row = await session.scalar(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)
            )
        return None if row is None else _api_token(row)

    async def touch_api_token(self, token_id: str, when: datetime) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=utc(when))
            )

    async def list_admins(self) -> list[Admin]:
        async with self._db.reads() as session:
            rows = await session.scalars(select(AdminRow).order_by(AdminRow.username))
        return [_admin(row) for row in rows]

    async def delete_admin(self, admin_id: str) -> None:
        # The foreign key cascades to the administrator's API tokens.
        await self._db.delete_one(delete(AdminRow).where(AdminRow.id == admin_id), "unknown_admin")

    async def list_api_tokens(self) -> list[ApiToken]:
        async with self._db.reads() as session:
            rows = await session.scalars(
                select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
            )
        return [_api_token(row) for row in rows]

    async def get_api_token(self, token_id: str) -> ApiToken | None:
        async with self._db.reads() as session:
            row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.id == token_id))
        return None if row is None else _api_token(row)

    async def describe_api_token(self, token_id: str, description: str | None) -> ApiToken:
        async with self._db.transaction() as session:
            row = await session.scalar(
                update(ApiTokenRow)
                .where(ApiTokenRow.id == token_id)
                .values(description=description)
                .returning(ApiTokenRow)
            )
        if row is None:
            raise NotFound("unknown_api_token")
        return _api_token(row)

    async def delete_api_token(self, token_id: str) -> None:
        await self._db.delete_one(
            delete(ApiTokenRow).where(ApiTokenRow.id == token_id), "unknown_api_token"
        )


def _admin(row: AdminRow) -> Admin:
    return Admin(
        id=row.id, username=row.username, password_hash=row.password_hash, created_at=row.created_at
    )


def _api_token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        token_hash=row.token_hash,
        admin_id=row.admin_id,
        description=row.description,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )
