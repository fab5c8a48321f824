"""Users and their WeChat identities on SQL: ``UserStore`` of ``minilogin.ports``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import User, WeChatIdentity
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql.common import Database, exists_where, new_id, require_pool, utc
from minilogin.storage.sql.models import Base, UserRow, WeChatIdentityRow


class SqlUserStore:
    """``UserStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_user(self, pool_id: str, user_id: str) -> User | None:
        async with self._db.reads() as session:
            row = await session.scalar(
                select(UserRow).where(UserRow.pool_id == pool_id, UserRow.id == user_id)
            )
        return None if row is None else _user(row)

    async def find_user_by_phone(self, pool_id: str, phone: str) -> User | None:
        async with self._db.reads() as session:
            row = await session.scalar(
                select(UserRow).where(UserRow.pool_id == pool_id, UserRow.phone == phone)
            )
        return None if row is None else _user(row)

    async def find_user_by_username(self, pool_id: str, username: str) -> User | None:
        async with self._db.reads() as session:
            row = await session.scalar(
                select(UserRow).where(
                    UserRow.pool_id == pool_id, UserRow.username == username.lower()
                )
            )
        return None if row is None else _user(row)

    async def find_identity(self, pool_id: str, app_id: str, openid: str) -> WeChatIdentity | None:
        async with self._db.reads() as session:
            row = await session.scalar(
                select(WeChatIdentityRow).where(
                    WeChatIdentityRow.pool_id == pool_id,
                    WeChatIdentityRow.app_id == app_id,
                    WeChatIdentityRow.openid == openid,
                )
            )
        return None if row is None else _identity(row)

    async def list_identities(self, pool_id: str, user_id: str) -> list[WeChatIdentity]:
        async with self._db.reads() as session:
            rows = await session.scalars(
                select(WeChatIdentityRow)
                .where(WeChatIdentityRow.pool_id == pool_id, WeChatIdentityRow.user_id == user_id)
                .order_by(WeChatIdentityRow.created_at)
            )
            return [_identity(row) for row in rows]

    async def find_identity_by_unionid(self, pool_id: str, unionid: str) -> WeChatIdentity | None:
        """The oldest identity with this UnionID: one per mini program, all of the same person."""
        async with self._db.reads() as session:
            row = await session.scalar(
                select(WeChatIdentityRow)
                .where(WeChatIdentityRow.pool_id == pool_id, WeChatIdentityRow.unionid == unionid)
                .order_by(WeChatIdentityRow.created_at, WeChatIdentityRow.id)
                .limit(1)
            )
        return None if row is None else _identity(row)

    async def create_user(
        self,
        user: User,
        identity: WeChatIdentity | None = None,
        *,
        take_unverified_phone: bool = False,
    ) -> User:
        """Create the user and, when given, link the identity to it in the same transaction.

        The identity's ``user_id`` is ignored: it is linked to the new user. The username is
        stored lowercased. With ``take_unverified_phone`` a verified phone number is taken from
        an account that holds it unverified, in the same transaction.
        """
        if identity is not None and identity.pool_id != user.pool_id:
            raise ValueError("the identity belongs to another pool than the user")
        created_at = utc(user.created_at)
        user_row = UserRow(
            id=user.id or new_id("usr"),
            pool_id=user.pool_id,
            phone=user.phone,
            phone_verified=user.phone_verified,
            username=None if user.username is None else user.username.lower(),
            email=user.email,
            password_hash=user.password_hash,
            nickname=user.nickname,
            avatar_url=user.avatar_url,
            blocked=user.blocked,
            login_count=user.login_count,
            last_login_at=None if user.last_login_at is None else utc(user.last_login_at),
            created_at=created_at,
        )
        rows: list[Base] = [user_row]
        identity_row = None
        if identity is not None:
            identity_row = _identity_row(identity, user_row.id, identity.created_at or created_at)
            rows.append(identity_row)

        async def check(session: AsyncSession) -> None:
            await require_pool(session, user_row.pool_id)
            in_pool = UserRow.pool_id == user_row.pool_id
            if take_unverified_phone and user_row.phone_verified and user_row.phone is not None:
                await session.execute(
                    update(UserRow)
                    .where(
                        in_pool,
                        UserRow.phone == user_row.phone,
                        UserRow.phone_verified.is_(False),
                    )
                    .values(phone=None)
                )
            if user_row.phone is not None and await exists_where(
                session, in_pool, UserRow.phone == user_row.phone
            ):
                raise Conflict("phone_in_use")
            if user_row.username is not None and await exists_where(
                session, in_pool, UserRow.username == user_row.username
            ):
                raise Conflict("username_taken")
            if identity_row is not None:
                await _require_unlinked(session, identity_row)

        await self._db.insert(check, *rows)
        return _user(user_row)

    async def link_identity(self, identity: WeChatIdentity) -> WeChatIdentity:
        row = _identity_row(identity, identity.user_id, identity.created_at)

        async def check(session: AsyncSession) -> None:
            if not await exists_where(
                session, UserRow.pool_id == row.pool_id, UserRow.id == row.user_id
            ):
                raise NotFound("unknown_user")
            await _require_unlinked(session, row)

        await self._db.insert(check, row)
        return _identity(row)

    async def record_login(
        self, pool_id: str, user_id: str, when: datetime, profile: dict[str, str]
    ) -> User:
        """Count a login and fill the nickname/avatar the mini program sent, in one step.

        A non-empty ``nickname``/``avatar_url`` in ``profile`` replaces the stored one: it is
        what the person chose to share at this login.
        """
        async with self._db.transaction() as session:
            # One UPDATE … RETURNING: concurrent logins can't lose an increment.
            row = await session.scalar(
                update(UserRow)
                .where(UserRow.pool_id == pool_id, UserRow.id == user_id)
                .values(_login_values(when, profile))
                .returning(UserRow)
            )
        if row is None:
            raise NotFound("unknown_user")
        return _user(row)

    async def record_login_by_identity(
        self, pool_id: str, app_id: str, openid: str, when: datetime, profile: dict[str, str]
    ) -> User | None:
        """One UPDATE … RETURNING where finding the identity, reading its user and counting
        the login took three statements: a returning person's login."""
        linked = (
            select(WeChatIdentityRow.user_id)
            .where(
                WeChatIdentityRow.pool_id == pool_id,
                WeChatIdentityRow.app_id == app_id,
                WeChatIdentityRow.openid == openid,
            )
            .scalar_subquery()
        )
        async with self._db.transaction() as session:
            row = await session.scalar(
                update(UserRow)
                .where(UserRow.pool_id == pool_id, UserRow.id == linked, UserRow.blocked.is_(False))
                .values(_login_values(when, profile))
                .returning(UserRow)
            )
        return None if row is None else _user(row)

    async def search_users(
        self, pool_id: str, query: str | None, limit: int, offset: int
    ) -> tuple[list[User], int]:
        where: list[ColumnElement[bool]] = [UserRow.pool_id == pool_id]
        text = (query or "").strip().lower()
        if text:
            where.append(
                or_(
                    UserRow.phone.contains(text, autoescape=True),
                    # Usernames are stored lowercased already.
                    UserRow.username.contains(text, autoescape=True),
                    func.lower(UserRow.nickname).contains(text, autoescape=True),
                    func.lower(UserRow.email).contains(text, autoescape=True),
                )
            )
        async with self._db.reads() as session:
            total = await session.scalar(select(func.count()).select_from(UserRow).where(*where))
            rows = await session.scalars(
                select(UserRow)
                .where(*where)
                .order_by(UserRow.created_at.desc(), UserRow.id.desc())
                .limit(limit)
                .offset(offset)
            )
            users = [_user(row) for row in rows]
        return users, int(total or 0)

    async def update_user(self, user: User) -> User:
        username = None if user.username is None else user.username.lower()

        async def check(session: AsyncSession) -> None:
            others = (UserRow.pool_id == user.pool_id, UserRow.id != user.id)
            if user.phone is not None and await exists_where(
                session, *others, UserRow.phone == user.phone
            ):
                raise Conflict("phone_in_use")
            if username is not None and await exists_where(
                session, *others, UserRow.username == username
            ):
                raise Conflict("username_taken")

        statement = (
            update(UserRow)
            .where(UserRow.pool_id == user.pool_id, UserRow.id == user.id)
            .values(
                phone=user.phone,
                phone_verified=user.phone_verified,
                username=username,
                email=user.email,
                password_hash=user.password_hash,
                nickname=user.nickname,
                avatar_url=user.avatar_url,
                blocked=user.blocked,
            )
            .returning(UserRow)
        )
        try:
            async with self._db.transaction() as session:
                await check(session)
                row = await session.scalar(statement)
        except IntegrityError:
            # A concurrent write took the phone or username between the check and the update.
            async with self._db.reads() as session:
                await check(session)
            raise
        if row is None:
            raise NotFound("unknown_user")
        return _user(row)

    async def delete_user(self, pool_id: str, user_id: str) -> None:
        await self._db.delete_one(
            delete(UserRow).where(UserRow.pool_id == pool_id, UserRow.id == user_id),
            "unknown_user",
        )

    async def unlink_identity(self, pool_id: str, user_id: str, identity_id: str) -> None:
        await self._db.delete_one(
            delete(WeChatIdentityRow).where(
                WeChatIdentityRow.pool_id == pool_id,
                WeChatIdentityRow.user_id == user_id,
                WeChatIdentityRow.id == identity_id,
            ),
            "unknown_identity",
        )


