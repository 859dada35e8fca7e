"""accounts: invitations; users.notifications_seen_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["actors.id"], name=op.f("fk_invitations_created_by_id_actors"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["used_by_id"], ["actors.id"], name=op.f("fk_invitations_used_by_id_actors"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notifications_seen_at", talentfed.storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("notifications_seen_at")
    op.drop_table("invitations")
