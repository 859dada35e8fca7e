"""rate_limit_counters: rate-limit windows shared by all of a node's processes

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 06:00:00

Without `[cache] url`, a node on PostgreSQL counts rate-limit hits here, so that several web
processes share one count per client (storage/rate_counters.py). One row per rule and key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("resets_at", sa.Float(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index(
        op.f("ix_rate_limit_counters_resets_at"), "rate_limit_counters", ["resets_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_counters_resets_at"), table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
