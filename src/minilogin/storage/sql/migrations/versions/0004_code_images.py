"""Code images: the code pool's images leave the ephemeral store for a table.

Revision ID: 0004_code_images
Revises: 0003_id_token_alg
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_code_images"
down_revision: str | Sequence[str] | None = "0003_id_token_alg"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_images",
        sa.Column("app_id", sa.Text(), nullable=False),
        sa.Column("scene", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("kept_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "scene", name="pk_code_images"),
    )
    op.create_index("ix_code_images_kept_until", "code_images", ["kept_until"])


def downgrade() -> None:
    op.drop_table("code_images")
