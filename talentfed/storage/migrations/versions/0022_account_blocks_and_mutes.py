"""account_blocks, account_mutes: members block and mute accounts (Mastodon's Block, Mute)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-09 10:00:00

Blocks go either way: a member's block of someone, or a remote actor's Block of a member
received here; `uri` is the Block activity's id, for its Undo. Mutes are a member's own, with
or without notifications, and may expire.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = talentfed.storage.models.UTCDateTime(timezone=True)


def _references_actors(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["actors.id"], name=op.f(f"fk_{table}_{column}_actors"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "account_blocks",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("blocker_id", sa.Integer(), nullable=False),
        sa.Column("blocked_id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        _references_actors("account_blocks", "blocker_id"),
        _references_actors("account_blocks", "blocked_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_blocks")),
        sa.UniqueConstraint("blocker_id", "blocked_id", name=op.f("uq_account_blocks_blocker_id_blocked_id")),
    )
    op.create_index(op.f("ix_account_blocks_blocked_id"), "account_blocks", ["blocked_id"])
    op.create_table(
        "account_mutes",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("muted_id", sa.Integer(), nullable=False),
        sa.Column("notifications", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        _references_actors("account_mutes", "actor_id"),
        _references_actors("account_mutes", "muted_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_mutes")),
        sa.UniqueConstraint("actor_id", "muted_id", name=op.f("uq_account_mutes_actor_id_muted_id")),
    )
    op.create_index(op.f("ix_account_mutes_muted_id"), "account_mutes", ["muted_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_account_mutes_muted_id"), table_name="account_mutes")
    op.drop_table("account_mutes")
    op.drop_index(op.f("ix_account_blocks_blocked_id"), table_name="account_blocks")
    op.drop_table("account_blocks")
