"""Refresh tokens: kept as hashes, grouped in families for rotation and reuse detection.

Revision ID: 0002_refresh_tokens
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002_refresh_tokens"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("pool_id", ID, nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("family_id", ID, nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("auth_time", sa.Integer(), nullable=False),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("access_token_id", sa.Text(), nullable=True),
        timestamp("access_expires_at", nullable=True),
        timestamp("expires_at"),
        timestamp("created_at"),
        timestamp("used_at", nullable=True),
        timestamp("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name="fk_refresh_tokens_pool_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_refresh_tokens_user_id", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_index(
        "ix_refresh_tokens_pool_id_user_id_client_id",
        "refresh_tokens",
        ["pool_id", "user_id", "client_id"],
    )


def downgrade() -> None:
    op.drop_table("refresh_tokens")
