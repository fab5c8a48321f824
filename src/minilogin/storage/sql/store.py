"""The durable store on SQLAlchemy (async): a SQLite file by default, PostgreSQL in production.

``SqlStore`` implements ``minilogin.storage.durable.DurableStore``. Each method is one
transaction. Uniqueness rules are checked before writing, so callers get a ``Conflict`` with
a code they can act on; when a concurrent transaction slips in between the check and the
write, the database's constraint refuses the row and the check runs again to name the
conflict. Secrets are sealed with a ``SecretBox`` before they reach the database.

The schema comes from the Alembic migrations (``migrate.py``), not from this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    delete,
    event,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from minilogin.core.entities import (
    Admin,
    ApiToken,
    Application,
    ApplicationType,
    Association,
    AuditEvent,
    EnvVersion,
    IdentitySource,
    LoginMode,
    Pool,
    SigningKey,
    User,
    WeChatIdentity,
)
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.crypto import SecretBox
from minilogin.storage.durable import CodeImage, RefreshToken
from minilogin.storage.sql.models import (
    AdminRow,
    ApiTokenRow,
    ApplicationIdentitySourceRow,
    ApplicationRow,
    AuditEventRow,
    Base,
    CodeImageRow,
    IdentitySourceRow,
    PoolRow,
    RefreshTokenRow,
    SigningKeyRow,
    UserRow,
    WeChatIdentityRow,
)

# The async driver for each backend, for URLs that name only the backend ("postgresql://…").
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}

# An execution option telling how a connection's transactions are used; see _sqlite_begin.
_ACCESS = "minilogin_access"


def make_engine(database_url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    """An async engine for ``database_url``, with SQLite set up for concurrent use.

    For SQLite: the folder of the file is created, the journal is WAL (readers don't block the
    writer), and transactions are begun by SQLAlchemy instead of the sqlite3 driver, whose
    legacy mode runs SELECTs and DDL outside any transaction. ``foreign_keys=False`` leaves
    SQLite's foreign keys unenforced, which migrations need: rebuilding a table there drops
    the old one, and with enforcement that drop would cascade into the rows pointing at it.
    """
    url = make_url(database_url)
    url = url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))
    if url.get_backend_name() != "sqlite":
        # Pinged when taken from the pool: after the server restarted, the first request
        # gets a fresh connection instead of failing on a dead one.
        return create_async_engine(url, pool_pre_ping=True)

    if url.database and url.database != ":memory:":
        _private_file(Path(url.database))
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
        # ``Any``: the DBAPI protocol doesn't declare sqlite3's ``isolation_level``.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Under WAL, NORMAL syncs at checkpoints rather than at every commit: the database
        # can't be corrupted, and only the last commits before a power cut can be lost.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600), in a folder of its own
    (0700) when the folder is new: it holds password hashes and sealed secrets. SQLite
    gives its WAL and shared-memory files the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sqlite_begin(connection: Connection) -> None:
    access = connection.get_execution_options().get(_ACCESS)
    if access == "write":
        # Take the write lock up front. A transaction that reads and then writes would
        # otherwise fail at once with "database is locked" when another writer committed in
        # between, instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif access != "read":
        connection.exec_driver_sql("BEGIN")
    # Reads: each SELECT runs in its own implicit transaction (see for_reads).


def for_reads(engine: AsyncEngine) -> AsyncEngine:
    """The engine for reads that need no snapshot shared by several statements.

    Each statement sees the latest committed data, without BEGIN/ROLLBACK round trips: the
    lookups on the login path are one SELECT each.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_ACCESS: "read"})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def for_writes(engine: AsyncEngine) -> AsyncEngine:
    """The engine for transactions that write; on SQLite they hold the write lock throughout."""
    return engine.execution_options(**{_ACCESS: "write"})


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(16)}"


def _utc(when: datetime | None) -> datetime:
    """``when`` in UTC, or now when it is None."""
    if when is None:
        return datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: pass a timezone-aware one")
    return when.astimezone(UTC)


Check = Callable[[AsyncSession], Awaitable[None]]


