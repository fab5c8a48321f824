"""Each application says whether it must send PKCE and whether it is a resource server.

PKCE is required of every new application (OAuth 2.1). Confidential applications that exist
already were allowed to log in without it, and their relying parties may not send it: they
keep that, as an explicit opt-out an administrator can switch off. No application was a
resource server before: introspection answered every confidential client.

Revision ID: 0003_application_security
Revises: 0002_refresh_tokens
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_application_security"
down_revision: str | Sequence[str] | None = "0002_refresh_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(
            sa.Column("pkce_required", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("resource_server", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    applications = sa.table("applications", sa.column("type"), sa.column("pkce_required"))
    op.execute(
        applications.update().where(applications.c.type == "web").values(pkce_required=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("resource_server")
        batch.drop_column("pkce_required")
