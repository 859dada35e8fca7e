"""interactions.after_post_id: where a reblog falls among posts (Mastodon client API timelines)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:10:00

The newest post's id when an edge was recorded, so that timelines can interleave reblogs with
posts in the order both arrived (domain/timelines.py). New rows get it from their INSERT
(`models.NEWEST_POST_ID`); existing rows get the id of the post they concern, the one place
known to be before them: a reblog made before this migration shows just after the post it
reblogs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column without a server default: SQLite adds it without rebuilding the table.
    op.add_column("interactions", sa.Column("after_post_id", sa.Integer(), nullable=True))
    op.execute("UPDATE interactions SET after_post_id = COALESCE(object_id, 0)")
    op.create_index(
        op.f("ix_interactions_kind_after_post_id_id"),
        "interactions",
        ["kind", "after_post_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_interactions_kind_after_post_id_id"), table_name="interactions")
    with op.batch_alter_table("interactions") as batch_op:
        batch_op.drop_column("after_post_id")
