"""Signing keys on SQL: ``SigningKeyStore`` of ``minilogin.ports``. Private halves are sealed
with the database's ``SecretBox``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import SigningKey
from minilogin.core.errors import Conflict
from minilogin.storage.sql.common import Database, exists_where, utc
from minilogin.storage.sql.models import SigningKeyRow


class SqlSigningKeyStore:
    """``SigningKeyStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_signing_key(self, key: SigningKey) -> SigningKey:
        row = SigningKeyRow(
            kid=key.kid,
            algorithm=key.algorithm,
            private_jwk_encrypted=self._db.box.encrypt(key.private_jwk),
            public_jwk=key.public_jwk,
            active=key.active,
            created_at=utc(key.created_at),
        )

        async def check(session: AsyncSession) -> None:
            if await exists_where(session, SigningKeyRow.kid == row.kid):
                raise Conflict("signing_key_exists")

        await self._db.insert(check, row)
        return self._signing_key(row)

    async def list_signing_keys(self) -> list[SigningKey]:
        """Every key, oldest first."""
        async with self._db.reads() as session:
            rows = await session.scalars(
                select(SigningKeyRow).order_by(SigningKeyRow.created_at, SigningKeyRow.kid)
            )
        return [self._signing_key(row) for row in rows]

    def _signing_key(self, row: SigningKeyRow) -> SigningKey:
        return SigningKey(
            kid=row.kid,
            algorithm=row.algorithm,
            private_jwk=self._db.box.decrypt(row.private_jwk_encrypted),
            public_jwk=row.public_jwk,
            active=row.active,
            created_at=row.created_at,
        )