class SqlStore:
    """``DurableStore`` on a SQLAlchemy async engine."""

    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        self._engine = engine
        self._box = box
        self._reads = async_sessionmaker(for_reads(engine), expire_on_commit=False)
        self._writes = async_sessionmaker(for_writes(engine), expire_on_commit=False)
        # SQLite lets one transaction write at a time. Queueing this process's writers here
        # keeps them from waking in SQLite's busy handler, whose growing sleeps (up to 100 ms
        # each) stalled logins and, past the busy timeout, failed them with "database is locked".
        self._write_turn = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    async def open(cls, database_url: str, box: SecretBox) -> SqlStore:
        """Connect to the database once, so that a wrong URL or credentials fail at start-up."""
        engine = make_engine(database_url)
        try:
            async with engine.connect():
                pass
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, box)

    async def close(self) -> None:
        await self._engine.dispose()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with contextlib.AsyncExitStack() as stack:
            if self._write_turn is not None:
                await stack.enter_async_context(self._write_turn)
            session = await stack.enter_async_context(self._writes())
            await stack.enter_async_context(session.begin())
            yield session

    async def _insert(self, check: Check, *rows: Base) -> None:
        """Insert ``rows`` in this order, in one transaction, unless ``check`` raises."""
        try:
            async with self._transaction() as session:
                await check(session)
                for row in rows:
                    session.add(row)
                    # One flush per row keeps the order: a row may refer to the one before.
                    await session.flush()
        except IntegrityError:
            # A concurrent transaction wrote between our check and our insert; its row now
            # makes the check raise the error callers understand.
            async with self._reads() as session:
                await check(session)
            raise

    # pools

    async def create_pool(self, pool: Pool) -> Pool:
        row = PoolRow(
            id=pool.id or _new_id("pool"),
            slug=pool.slug,
            name=pool.name,
            logo_url=pool.logo_url,
            created_at=_utc(pool.created_at),
        )

        async def check(session: AsyncSession) -> None:
            if await _exists(session, PoolRow.slug == row.slug):
                raise Conflict("pool_exists")

        await self._insert(check, row)
        return _pool(row)

    async def get_pool(self, slug: str) -> Pool | None:
        async with self._reads() as session:
            row = await session.scalar(select(PoolRow).where(PoolRow.slug == slug))
        return None if row is None else _pool(row)

    async def list_pools(self) -> list[Pool]:
        async with self._reads() as session:
            rows = await session.scalars(select(PoolRow).order_by(PoolRow.created_at, PoolRow.id))
        return [_pool(row) for row in rows]

    # applications

    async def create_application(self, application: Application) -> Application:
        row = ApplicationRow(
            id=_new_id("app"),
            pool_id=application.pool_id,
            client_id=application.client_id,
            name=application.name,
            type=application.type.value,
            redirect_uris=list(application.redirect_uris),
            web_origins=list(application.web_origins),
            post_logout_redirect_uris=list(application.post_logout_redirect_uris),
            client_secret_hash=application.client_secret_hash,
            id_token_lifetime=application.id_token_lifetime,
            access_token_lifetime=application.access_token_lifetime,
            refresh_token_lifetime=application.refresh_token_lifetime,
            id_token_signed_response_alg=application.id_token_signed_response_alg,
            created_at=_utc(application.created_at),
            pkce_required=application.pkce_required,
            resource_server=application.resource_server,
        )

        async def check(session: AsyncSession) -> None:
            await _require_pool(session, row.pool_id)
            if await _exists(session, ApplicationRow.client_id == row.client_id):
                raise Conflict("client_id_exists")

        await self._insert(check, row)
        return _application(row)

    async def get_application(self, pool_id: str, client_id: str) -> Application | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(ApplicationRow).where(
                    ApplicationRow.pool_id == pool_id, ApplicationRow.client_id == client_id
                )
            )
        return None if row is None else _application(row)

    async def list_applications(self, pool_id: str) -> list[Application]:
        async with self._reads() as session:
            rows = await session.scalars(
                select(ApplicationRow)
                .where(ApplicationRow.pool_id == pool_id)
                .order_by(ApplicationRow.created_at, ApplicationRow.id)
            )
        return [_application(row) for row in rows]

    # identity sources

    async def create_identity_source(self, source: IdentitySource) -> IdentitySource:
        row = IdentitySourceRow(
            id=source.id or _new_id("conn"),
            pool_id=source.pool_id,
            unique_id=source.unique_id,
            display_name=source.display_name,
            callback_url=source.callback_url,
            private_deployment=source.private_deployment,
            app_id=source.app_id,
            app_secret_encrypted=(
                None if source.app_secret is None else self._box.encrypt(source.app_secret)
            ),
            login_mode=source.login_mode.value,
            association=source.association.value,
            page=source.page,
            env_version=source.env_version.value,
            qr_expires_in=source.qr_expires_in,
            logo=source.logo,
            logo_version=source.logo_version,
            created_at=_utc(source.created_at),
        )

        async def check(session: AsyncSession) -> None:
            await _require_pool(session, row.pool_id)
            if await _exists(
                session,
                IdentitySourceRow.pool_id == row.pool_id,
                IdentitySourceRow.unique_id == row.unique_id,
            ):
                raise Conflict("connection_exists")

        await self._insert(check, row)
        return self._identity_source(row)

    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(IdentitySourceRow).where(
                    IdentitySourceRow.pool_id == pool_id, IdentitySourceRow.unique_id == unique_id
                )
            )
        return None if row is None else self._identity_source(row)

    async def list_identity_sources(self, pool_id: str) -> list[IdentitySource]:
        async with self._reads() as session:
            rows = await session.scalars(
                select(IdentitySourceRow)
                .where(IdentitySourceRow.pool_id == pool_id)
                .order_by(IdentitySourceRow.created_at, IdentitySourceRow.id)
            )
        return [self._identity_source(row) for row in rows]

    async def enable_identity_source(self, pool_id: str, client_id: str, unique_id: str) -> None:
        try:
            async with self._transaction() as session:
                link = await _link(session, pool_id, client_id, unique_id)
                if not await _exists(session, *_link_matches(link)):
                    session.add(link)
        except IntegrityError:
            # A concurrent enable won the race, which leaves the source enabled as asked;
            # anything else (the application or source deleted meanwhile) is re-raised.
            async with self._reads() as session:
                link = await _link(session, pool_id, client_id, unique_id)
                if not await _exists(session, *_link_matches(link)):
                    raise

    async def disable_identity_source(self, pool_id: str, client_id: str, unique_id: str) -> None:
        async with self._transaction() as session:
            link = await _link(session, pool_id, client_id, unique_id)
            await session.execute(delete(ApplicationIdentitySourceRow).where(*_link_matches(link)))

    async def enabled_identity_sources(self, pool_id: str, client_id: str) -> list[IdentitySource]:
        async with self._reads() as session:
            rows = await session.scalars(
                select(IdentitySourceRow)
                .join(
                    ApplicationIdentitySourceRow,
                    ApplicationIdentitySourceRow.identity_source_id == IdentitySourceRow.id,
                )
                .join(
                    ApplicationRow,
                    ApplicationRow.id == ApplicationIdentitySourceRow.application_id,
                )
                .where(ApplicationRow.pool_id == pool_id, ApplicationRow.client_id == client_id)
                .order_by(IdentitySourceRow.created_at, IdentitySourceRow.id)
            )
        return [self._identity_source(row) for row in rows]

    # users and their WeChat identities

    async def get_user(self, pool_id: str, user_id: str) -> User | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(UserRow).where(UserRow.pool_id == pool_id, UserRow.id == user_id)
            )
        return None if row is None else _user(row)

    async def find_user_by_phone(self, pool_id: str, phone: str) -> User | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(UserRow).where(UserRow.pool_id == pool_id, UserRow.phone == phone)
            )
        return None if row is None else _user(row)

    async def find_user_by_username(self, pool_id: str, username: str) -> User | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(UserRow).where(
                    UserRow.pool_id == pool_id, UserRow.username == username.lower()
                )
            )
        return None if row is None else _user(row)

    async def find_identity(self, pool_id: str, app_id: str, openid: str) -> WeChatIdentity | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(WeChatIdentityRow).where(
                    WeChatIdentityRow.pool_id == pool_id,
                    WeChatIdentityRow.app_id == app_id,
                    WeChatIdentityRow.openid == openid,
                )
            )
        return None if row is None else _identity(row)

    async def list_identities(self, pool_id: str, user_id: str) -> list[WeChatIdentity]:
        async with self._reads() as session:
            rows = await session.scalars(
                select(WeChatIdentityRow)
                .where(WeChatIdentityRow.pool_id == pool_id, WeChatIdentityRow.user_id == user_id)
                .order_by(WeChatIdentityRow.created_at)
            )
            return [_identity(row) for row in rows]

    async def find_identity_by_unionid(self, pool_id: str, unionid: str) -> WeChatIdentity | None:
        """The oldest identity with this UnionID: one per mini program, all of the same person."""
        async with self._reads() as session:
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
        created_at = _utc(user.created_at)
        user_row = UserRow(
            id=user.id or _new_id("usr"),
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
            last_login_at=None if user.last_login_at is None else _utc(user.last_login_at),
            created_at=created_at,
        )
        rows: list[Base] = [user_row]
        identity_row = None
        if identity is not None:
            identity_row = _identity_row(identity, user_row.id, identity.created_at or created_at)
            rows.append(identity_row)

        async def check(session: AsyncSession) -> None:
            await _require_pool(session, user_row.pool_id)
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
            if user_row.phone is not None and await _exists(
                session, in_pool, UserRow.phone == user_row.phone
            ):
                raise Conflict("phone_in_use")
            if user_row.username is not None and await _exists(
                session, in_pool, UserRow.username == user_row.username
            ):
                raise Conflict("username_taken")
            if identity_row is not None:
                await _require_unlinked(session, identity_row)

        await self._insert(check, *rows)
        return _user(user_row)

    async def link_identity(self, identity: WeChatIdentity) -> WeChatIdentity:
        row = _identity_row(identity, identity.user_id, identity.created_at)

        async def check(session: AsyncSession) -> None:
            if not await _exists(
                session, UserRow.pool_id == row.pool_id, UserRow.id == row.user_id
            ):
                raise NotFound("unknown_user")
            await _require_unlinked(session, row)

        await self._insert(check, row)
        return _identity(row)

    async def record_login(
        self, pool_id: str, user_id: str, when: datetime, profile: dict[str, str]
    ) -> User:
        """Count a login and fill the nickname/avatar the mini program sent, in one step.

        A non-empty ``nickname``/``avatar_url`` in ``profile`` replaces the stored one: it is
        what the person chose to share at this login.
        """
        values: dict[str, Any] = {
            "login_count": UserRow.login_count + 1,
            "last_login_at": _utc(when),
        }
        for key in ("nickname", "avatar_url"):
            if profile.get(key):
                values[key] = profile[key]
        async with self._transaction() as session:
            # One UPDATE … RETURNING: concurrent logins can't lose an increment.
            row = await session.scalar(
                update(UserRow)
                .where(UserRow.pool_id == pool_id, UserRow.id == user_id)
                .values(values)
                .returning(UserRow)
            )
        if row is None:
            raise NotFound("unknown_user")
        return _user(row)

    # refresh tokens

    async def add_refresh_token(self, token: RefreshToken) -> RefreshToken:
        row = _refresh_token_row(token)

        async def check(session: AsyncSession) -> None:
            if await _exists(session, RefreshTokenRow.token_hash == row.token_hash):
                raise Conflict("refresh_token_exists")

        await self._insert(check, row)
        return _refresh_token(row)

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
            )
        return None if row is None else _refresh_token(row)

    async def rotate_refresh_token(
        self, used_id: str, replacement: RefreshToken, when: datetime
    ) -> RefreshToken | None:
        row = _refresh_token_row(replacement)
        async with self._transaction() as session:
            # The conditional UPDATE is the one place a token turns used: of two concurrent
            # rotations of the same token only one finds it unused.
            marked = await session.scalar(
                update(RefreshTokenRow)
                .where(
                    RefreshTokenRow.id == used_id,
                    RefreshTokenRow.used_at.is_(None),
                    RefreshTokenRow.revoked_at.is_(None),
                )
                .values(used_at=_utc(when))
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
        async with self._transaction() as session:
            await session.execute(
                update(RefreshTokenRow)
                .where(*where, RefreshTokenRow.revoked_at.is_(None))
                .values(revoked_at=_utc(when))
            )
            rows = await session.scalars(
                select(RefreshTokenRow).where(*where).order_by(RefreshTokenRow.created_at)
            )
            return [_refresh_token(row) for row in rows]

    # signing keys

    async def add_signing_key(self, key: SigningKey) -> SigningKey:
        """Keep ``key``; ``Conflict`` when its kid, or its pool's serial of its algorithm, is
        taken (another instance made the pool's first keys at the same moment)."""
        row = _signing_key_row(key, self._box.encrypt(key.private_jwk))
        await self._insert(_signing_key_check(row), row)
        return self._signing_key(row)

    async def rotate_signing_key(self, key: SigningKey, retire_at: datetime) -> SigningKey:
        """Make ``key`` its pool's current key of its algorithm, in one transaction: the keys
        before it stop signing and verify until ``retire_at`` (or the earlier instant an
        earlier rotation gave them), and the pool's keys whose instant has passed are deleted.
        ``Conflict`` when another rotation took the serial first."""
        row = _signing_key_row(key, self._box.encrypt(key.private_jwk))
        retire = _utc(retire_at)
        check = _signing_key_check(row)
        older = (
            SigningKeyRow.pool_id == row.pool_id,
            SigningKeyRow.algorithm == row.algorithm,
            SigningKeyRow.serial < row.serial,
        )
        try:
            async with self._transaction() as session:
                await check(session)
                session.add(row)
                await session.flush()
                await session.execute(
                    update(SigningKeyRow)
                    .where(
                        *older,
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
            async with self._reads() as session:
                await check(session)
            raise
        return self._signing_key(row)

    async def list_signing_keys(self, pool_id: str) -> list[SigningKey]:
        """The pool's keys, oldest first (retired ones included until they are deleted)."""
        async with self._reads() as session:
            rows = await session.scalars(
                select(SigningKeyRow)
                .where(SigningKeyRow.pool_id == pool_id)
                .order_by(SigningKeyRow.serial, SigningKeyRow.created_at, SigningKeyRow.kid)
            )
        return [self._signing_key(row) for row in rows]

    # the code pool's images

    async def put_code_image(
        self, app_id: str, scene: str, image: CodeImage, kept_until: datetime
    ) -> None:
        async with self._transaction() as session:
            # Delete and insert in one transaction: an upsert every backend understands.
            await session.execute(
                delete(CodeImageRow).where(
                    CodeImageRow.app_id == app_id, CodeImageRow.scene == scene
                )
            )
            session.add(
                CodeImageRow(
                    app_id=app_id,
                    scene=scene,
                    content_type=image.content_type,
                    image=image.data,
                    kept_until=_utc(kept_until),
                )
            )

    async def get_code_image(self, app_id: str, scene: str) -> CodeImage | None:
        async with self._reads() as session:
            row = await session.get(CodeImageRow, (app_id, scene))
        return None if row is None else CodeImage(row.content_type, row.image)

    async def keep_code_image(self, app_id: str, scene: str, kept_until: datetime) -> bool:
        async with self._transaction() as session:
            kept = await session.scalar(
                update(CodeImageRow)
                .where(CodeImageRow.app_id == app_id, CodeImageRow.scene == scene)
                .values(kept_until=_utc(kept_until))
                .returning(CodeImageRow.scene)
            )
        return kept is not None

    async def delete_code_images(self, app_id: str, scenes: Sequence[str]) -> None:
        if not scenes:
            return
        async with self._transaction() as session:
            await session.execute(
                delete(CodeImageRow).where(
                    CodeImageRow.app_id == app_id, CodeImageRow.scene.in_(list(scenes))
                )
            )

    async def delete_code_images_until(self, now: datetime) -> int:
        async with self._transaction() as session:
            gone = await session.scalars(
                delete(CodeImageRow)
                .where(CodeImageRow.kept_until <= _utc(now))
                .returning(CodeImageRow.scene)
            )
            return len(gone.all())

    # audit log

    async def add_audit_events(self, events: Sequence[AuditEvent]) -> None:
        rows = [
            AuditEventRow(
                id=event.id or _new_id("evt"),
                pool_id=event.pool_id,
                action=event.action,
                actor=event.actor,
                subject=event.subject,
                detail=dict(event.detail),
                ip=event.ip,
                created_at=_utc(event.created_at),
            )
            for event in events
        ]
        async with self._transaction() as session:
            session.add_all(rows)

    async def list_audit_events(self, pool_id: str, limit: int = 100) -> list[AuditEvent]:
        """The pool's latest ``limit`` events, newest first."""
        async with self._reads() as session:
            rows = await session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.pool_id == pool_id)
                .order_by(AuditEventRow.created_at.desc(), AuditEventRow.id.desc())
                .limit(limit)
            )
        return [_audit_event(row) for row in rows]

    # ---- administration: the console and the admin API (API.md §6) ----------------------

    # administrators and their API tokens

    async def create_admin(self, admin: Admin) -> Admin:
        row = AdminRow(
            id=admin.id or _new_id("adm"),
            username=admin.username.lower(),
            password_hash=admin.password_hash,
            created_at=_utc(admin.created_at),
        )

        async def check(session: AsyncSession) -> None:
            if await _exists(session, AdminRow.username == row.username):
                raise Conflict("admin_exists")

        await self._insert(check, row)
        return _admin(row)

    async def find_admin(self, username: str) -> Admin | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(AdminRow).where(AdminRow.username == username.lower())
            )
        return None if row is None else _admin(row)

    async def get_admin(self, admin_id: str) -> Admin | None:
        async with self._reads() as session:
            row = await session.scalar(select(AdminRow).where(AdminRow.id == admin_id))
        return None if row is None else _admin(row)

    async def set_admin_password(self, admin_id: str, password_hash: str) -> None:
        async with self._transaction() as session:
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
            id=token.id or _new_id("tok"),
            token_hash=token.token_hash,
            admin_id=token.admin_id,
            description=token.description,
            created_at=_utc(token.created_at),
            last_used_at=None,
        )

        async def check(session: AsyncSession) -> None:
            if row.admin_id is not None and not await _exists(session, AdminRow.id == row.admin_id):
                raise NotFound("unknown_admin")
            if await _exists(session, ApiTokenRow.token_hash == row.token_hash):
                raise Conflict("api_token_exists")

        await self._insert(check, row)
        return _api_token(row)

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        async with self._reads() as session:
            row = await session.scalar(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)
            )
        return None if row is None else _api_token(row)

    async def touch_api_token(self, token_id: str, when: datetime) -> None:
        async with self._transaction() as session:
            await session.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.id == token_id)
                .values(last_used_at=_utc(when))
            )

    async def list_admins(self) -> list[Admin]:
        async with self._reads() as session:
            rows = await session.scalars(select(AdminRow).order_by(AdminRow.username))
        return [_admin(row) for row in rows]

    async def delete_admin(self, admin_id: str) -> None:
        # The foreign key cascades to the administrator's API tokens.
        await self._delete_one(delete(AdminRow).where(AdminRow.id == admin_id), "unknown_admin")

    async def list_api_tokens(self) -> list[ApiToken]:
        async with self._reads() as session:
            rows = await session.scalars(
                select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
            )
        return [_api_token(row) for row in rows]

    async def get_api_token(self, token_id: str) -> ApiToken | None:
        async with self._reads() as session:
            row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.id == token_id))
        return None if row is None else _api_token(row)

    async def describe_api_token(self, token_id: str, description: str | None) -> ApiToken:
        async with self._transaction() as session:
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
        await self._delete_one(
            delete(ApiTokenRow).where(ApiTokenRow.id == token_id), "unknown_api_token"
        )

    # changing and deleting pools, applications and identity sources

    async def update_pool(self, pool: Pool) -> Pool:
        async with self._transaction() as session:
            row = await session.scalar(
                update(PoolRow)
                .where(PoolRow.id == pool.id)
                .values(name=pool.name, logo_url=pool.logo_url)
                .returning(PoolRow)
            )
        if row is None:
            raise NotFound("unknown_pool")
        return _pool(row)

    async def delete_pool(self, pool_id: str) -> None:
        # Foreign keys cascade to the pool's applications, sources, users and identities.
        await self._delete_one(delete(PoolRow).where(PoolRow.id == pool_id), "unknown_pool")

    async def update_application(self, application: Application) -> Application:
        async with self._transaction() as session:
            row = await session.scalar(
                update(ApplicationRow)
                .where(
                    ApplicationRow.pool_id == application.pool_id,
                    ApplicationRow.client_id == application.client_id,
                )
                .values(
                    name=application.name,
                    redirect_uris=list(application.redirect_uris),
                    web_origins=list(application.web_origins),
                    post_logout_redirect_uris=list(application.post_logout_redirect_uris),
                    client_secret_hash=application.client_secret_hash,
                    id_token_lifetime=application.id_token_lifetime,
                    access_token_lifetime=application.access_token_lifetime,
                    refresh_token_lifetime=application.refresh_token_lifetime,
                    id_token_signed_response_alg=application.id_token_signed_response_alg,
                    pkce_required=application.pkce_required,
                    resource_server=application.resource_server,
                )
                .returning(ApplicationRow)
            )
        if row is None:
            raise NotFound("unknown_client")
        return _application(row)

    async def delete_application(self, pool_id: str, client_id: str) -> None:
        await self._delete_one(
            delete(ApplicationRow).where(
                ApplicationRow.pool_id == pool_id, ApplicationRow.client_id == client_id
            ),
            "unknown_client",
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
            values["app_secret_encrypted"] = self._box.encrypt(source.app_secret)
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
        async with self._transaction() as session:
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
        await self._delete_one(
            delete(IdentitySourceRow).where(
                IdentitySourceRow.pool_id == pool_id, IdentitySourceRow.unique_id == unique_id
            ),
            "unknown_connection",
        )

    async def applications_using(self, pool_id: str, unique_id: str) -> list[Application]:
        async with self._reads() as session:
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
        return [_application(row) for row in rows]

    # users, for administrators

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
        async with self._reads() as session:
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
            if user.phone is not None and await _exists(
                session, *others, UserRow.phone == user.phone
            ):
                raise Conflict("phone_in_use")
            if username is not None and await _exists(
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
            async with self._transaction() as session:
                await check(session)
                row = await session.scalar(statement)
        except IntegrityError:
            # A concurrent write took the phone or username between the check and the update.
            async with self._reads() as session:
                await check(session)
            raise
        if row is None:
            raise NotFound("unknown_user")
        return _user(row)

    async def delete_user(self, pool_id: str, user_id: str) -> None:
        await self._delete_one(
            delete(UserRow).where(UserRow.pool_id == pool_id, UserRow.id == user_id),
            "unknown_user",
        )

    async def unlink_identity(self, pool_id: str, user_id: str, identity_id: str) -> None:
        await self._delete_one(
            delete(WeChatIdentityRow).where(
                WeChatIdentityRow.pool_id == pool_id,
                WeChatIdentityRow.user_id == user_id,
                WeChatIdentityRow.id == identity_id,
            ),
            "unknown_identity",
        )

    async def _delete_one(self, statement: Delete, not_found: str) -> None:
        async with self._transaction() as session:
            deleted = (await session.execute(statement.returning(literal(1)))).first()
        if deleted is None:
            raise NotFound(not_found)

    # the audit log, filtered

    async def search_audit_events(
        self,
        pool_id: str | None,
        *,
        action_prefixes: tuple[str, ...] = (),
        subject: str | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
    ) -> list[AuditEvent]:
        statement = select(AuditEventRow).where(
            AuditEventRow.pool_id.is_(None) if pool_id is None else AuditEventRow.pool_id == pool_id
        )
        if action_prefixes:
            statement = statement.where(
                or_(
                    *(
                        AuditEventRow.action.startswith(prefix, autoescape=True)
                        for prefix in action_prefixes
                    )
                )
            )
        if subject is not None:
            statement = statement.where(AuditEventRow.subject == subject)
        if since is not None:
            statement = statement.where(AuditEventRow.created_at >= _utc(since))
        statement = statement.order_by(AuditEventRow.created_at.desc(), AuditEventRow.id.desc())
        if limit is not None:
            statement = statement.limit(limit)
        async with self._reads() as session:
            rows = await session.scalars(statement)
            return [_audit_event(row) for row in rows]

    # ---- end of administration ------------------------------------------------------------

    # rows with secrets

    def _identity_source(self, row: IdentitySourceRow) -> IdentitySource:
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
                else self._box.decrypt(row.app_secret_encrypted)
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

    def _signing_key(self, row: SigningKeyRow) -> SigningKey:
        return SigningKey(
            kid=row.kid,
            algorithm=row.algorithm,
            private_jwk=self._box.decrypt(row.private_jwk_encrypted),
            public_jwk=row.public_jwk,
            active=row.active,
            created_at=row.created_at,
            pool_id=row.pool_id,
            serial=row.serial,
            retire_at=row.retire_at,
        )


# checks shared by several writes


async def _exists(session: AsyncSession, *where: ColumnElement[bool]) -> bool:
    return bool(await session.scalar(select(exists().where(*where))))


async def _require_pool(session: AsyncSession, pool_id: str) -> None:
    if not await _exists(session, PoolRow.id == pool_id):
        raise NotFound("unknown_pool")


async def _require_unlinked(session: AsyncSession, identity: WeChatIdentityRow) -> None:
    if await _exists(
        session,
        WeChatIdentityRow.pool_id == identity.pool_id,
        WeChatIdentityRow.app_id == identity.app_id,
        WeChatIdentityRow.openid == identity.openid,
    ):
        raise Conflict("identity_linked")


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


# rows to entities and back


def _identity_row(
    identity: WeChatIdentity, user_id: str, created_at: datetime | None
) -> WeChatIdentityRow:
    return WeChatIdentityRow(
        id=identity.id or _new_id("wxid"),
        pool_id=identity.pool_id,
        user_id=user_id,
        app_id=identity.app_id,
        openid=identity.openid,
        unionid=identity.unionid,
        created_at=_utc(created_at),
    )


def _pool(row: PoolRow) -> Pool:
    return Pool(
        id=row.id, slug=row.slug, name=row.name, logo_url=row.logo_url, created_at=row.created_at
    )


def _application(row: ApplicationRow) -> Application:
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


def _audit_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        pool_id=row.pool_id,
        action=row.action,
        actor=row.actor,
        subject=row.subject,
        detail=dict(row.detail),
        ip=row.ip,
        created_at=row.created_at,
    )


def _utc_or_none(when: datetime | None) -> datetime | None:
    return None if when is None else _utc(when)


def _signing_key_row(key: SigningKey, private_jwk_encrypted: bytes) -> SigningKeyRow:
    return SigningKeyRow(
        kid=key.kid,
        pool_id=key.pool_id,
        algorithm=key.algorithm,
        serial=key.serial,
        private_jwk_encrypted=private_jwk_encrypted,
        public_jwk=key.public_jwk,
        active=key.active,
        created_at=_utc(key.created_at),
        retire_at=_utc_or_none(key.retire_at),
    )


def _signing_key_check(row: SigningKeyRow) -> Check:
    async def check(session: AsyncSession) -> None:
        await _require_pool(session, row.pool_id)
        if await _exists(session, SigningKeyRow.kid == row.kid) or await _exists(
            session,
            SigningKeyRow.pool_id == row.pool_id,
            SigningKeyRow.algorithm == row.algorithm,
            SigningKeyRow.serial == row.serial,
        ):
            raise Conflict("signing_key_exists")

    return check


def _refresh_token_row(token: RefreshToken) -> RefreshTokenRow:
    return RefreshTokenRow(
        id=token.id or _new_id("rt"),
        pool_id=token.pool_id,
        client_id=token.client_id,
        user_id=token.user_id,
        family_id=token.family_id,
        token_hash=token.token_hash,
        scope=token.scope,
        auth_time=token.auth_time,
        amr=list(token.amr),
        access_token_id=token.access_token_id,
        access_expires_at=_utc_or_none(token.access_expires_at),
        expires_at=_utc(token.expires_at),
        created_at=_utc(token.created_at),
        used_at=_utc_or_none(token.used_at),
        revoked_at=_utc_or_none(token.revoked_at),
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


# administration rows to entities


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
