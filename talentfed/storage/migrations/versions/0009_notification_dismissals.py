"""notification_dismissals: notifications a member dismissed or cleared (Mastodon client API)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:10:57

Notifications are still derived from follows, posts and interactions (domain/notifications.py);
this table only names the ones a member no longer wants to see, by source table, row id and time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_dismissals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.SmallInteger(), nullable=False),
        sa.Column("ref_id", sa.BigInteger(), nullable=False),
        sa.Column("at", talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_notification_dismissals_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_dismissals")),
        sa.UniqueConstraint(
            "actor_id",
            "source",
            "ref_id",
            "at",
            name=op.f("uq_notification_dismissals_actor_id_source_ref_id_at"),
        ),
    )


def downgrade() -> None:
    op.drop_table("notification_dismissals")