async def _require_unlinked(session: AsyncSession, identity: WeChatIdentityRow) -> None:
    if await exists_where(
        session,
        WeChatIdentityRow.pool_id == identity.pool_id,
        WeChatIdentityRow.app_id == identity.app_id,
        WeChatIdentityRow.openid == identity.openid,
    ):
        raise Conflict("identity_linked")


def _login_values(when: datetime, profile: dict[str, str]) -> dict[str, Any]:
    """A login counted; a non-empty nickname or avatar sent replaces the stored one."""
    values: dict[str, Any] = {"login_count": UserRow.login_count + 1, "last_login_at": utc(when)}
    for key in ("nickname", "avatar_url"):
        if profile.get(key):
            values[key] = profile[key]
    return values


def _identity_row(
    identity: WeChatIdentity, user_id: str, created_at: datetime | None
) -> WeChatIdentityRow:
    return WeChatIdentityRow(
        id=identity.id or new_id("wxid"),
        pool_id=identity.pool_id,
        user_id=user_id,
        app_id=identity.app_id,
        openid=identity.openid,
        unionid=identity.unionid,
        created_at=utc(created_at),
    )


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        pool_id=row.pool_id,
        phone=row.phone,
        phone_verified=row.phone_verified,
        username=row.username,
        email=row.email,
        password_hash=row.password_hash,
        nickname=row.nickname,
        avatar_url=row.avatar_url,
        blocked=row.blocked,
        login_count=row.login_count,
        last_login_at=row.last_login_at,
        created_at=row.created_at,
    )


def _identity(row: WeChatIdentityRow) -> WeChatIdentity:
    return WeChatIdentity(
        id=row.id,
        pool_id=row.pool_id,
        user_id=row.user_id,
        app_id=row.app_id,
        openid=row.openid,
        unionid=row.unionid,
        created_at=row.created_at,
    )
