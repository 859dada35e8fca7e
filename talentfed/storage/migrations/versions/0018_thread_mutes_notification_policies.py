"""thread_mutes, notification_policies (Mastodon client API)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:00:00

The threads members muted (no notifications from them) and each member's notification policy
(accept, filter or drop notifications from people they do not follow, and so on).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = talentfed.storage.models.UTCDateTime(timezone=True)
POLICIES = ("not_following", "not_followers", "new_accounts", "private_mentions", "limited_accounts")


def _references_actors(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["actor_id"], ["actors.id"], name=op.f(f"fk_{table}_actor_id_actors"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "thread_mutes",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("thread_uri", sa.String(length=2048), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _references_actors("thread_mutes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_mutes")),
        sa.UniqueConstraint("actor_id", "thread_uri", name=op.f("uq_thread_mutes_actor_id_thread_uri")),
    )
    op.create_table(
        "notification_policies",
        sa.Column("actor_id", sa.Integer(), nullable=False),
        *(sa.Column(f"for_{name}", sa.String(length=8), nullable=False) for name in POLICIES),
        sa.Column("updated_at", UTC, nullable=False),
        _references_actors("notification_policies"),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_notification_policies")),
    )


def downgrade() -> None:
    op.drop_table("notification_policies")
    op.drop_table("thread_mutes")
