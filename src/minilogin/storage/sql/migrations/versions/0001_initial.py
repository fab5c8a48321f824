"""The initial schema: pools, applications, identity sources, users and their WeChat
identities, signing keys, the audit log, and console administrators with their API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Generated ids and enum values have a bounded length; everything else is TEXT.
ID = sa.String(64)
ENUM = sa.String(32)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "pools",
        sa.Column("id", ID, nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("logo_url", sa.Text(), nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_pools"),
        sa.UniqueConstraint("slug", name="uq_pools_slug"),
    )

    op.create_table(
        "applications",
        sa.Column("id", ID, nullable=False),
        sa.Column("pool_id", ID, nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", ENUM, nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("web_origins", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("client_secret_hash", sa.Text(), nullable=True),
        sa.Column("id_token_lifetime", sa.Integer(), nullable=False),
        sa.Column("access_token_lifetime", sa.Integer(), nullable=False),
        sa.Column("refresh_token_lifetime", sa.Integer(), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name="fk_applications_pool_id", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("client_id", name="uq_applications_client_id"),
    )
    op.create_index("ix_applications_pool_id", "applications", ["pool_id"])

    op.create_table(
        "identity_sources",
        sa.Column("id", ID, nullable=False),
        sa.Column("pool_id", ID, nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("private_deployment", sa.Boolean(), nullable=False),
        sa.Column("app_id", sa.Text(), nullable=True),
        # Sealed with SecretBox (AES-GCM); the plaintext never reaches the database.
        sa.Column("app_secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("login_mode", ENUM, nullable=False),
        sa.Column("association", ENUM, nullable=False),
        sa.Column("page", sa.Text(), nullable=False),
        sa.Column("env_version", ENUM, nullable=False),
        sa.Column("qr_expires_in", sa.Integer(), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_version", sa.Integer(), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_identity_sources"),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name="fk_identity_sources_pool_id", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("pool_id", "unique_id", name="uq_identity_sources_pool_id_unique_id"),
    )

    op.create_table(
        "application_identity_sources",
        sa.Column("application_id", ID, nullable=False),
        sa.Column("identity_source_id", ID, nullable=False),
        sa.PrimaryKeyConstraint(
            "application_id", "identity_source_id", name="pk_application_identity_sources"
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_application_identity_sources_application_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_source_id"],
            ["identity_sources.id"],
            name="fk_application_identity_sources_identity_source_id",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_application_identity_sources_identity_source_id",
        "application_identity_sources",
        ["identity_source_id"],
    )

    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("pool_id", ID, nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("phone_verified", sa.Boolean(), nullable=False),
        # Lowercased by the store: the unique constraint is then case-insensitive.
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("nickname", sa.Text(), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("login_count", sa.Integer(), nullable=False),
        timestamp("last_login_at", nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name="fk_users_pool_id", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("pool_id", "phone", name="uq_users_pool_id_phone"),
        sa.UniqueConstraint("pool_id", "username", name="uq_users_pool_id_username"),
    )
    op.create_index("ix_users_pool_id_nickname", "users", ["pool_id", "nickname"])

    op.create_table(
        "wechat_identities",
        sa.Column("id", ID, nullable=False),
        sa.Column("pool_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("app_id", sa.Text(), nullable=False),
        sa.Column("openid", sa.Text(), nullable=False),
        sa.Column("unionid", sa.Text(), nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_wechat_identities"),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name="fk_wechat_identities_pool_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_wechat_identities_user_id", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "pool_id", "app_id", "openid", name="uq_wechat_identities_pool_id_app_id_openid"
        ),
    )
    op.create_index(
        "ix_wechat_identities_pool_id_unionid", "wechat_identities", ["pool_id", "unionid"]
    )
    op.create_index("ix_wechat_identities_user_id", "wechat_identities", ["user_id"])

    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.Text(), nullable=False),
        sa.Column("algorithm", sa.Text(), nullable=False),
        # Sealed with SecretBox, like the AppSecrets.
        sa.Column("private_jwk_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", ID, nullable=False),
        # No foreign key: the log outlives what it mentions.
        sa.Column("pool_id", ID, nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ip", sa.Text(), nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_pool_id_created_at", "audit_events", ["pool_id", "created_at"])

    op.create_table(
        "admins",
        sa.Column("id", ID, nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_admins"),
        sa.UniqueConstraint("username", name="uq_admins_username"),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("admin_id", ID, nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        timestamp("created_at"),
        timestamp("last_used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(
            ["admin_id"], ["admins.id"], name="fk_api_tokens_admin_id", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_admin_id", "api_tokens", ["admin_id"])


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes.
    for table in (
        "api_tokens",
        "admins",
        "audit_events",
        "signing_keys",
        "wechat_identities",
        "users",
        "application_identity_sources",
        "identity_sources",
        "applications",
        "pools",
    ):
        op.drop_table(table)
