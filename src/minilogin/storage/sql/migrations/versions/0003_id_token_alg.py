"""Each application chooses how its ID tokens are signed (``id_token_signed_response_alg``).

Applications that exist already were given ES256 ID tokens, and their relying parties may
expect exactly that, so they keep it; new applications default to RS256 in the product.

Revision ID: 0003_id_token_alg
Revises: 0003_application_security
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_id_token_alg"
down_revision: str | Sequence[str] | None = "0003_application_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(
            sa.Column(
                "id_token_signed_response_alg",
                sa.Text(),
                nullable=False,
                server_default="ES256",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("id_token_signed_response_alg")
