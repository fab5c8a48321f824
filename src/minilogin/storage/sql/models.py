"""The durable store's tables as SQLAlchemy declarative models.

These mirror ``migrations/versions``: the migrations create the schema, and a test compares
the migrated database with these models so the two can't drift apart. Rows are translated
to and from the dataclasses of ``minilogin.core.entities`` by ``store.py``; nothing outside
the SQL package sees them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Names for constraints and indexes, so that migrations can refer to them on every backend.
# They stay within PostgreSQL's 63 characters; a foreign key's column names what it refers to.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

# Ids the store generates (a short prefix and 22 random characters) and enum values. Anything a
# person or a client supplies is TEXT, so that a long value behaves the same on SQLite and
# PostgreSQL instead of failing only on the latter.
ID = String(64)
ENUM = String(32)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no timezone type and hands back naive values; this stores UTC and always
    returns aware UTC datetimes. Naive values are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PoolRow(Base):
    __tablename__ = "pools"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApplicationRow(Base):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_pool_id", "pool_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    pool_id: Mapped[str] = mapped_column(ID, ForeignKey("pools.id", ondelete="CASCADE"))
    # Globally unique: a token's audience and the token endpoint name the client alone.
    client_id: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(ENUM)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    web_origins: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    client_secret_hash: Mapped[str | None] = mapped_column(Text)
    id_token_lifetime: Mapped[int] = mapped_column(Integer)
    access_token_lifetime: Mapped[int] = mapped_column(Integer)
    refresh_token_lifetime: Mapped[int] = mapped_column(Integer)
    # Applications made before RS256 was offered keep ES256 (migration 0003).
    id_token_signed_response_alg: Mapped[str] = mapped_column(Text, server_default="ES256")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    pkce_required: Mapped[bool] = mapped_column(Boolean, server_default=true())
    resource_server: Mapped[bool] = mapped_column(Boolean, server_default=false())


class IdentitySourceRow(Base):
    __tablename__ = "identity_sources"
    __table_args__ = (UniqueConstraint("pool_id", "unique_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    pool_id: Mapped[str] = mapped_column(ID, ForeignKey("pools.id", ondelete="CASCADE"))
    unique_id: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(Text)
    private_deployment: Mapped[bool] = mapped_column(Boolean)
    app_id: Mapped[str | None] = mapped_column(Text)
    app_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    login_mode: Mapped[str] = mapped_column(ENUM)
    association: Mapped[str] = mapped_column(ENUM)
    page: Mapped[str] = mapped_column(Text)
    env_version: Mapped[str] = mapped_column(ENUM)
    qr_expires_in: Mapped[int] = mapped_column(Integer)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApplicationIdentitySourceRow(Base):
    """An identity source enabled for an application."""

    __tablename__ = "application_identity_sources"
    # The primary key covers lookups by application; this one serves deletes of a source.
    __table_args__ = (
        Index("ix_application_identity_sources_identity_source_id", "identity_source_id"),
    )

    application_id: Mapped[str] = mapped_column(
        ID, ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    identity_source_id: Mapped[str] = mapped_column(
        ID, ForeignKey("identity_sources.id", ondelete="CASCADE"), primary_key=True
    )


class UserRow(Base):
    __tablename__ = "users"
    # The two unique constraints also index phone and username searches within a pool.
    __table_args__ = (
        UniqueConstraint("pool_id", "phone"),
        UniqueConstraint("pool_id", "username"),
        Index("ix_users_pool_id_nickname", "pool_id", "nickname"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    pool_id: Mapped[str] = mapped_column(ID, ForeignKey("pools.id", ondelete="CASCADE"))
    phone: Mapped[str | None] = mapped_column(Text)
    phone_verified: Mapped[bool] = mapped_column(Boolean)
    # Stored lowercased, which makes the unique constraint case-insensitive on every backend.
    username: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    nickname: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(Text)
    blocked: Mapped[bool] = mapped_column(Boolean)
    login_count: Mapped[int] = mapped_column(Integer)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WeChatIdentityRow(Base):
    __tablename__ = "wechat_identities"
    __table_args__ = (
        UniqueConstraint("pool_id", "app_id", "openid"),
        Index("ix_wechat_identities_pool_id_unionid", "pool_id", "unionid"),
        Index("ix_wechat_identities_user_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    pool_id: Mapped[str] = mapped_column(ID, ForeignKey("pools.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(Text)
    openid: Mapped[str] = mapped_column(Text)
    unionid: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SigningKeyRow(Base):
    __tablename__ = "signing_keys"
    # One key per serial: two instances creating or rotating a pool's keys at once agree.
    __table_args__ = (UniqueConstraint("pool_id", "algorithm", "serial"),)

    kid: Mapped[str] = mapped_column(Text, primary_key=True)
    pool_id: Mapped[str] = mapped_column(ID, ForeignKey("pools.id", ondelete="CASCADE"))
    algorithm: Mapped[str] = mapped_column(Text)
    serial: Mapped[int] = mapped_column(Integer)
    private_jwk_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retire_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_pool_id_created_at", "pool_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    # No foreign key: the log outlives the pools, users and applications it mentions.
    pool_id: Mapped[str | None] = mapped_column(ID)
    action: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AdminRow(Base):
    """A console administrator."""

    __tablename__ = "admins"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiTokenRow(Base):
    """An admin API token, kept only as a hash; ``admin_id`` is empty for automation tokens."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_admin_id", "admin_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    admin_id: Mapped[str | None] = mapped_column(ID, ForeignKey("admins.id", ondelete="CASCADE"))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RefreshTokenRow(Base):
    """A refresh token, kept only as a hash. Tokens rotated from one another share a family,
    so that a reused one can revoke all of them (OAuth 2.0 Security BCP §4.14)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family_id", "family_id"),
        Index("ix_refresh_tokens_pool_id_user_id_client_id", "pool_id", "user_id", "client_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    pool_id: Mapped[str] = mapped_column(ID, ForeignKey("pools.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[str] = mapped_column(ID)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    scope: Mapped[str] = mapped_column(Text)
    auth_time: Mapped[int] = mapped_column(Integer)
    amr: Mapped[list[str]] = mapped_column(JSON)
    # The access token issued with this refresh token, revoked with its family.
    access_token_id: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CodeImageRow(Base):
    """The image of one mini program code of the code pool, as it is served: WeChat's bytes,
    or the code with the identity source's logo composed in (codepool/). Kept here
    rather than in the ephemeral store, which holds only the pool's keys; a row goes when its
    code is retired, or at ``kept_until`` when nobody retired it (a login that just expired)."""

    __tablename__ = "code_images"
    __table_args__ = (Index("ix_code_images_kept_until", "kept_until"),)

    app_id: Mapped[str] = mapped_column(Text, primary_key=True)
    scene: Mapped[str] = mapped_column(Text, primary_key=True)
    content_type: Mapped[str] = mapped_column(ENUM)
    image: Mapped[bytes] = mapped_column(LargeBinary)
    kept_until: Mapped[datetime] = mapped_column(UtcDateTime)
