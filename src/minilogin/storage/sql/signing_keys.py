"""Signing keys on SQL: ``SigningKeyStore`` of ``minilogin.ports``. Private halves are sealed
with the database's ``SecretBox``. Each key belongs to one pool; the unique serial per pool and
algorithm is what makes two instances creating or rotating a pool's keys at once agree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import SigningKey
from minilogin.core.errors import Conflict
from minilogin.storage.sql.common import (
    Check,
    Database,
    exists_where,
    require_pool,
    utc,
    utc_or_none,
)
from minilogin.storage.sql.models import SigningKeyRow


class SqlSigningKeyStore:
    """``SigningKeyStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_signing_key(self, key: SigningKey) -> SigningKey:
        """Keep ``key``; ``Conflict`` when its kid, or its pool's serial of its algorithm, is
        taken (another instance made the pool's first keys at the same moment)."""
        row = self._row(key)
        await self._db.insert(_check(row), row)
        return self._signing_key(row)

    async def rotate_signing_key(self, key: SigningKey, retire_at: datetime) -> SigningKey:
        """Make ``key`` its pool's current key of its algorithm, in one transaction: the keys
        before it stop signing and verify until ``retire_at`` (or the earlier instant an
        earlier rotation gave them), and the pool's keys whose instant has passed are deleted.
        ``Conflict`` when another rotation took the serial first."""
        row = self._row(key)
        retire = utc(retire_at)
        check = _check(row)
        try:
            async with self._db.transaction() as session:
                await check(session)
                session.add(row)
                await session.flush()
                await session.execute(
                    update(SigningKeyRow)
                    .where(
                        SigningKeyRow.pool_id == row.pool_id,
                        SigningKeyRow.algorithm == row.algorithm,
                        SigningKeyRow.serial < row.serial,
                        or_(SigningKeyRow.retire_at.is_(None), SigningKeyRow.retire_at > retire),
                    )
                    .values(active=False, retire_at=retire)
                )
                await session.execute(
                    delete(SigningKeyRow).where(
                        SigningKeyRow.pool_id == row.pool_id,
                        SigningKeyRow.retire_at <= row.created_at,
                    )
                )
        except IntegrityError:
            async with self._db.reads() as session:
                await check(session)
            raise
        return self._signing_key(row)

    async def list_signing_keys(self, pool_id: str) -> list[SigningKey]:
        """The pool's keys, oldest first (retired ones included until they are deleted)."""
        async with self._db.reads() as session:
            rows = await session.scalars(
                select(SigningKeyRow)
                .where(SigningKeyRow.pool_id == pool_id)
                .order_by(SigningKeyRow.serial, SigningKeyRow.created_at, SigningKeyRow.kid)
            )
        return [self._signing_key(row) for row in rows]

    def _row(self, key: SigningKey) -> SigningKeyRow:
        return SigningKeyRow(
            kid=key.kid,
            pool_id=key.pool_id,
            algorithm=key.algorithm,
            serial=key.serial,
            private_jwk_encrypted=self._db.box.encrypt(key.private_jwk),
            public_jwk=key.public_jwk,
            active=key.active,
            created_at=utc(key.created_at),
            retire_at=utc_or_none(key.retire_at),
        )

    def _signing_key(self, row: SigningKeyRow) -> SigningKey:
        return SigningKey(
            kid=row.kid,
            algorithm=row.algorithm,
            private_jwk=self._db.box.decrypt(row.private_jwk_encrypted),
            public_jwk=row.public_jwk,
            active=row.active,
            created_at=row.created_at,
            pool_id=row.pool_id,
            serial=row.serial,
            retire_at=row.retire_at,
        )


def _check(row: SigningKeyRow) -> Check:
    async def check(session: AsyncSession) -> None:
        await require_pool(session, row.pool_id)
        if await exists_where(session, SigningKeyRow.kid == row.kid) or await exists_where(
            session,
            SigningKeyRow.pool_id == row.pool_id,
            SigningKeyRow.algorithm == row.algorithm,
            SigningKeyRow.serial == row.serial,
        ):
            raise Conflict("signing_key_exists")

    return check
