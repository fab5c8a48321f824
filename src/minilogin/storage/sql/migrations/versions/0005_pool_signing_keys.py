"""Signing keys belong to one pool: pools share no ``kid`` (issue #13).

Each key gains its pool, a serial number per pool and algorithm (the current key is the one
with the highest; a unique constraint makes two instances that create or rotate a pool's keys
at once agree on one), and the instant a rotated-out key stops verifying and leaves the JWKS.

The keys every pool shared until now go to the oldest pool, whose tokens therefore keep
verifying; every other pool gets fresh keys of its own on first use, so the tokens those pools
issued before the upgrade stop verifying (their relying parties log their users in again).
With no pool at all nothing was ever signed for anyone, and the keys are dropped.

Revision ID: 0005_pool_signing_keys
Revises: 0004_code_images
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_pool_signing_keys"
down_revision: str | Sequence[str] | None = "0004_code_images"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

keys = sa.table(
    "signing_keys",
    sa.column("kid", sa.Text()),
    sa.column("algorithm", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("pool_id", sa.String(64)),
    sa.column("serial", sa.Integer()),
)
pools = sa.table(
    "pools", sa.column("id", sa.String(64)), sa.column("created_at", sa.DateTime(timezone=True))
)


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("pool_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("serial", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("retire_at", sa.DateTime(timezone=True), nullable=True))
    connection = op.get_bind()
    oldest = connection.execute(
        sa.select(pools.c.id).order_by(pools.c.created_at, pools.c.id).limit(1)
    ).scalar()
    if oldest is None:
        op.execute(keys.delete())
    else:
        serials: Counter[str] = Counter()
        rows = connection.execute(
            sa.select(keys.c.kid, keys.c.algorithm).order_by(keys.c.created_at, keys.c.kid)
        )
        for kid, algorithm in list(rows):
            serials[algorithm] += 1
            op.execute(
                keys.update()
                .where(keys.c.kid == kid)
                .values(pool_id=oldest, serial=serials[algorithm])
            )
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("pool_id", existing_type=sa.String(64), nullable=False)
        batch.alter_column("serial", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_signing_keys_pool_id", "pools", ["pool_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_unique_constraint(
            "uq_signing_keys_pool_id_algorithm_serial", ["pool_id", "algorithm", "serial"]
        )


def downgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_constraint("uq_signing_keys_pool_id_algorithm_serial", type_="unique")
        batch.drop_constraint("fk_signing_keys_pool_id", type_="foreignkey")
        batch.drop_column("retire_at")
        batch.drop_column("serial")
        batch.drop_column("pool_id")
