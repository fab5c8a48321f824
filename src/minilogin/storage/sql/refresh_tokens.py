"""Refresh tokens on SQL: ``RefreshTokenStore`` of ``minilogin.ports``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import RefreshToken
from minilogin.core.errors import Conflict
from minilogin.storage.sql.common import Database, exists_where, new_id, utc, utc_or_none
from minilogin.storage.sql.models import RefreshTokenRow


class SqlRefreshTokenStore:
    """``RefreshTokenStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_refresh_token(self, token: RefreshToken) -> RefreshToken:
        row = _refresh_token_row(token)

        async def check(session: AsyncSession) -> None:
            if await exists_where(session, RefreshTokenRow.token_hash == row.token_hash):
                raise Conflict("refresh_token_exists")

        await self._db.insert(check, row)
        return _refresh_token(row)

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        async with self._db.reads() as session:
            row = await session.scalar(
                select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
            )
        return None if row is None else _refresh_token(row)

    async def rotate_refresh_token(
        self, used_id: str, replacement: RefreshToken, when: datetime
    ) -> RefreshToken | None:
        row = _refresh_token_row(replacement)
        async with self._db.transaction() as session:
            # The conditional UPDATE is the one place a token turns used: of two concurrent
            # rotations of the same token only one finds it unused.
            marked = await session.scalar(
                update(RefreshTokenRow)
                .where(
                    RefreshTokenRow.id == used_id,
                    RefreshTokenRow.used_at.is_(None),
                    RefreshTokenRow.revoked_at.is_(None),
                )
                .values(used_at=utc(when))
                .returning(RefreshTokenRow.id)
            )
            if marked is None:
                return None
            session.add(row)
        return _refresh_token(row)

    async def revoke_refresh_family(self, family_id: str, when: datetime) -> list[RefreshToken]:
        return await self._revoke_refresh(RefreshTokenRow.family_id == family_id, when=when)

    async def revoke_user_refresh_tokens(
        self, pool_id: str, user_id: str, client_id: str, when: datetime
    ) -> list[RefreshToken]:
        return await self._revoke_refresh(
            RefreshTokenRow.pool_id == pool_id,
            RefreshTokenRow.user_id == user_id,
            RefreshTokenRow.client_id == client_id,
            when=when,
        )

    async def _revoke_refresh(
        self, *where: ColumnElement[bool], when: datetime
    ) -> list[RefreshToken]:
        async with self._db.transaction() as session:
            await session.execute(
                update(RefreshTokenRow)
                .where(*where, RefreshTokenRow.revoked_at.is_(None))
                .values(revoked_at=utc(when))
            )
            rows = await session.scalars(
                select(RefreshTokenRow).where(*where).order_by(RefreshTokenRow.created_at)
            )
            return [_refresh_token(row) for row in rows]


def _refresh_token_row(token: RefreshToken) -> RefreshTokenRow:
    return RefreshTokenRow(
        id=token.id or new_id("rt"),
        pool_id=token.pool_id,
        client_id=token.client_id,
        user_id=token.user_id,
        family_id=token.family_id,
        token_hash=token.token_hash,
        scope=token.scope,
        auth_time=token.auth_time,
        amr=list(token.amr),
        access_token_id=token.access_token_id,
        access_expires_at=utc_or_none(token.access_expires_at),
        expires_at=utc(token.expires_at),
        created_at=utc(token.created_at),
        used_at=utc_or_none(token.used_at),
        revoked_at=utc_or_none(token.revoked_at),
    )


def _refresh_token(row: RefreshTokenRow) -> RefreshToken:
    return RefreshToken(
        id=row.id,
        pool_id=row.pool_id,
        client_id=row.client_id,
        user_id=row.user_id,
        family_id=row.family_id,
        token_hash=row.token_hash,
        scope=row.scope,
        auth_time=row.auth_time,
        amr=list(row.amr),
        access_token_id=row.access_token_id,
        access_expires_at=row.access_expires_at,
        expires_at=row.expires_at,
        created_at=row.created_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )
