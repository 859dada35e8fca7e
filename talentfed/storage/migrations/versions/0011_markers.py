"""markers: where each member stopped reading the home timeline and the notifications

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00

Mastodon's read markers (`/api/v1/markers`): one row per member and timeline, with the id last
read (a status id, or a notification's key: up to 40 digits) and a version that grows with
each change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "markers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("timeline", sa.String(length=16), nullable=False),
        sa.Column("last_read_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actors.id"], name=op.f("fk_markers_actor_id_actors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_markers")),
        sa.UniqueConstraint("actor_id", "timeline", name=op.f("uq_markers_actor_id_timeline")),
    )


def downgrade() -> None:
    op.drop_table("markers")
