"""Users and their WeChat identities on SQL: ``UserStore`` of ``minilogin.ports``.

Every login reads the identity and the user and counts the login, so the statements are Core,
built once (``common.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Row,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from minilogin.core.entities import User, WeChatIdentity
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql.common import Database, Work, new_id, pool_exists, table, utc
from minilogin.storage.sql.models import UserRow, WeChatIdentityRow

_users = table(UserRow)
_identities = table(WeChatIdentityRow)

# Bound parameters are named apart from the columns: an UPDATE's own values take those names.
_USER = (_users.c.pool_id == bindparam("pool"), _users.c.id == bindparam("user"))
_IN_POOL = _users.c.pool_id == bindparam("pool")
_OTHERS = (_IN_POOL, _users.c.id != bindparam("user"))

_GET_USER = select(_users).where(*_USER)
_USER_BY_PHONE = select(_users).where(_IN_POOL, _users.c.phone == bindparam("phone"))
_USER_BY_USERNAME = select(_users).where(_IN_POOL, _users.c.username == bindparam("username"))
_USER_EXISTS = select(exists().where(*_USER))
_PHONE_HELD = select(exists().where(_IN_POOL, _users.c.phone == bindparam("phone")))
# With ``take_unverified_phone``, only a holder who verified the number keeps it.
_PHONE_HELD_VERIFIED = select(
    exists().where(
        _IN_POOL, _users.c.phone == bindparam("phone"), _users.c.phone_verified.is_(True)
    )
)
_USERNAME_HELD = select(exists().where(_IN_POOL, _users.c.username == bindparam("username")))
_PHONE_HELD_BY_OTHER = select(exists().where(*_OTHERS, _users.c.phone == bindparam("phone")))
_USERNAME_HELD_BY_OTHER = select(
    exists().where(*_OTHERS, _users.c.username == bindparam("username"))
)
_TAKE_UNVERIFIED_PHONE = (
    update(_users)
    .where(_IN_POOL, _users.c.phone == bindparam("taken"), _users.c.phone_verified.is_(False))
    .values(phone=None)
)
_INSERT_USER = insert(_users)
# One UPDATE … RETURNING: concurrent logins can't lose an increment. An empty nickname or
# avatar leaves the stored one.
_LOGIN_COUNTED = {
    "login_count": _users.c.login_count + 1,
    "last_login_at": bindparam("when", type_=_users.c.last_login_at.type),
    "nickname": func.coalesce(bindparam("nick", type_=_users.c.nickname.type), _users.c.nickname),
    "avatar_url": func.coalesce(
        bindparam("avatar", type_=_users.c.avatar_url.type), _users.c.avatar_url
    ),
}
_RECORD_LOGIN = update(_users).where(*_USER).values(_LOGIN_COUNTED).returning(*_users.c)
# The user the identity is linked to, found inside the UPDATE: one statement where finding the
# identity, reading its user and counting the login took three.
_LINKED_USER = (
    select(_identities.c.user_id)
    .where(
        _identities.c.pool_id == bindparam("pool"),
        _identities.c.app_id == bindparam("app"),
        _identities.c.openid == bindparam("openid"),
    )
    .scalar_subquery()
)
_RECORD_LOGIN_BY_IDENTITY = (
    update(_users)
    .where(_IN_POOL, _users.c.id == _LINKED_USER, _users.c.blocked.is_(False))
    .values(_LOGIN_COUNTED)
    .returning(*_users.c)
)
_UPDATE_USER = (
    update(_users)
    .where(*_USER)
    .values(
        {
            name: bindparam(f"new_{name}", type_=_users.c[name].type)
            for name in (
                "phone",
                "phone_verified",
                "username",
                "email",
                "password_hash",
                "nickname",
                "avatar_url",
                "blocked",
            )
        }
    )
    .returning(*_users.c)
)
_DELETE_USER = delete(_users).where(*_USER).returning(literal(1))

_IDENTITY = (
    _identities.c.pool_id == bindparam("pool"),
    _identities.c.app_id == bindparam("app"),
    _identities.c.openid == bindparam("openid"),
)
_FIND_IDENTITY = select(_identities).where(*_IDENTITY)
_IDENTITY_LINKED = select(exists().where(*_IDENTITY))
_LIST_IDENTITIES = (
    select(_identities)
    .where(_identities.c.pool_id == bindparam("pool"), _identities.c.user_id == bindparam("user"))
    .order_by(_identities.c.created_at)
)
_IDENTITY_BY_UNIONID = (
    select(_identities)
    .where(_identities.c.pool_id == bindparam("pool"), _identities.c.unionid == bindparam("union"))
    .order_by(_identities.c.created_at, _identities.c.id)
    .limit(1)
)
_INSERT_IDENTITY = insert(_identities)
_UNLINK = (
    delete(_identities)
    .where(
        _identities.c.pool_id == bindparam("pool"),
        _identities.c.user_id == bindparam("user"),
        _identities.c.id == bindparam("identity"),
    )
    .returning(literal(1))
)


class SqlUserStore:
    """``UserStore`` on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_user(self, pool_id: str, user_id: str) -> User | None:
        return await self._db.lookup(_one_user(_GET_USER, {"pool": pool_id, "user": user_id}))

    async def find_user_by_phone(self, pool_id: str, phone: str) -> User | None:
        return await self._db.lookup(_one_user(_USER_BY_PHONE, {"pool": pool_id, "phone": phone}))

    async def find_user_by_username(self, pool_id: str, username: str) -> User | None:
        values = {"pool": pool_id, "username": username.lower()}
        return await self._db.lookup(_one_user(_USER_BY_USERNAME, values))

    async def find_identity(self, pool_id: str, app_id: str, openid: str) -> WeChatIdentity | None:
        values = {"pool": pool_id, "app": app_id, "openid": openid}
        return await self._db.lookup(_one_identity(_FIND_IDENTITY, values))

    async def list_identities(self, pool_id: str, user_id: str) -> list[WeChatIdentity]:
        values = {"pool": pool_id, "user": user_id}

        def list_them(connection: Connection) -> list[WeChatIdentity]:
            return [_identity(row) for row in connection.execute(_LIST_IDENTITIES, values)]

        return await self._db.lookup(list_them)

    async def find_identity_by_unionid(self, pool_id: str, unionid: str) -> WeChatIdentity | None:
        """The oldest identity with this UnionID: one per mini program, all of the same person."""
        values = {"pool": pool_id, "union": unionid}
        return await self._db.lookup(_one_identity(_IDENTITY_BY_UNIONID, values))

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
        user_values: dict[str, Any] = {
            "id": user.id or new_id("usr"),
            "pool_id": user.pool_id,
            "phone": user.phone,
            "phone_verified": user.phone_verified,
            "username": None if user.username is None else user.username.lower(),
            "email": user.email,
            "password_hash": user.password_hash,
            "nickname": user.nickname,
            "avatar_url": user.avatar_url,
            "blocked": user.blocked,
            "login_count": user.login_count,
            "last_login_at": None if user.last_login_at is None else utc(user.last_login_at),
            "created_at": created_at,
        }
        identity_values = None
        if identity is not None:
            identity_values = _identity_values(
                identity, user_values["id"], identity.created_at or created_at
            )
        phone = user_values["phone"]
        taking = take_unverified_phone and user.phone_verified and phone is not None
        in_pool = {"pool": user.pool_id}

        def check(connection: Connection) -> None:
            if not pool_exists(connection, user.pool_id):
                raise NotFound("unknown_pool")
            held = _PHONE_HELD_VERIFIED if taking else _PHONE_HELD
            if phone is not None and connection.scalar(held, {**in_pool, "phone": phone}):
                raise Conflict("phone_in_use")
            username = user_values["username"]
            if username is not None and connection.scalar(
                _USERNAME_HELD, {**in_pool, "username": username}
            ):
                raise Conflict("username_taken")
            if identity_values is not None:
                _require_unlinked(connection, identity_values)

        def create(connection: Connection) -> None:
            if taking:
                connection.execute(_TAKE_UNVERIFIED_PHONE, {**in_pool, "taken": phone})
            connection.execute(_INSERT_USER, user_values)
            if identity_values is not None:
                connection.execute(_INSERT_IDENTITY, identity_values)

        await self._db.add(check, create)
        return User(**user_values)

    async def link_identity(self, identity: WeChatIdentity) -> WeChatIdentity:
        values = _identity_values(identity, identity.user_id, identity.created_at)

        def check(connection: Connection) -> None:
            if not connection.scalar(
                _USER_EXISTS, {"pool": values["pool_id"], "user": values["user_id"]}
            ):
                raise NotFound("unknown_user")
            _require_unlinked(connection, values)

        def link(connection: Connection) -> None:
            connection.execute(_INSERT_IDENTITY, values)

        await self._db.add(check, link)
        return WeChatIdentity(**values)

    async def record_login(
        self, pool_id: str, user_id: str, when: datetime, profile: dict[str, str]
    ) -> User:
        """Count a login and fill the nickname/avatar the mini program sent, in one step.

        A non-empty ``nickname``/``avatar_url`` in ``profile`` replaces the stored one: it is
        what the person chose to share at this login.
        """
        values = {"pool": pool_id, "user": user_id, **_login_values(when, profile)}
        user = await self._db.write(_one_user(_RECORD_LOGIN, values))
        if user is None:
            raise NotFound("unknown_user")
        return user

    async def record_login_by_identity(
        self, pool_id: str, app_id: str, openid: str, when: datetime, profile: dict[str, str]
    ) -> User | None:
        """One UPDATE … RETURNING where finding the identity, reading its user and counting
        the login took three statements: a returning person's login."""
        values = {"pool": pool_id, "app": app_id, "openid": openid, **_login_values(when, profile)}
        return await self._db.write(_one_user(_RECORD_LOGIN_BY_IDENTITY, values))

    async def search_users(
        self, pool_id: str, query: str | None, limit: int, offset: int
    ) -> tuple[list[User], int]:
        where: list[ColumnElement[bool]] = [_users.c.pool_id == pool_id]
        text = (query or "").strip().lower()
        if text:
            where.append(
                or_(
                    _users.c.phone.contains(text, autoescape=True),
                    # Usernames are stored lowercased already.
                    _users.c.username.contains(text, autoescape=True),
                    func.lower(_users.c.nickname).contains(text, autoescape=True),
                    func.lower(_users.c.email).contains(text, autoescape=True),
                )
            )
        count = select(func.count()).select_from(_users).where(*where)
        page = (
            select(_users)
            .where(*where)
            .order_by(_users.c.created_at.desc(), _users.c.id.desc())
            .limit(limit)
            .offset(offset)
        )

        def search(connection: Connection) -> tuple[list[User], int]:
            total = connection.scalar(count)
            return [_user(row) for row in connection.execute(page)], int(total or 0)

        return await self._db.read(search)

    async def update_user(self, user: User) -> User:
        username = None if user.username is None else user.username.lower()
        others = {"pool": user.pool_id, "user": user.id}

        def check(connection: Connection) -> None:
            if user.phone is not None and connection.scalar(
                _PHONE_HELD_BY_OTHER, {**others, "phone": user.phone}
            ):
                raise Conflict("phone_in_use")
            if username is not None and connection.scalar(
                _USERNAME_HELD_BY_OTHER, {**others, "username": username}
            ):
                raise Conflict("username_taken")

        values = {
            **others,
            "new_phone": user.phone,
            "new_phone_verified": user.phone_verified,
            "new_username": username,
            "new_email": user.email,
            "new_password_hash": user.password_hash,
            "new_nickname": user.nickname,
            "new_avatar_url": user.avatar_url,
            "new_blocked": user.blocked,
        }
        # A concurrent write that takes the phone or username between the check and the
        # update is refused by the unique constraints; ``add`` then runs the check again.
        updated = await self._db.add(check, _one_user(_UPDATE_USER, values))
        if updated is None:
            raise NotFound("unknown_user")
        return updated

    async def delete_user(self, pool_id: str, user_id: str) -> None:
        if not await self._db.write(_deleted(_DELETE_USER, {"pool": pool_id, "user": user_id})):
            raise NotFound("unknown_user")

    async def unlink_identity(self, pool_id: str, user_id: str, identity_id: str) -> None:
        values = {"pool": pool_id, "user": user_id, "identity": identity_id}
        if not await self._db.write(_deleted(_UNLINK, values)):
            raise NotFound("unknown_identity")


