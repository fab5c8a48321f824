"""Refresh tokens on SQL: ``RefreshTokenStore`` of ``minilogin.ports``.

A token is added at every code exchange and rotated at every refresh, so the statements are
Core, built once (``common.py``). The exchange's insert is also its check that the user may
still log in, so that the exchange reads no user (``oidc/grants/authorization_code.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from minilogin.core.entities import RefreshToken
from minilogin.core.errors import Conflict
from minilogin.storage.sql.common import Database, new_id, table, utc, utc_or_none
from minilogin.storage.sql.models import RefreshTokenRow, UserRow

_tokens = table(RefreshTokenRow)
_users = table(UserRow)

_INSERT = insert(_tokens)
_VALUES = {column.name: bindparam(column.name, type_=column.type) for column in _tokens.c}
# One statement: the token, only while its user is in its pool and not blocked. Whether it
# was added is its row count (SQLite's, and PostgreSQL's ``INSERT 0 1``), which costs less
# than a RETURNING row to fetch.
_INSERT_FOR_ALLOWED_USER = insert(_tokens).from_select(
    list(_VALUES),
    select(*_VALUES.values()).where(
        exists().where(
            _users.c.id == _VALUES["user_id"],
            _users.c.pool_id == _VALUES["pool_id"],
            ~_users.c.blocked,
        )
    ),
)
_BY_HASH = select(_tokens).where(_tokens.c.token_hash == bindparam("hash"))
_HASH_EXISTS = select(exists().where(_tokens.c.token_hash == bindparam("hash")))
# The conditional UPDATE is the one place a token turns used: of two concurrent rotations of
# the same token only one finds it unused.
_MARK_USED = (
    update(_tokens)
    .where(
        _tokens.c.id == bindparam("used"),
        _tokens.c.used_at.is_(None),
        _tokens.c.revoked_at.is_(None),
    )
    .values(used_at=bindparam("when", type_=_tokens.c.used_at.type))
    .returning(_tokens.c.id)
)


class SqlRefreshTokenStore:
    """``RefreshTokenStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_refresh_token(self, token: RefreshToken) -> RefreshToken | None:
        values = _refresh_token_values(token)

        def add(connection: Connection) -> bool:
            return connection.execute(_INSERT_FOR_ALLOWED_USER, values).rowcount == 1

        def taken(connection: Connection) -> bool:
            return bool(connection.scalar(_HASH_EXISTS, {"hash": values["token_hash"]}))

        try:
            # No look before the insert: the hash's unique constraint refuses a duplicate.
            added = await self._db.write(add)
        except IntegrityError:
            if await self._db.lookup(taken):
                raise Conflict("refresh_token_exists") from None
            raise
        return _refresh_token(values) if added else None

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        def find(connection: Connection) -> RefreshToken | None:
            row = connection.execute(_BY_HASH, {"hash": token_hash}).first()
            return None if row is None else _refresh_token(row._mapping)

        return await self._db.lookup(find)

    async def rotate_refresh_token(
        self, used_id: str, replacement: RefreshToken, when: datetime
    ) -> RefreshToken | None:
        values = _refresh_token_values(replacement)
        marking = {"used": used_id, "when": utc(when)}

        def rotate(connection: Connection) -> bool:
            if connection.execute(_MARK_USED, marking).first() is None:
                return False
            connection.execute(_INSERT, values)
            return True

        return _refresh_token(values) if await self._db.write(rotate) else None

    async def revoke_refresh_family(self, family_id: str, when: datetime) -> list[RefreshToken]:
        return await self._revoke_refresh(_tokens.c.family_id == family_id, when=when)

    async def revoke_user_refresh_tokens(
        self, pool_id: str, user_id: str, client_id: str, when: datetime
    ) -> list[RefreshToken]:
        return await self._revoke_refresh(
            _tokens.c.pool_id == pool_id,
            _tokens.c.user_id == user_id,
            _tokens.c.client_id == client_id,
            when=when,
        )

    async def _revoke_refresh(
        self, *where: ColumnElement[bool], when: datetime
    ) -> list[RefreshToken]:
        revoke = (
            update(_tokens)
            .where(*where, _tokens.c.revoked_at.is_(None))
            .values(revoked_at=utc(when))
        )
        family = select(_tokens).where(*where).order_by(_tokens.c.created_at)

        def revoke_them(connection: Connection) -> list[RefreshToken]:
            connection.execute(revoke)
            return [_refresh_token(row._mapping) for row in connection.execute(family)]

        return await self._db.write(revoke_them)


def _refresh_token_values(token: RefreshToken) -> dict[str, Any]:
    return {
        "id": token.id or new_id("rt"),
        "pool_id": token.pool_id,
        "client_id": token.client_id,
        "user_id": token.user_id,
        "family_id": token.family_id,
        "token_hash": token.token_hash,
        "scope": token.scope,
        "auth_time": token.auth_time,
        "amr": list(token.amr),
        "access_token_id": token.access_token_id,
        "access_expires_at": utc_or_none(token.access_expires_at),
        "expires_at": utc(token.expires_at),
        "created_at": utc(token.created_at),
        "used_at": utc_or_none(token.used_at),
        "revoked_at": utc_or_none(token.revoked_at),
    }


def _refresh_token(row: Mapping[Any, Any]) -> RefreshToken:
    """The entity from a row's mapping or from the values just written."""
    return RefreshToken(
        id=row["id"],
        pool_id=row["pool_id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        family_id=row["family_id"],
        token_hash=row["token_hash"],
        scope=row["scope"],
        auth_time=row["auth_time"],
        amr=list(row["amr"]),
        access_token_id=row["access_token_id"],
        access_expires_at=row["access_expires_at"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        used_at=row["used_at"],
        revoked_at=row["revoked_at"],
    )