def _login_values(when: datetime, profile: dict[str, str]) -> dict[str, Any]:
    """A login counted; a non-empty nickname or avatar sent replaces the stored one."""
    return {
        "when": utc(when),
        "nick": profile.get("nickname") or None,
        "avatar": profile.get("avatar_url") or None,
    }


def _one_user(statement: Executable, values: Mapping[str, Any]) -> Work[User | None]:
    def one(connection: Connection) -> User | None:
        row = connection.execute(statement, values).first()
        return None if row is None else _user(row)

    return one


def _one_identity(statement: Executable, values: Mapping[str, Any]) -> Work[WeChatIdentity | None]:
    def one(connection: Connection) -> WeChatIdentity | None:
        row = connection.execute(statement, values).first()
        return None if row is None else _identity(row)

    return one


def _deleted(statement: Executable, values: Mapping[str, Any]) -> Work[bool]:
    def deleted(connection: Connection) -> bool:
        return connection.execute(statement, values).first() is not None

    return deleted


def _require_unlinked(connection: Connection, identity: dict[str, Any]) -> None:
    key = {"pool": identity["pool_id"], "app": identity["app_id"], "openid": identity["openid"]}
    if connection.scalar(_IDENTITY_LINKED, key):
        raise Conflict("identity_linked")


def _identity_values(
    identity: WeChatIdentity, user_id: str, created_at: datetime | None
) -> dict[str, Any]:
    return {
        "id": identity.id or new_id("wxid"),
        "pool_id": identity.pool_id,
        "user_id": user_id,
        "app_id": identity.app_id,
        "openid": identity.openid,
        "unionid": identity.unionid,
        "created_at": utc(created_at),
    }


def _user(row: Row[Any]) -> User:
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


def _identity(row: Row[Any]) -> WeChatIdentity:
    return WeChatIdentity(
        id=row.id,
        pool_id=row.pool_id,
        user_id=row.user_id,
        app_id=row.app_id,
        openid=row.openid,
        unionid=row.unionid,
        created_at=row.created_at,
    )
