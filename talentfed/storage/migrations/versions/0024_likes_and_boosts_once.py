"""interactions: one like and one boost per actor and post (a partial unique index)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:00:00

Before this index, two Likes of one post by one actor with different activity ids, stored by
two transactions at once (parallel inbox batches on PostgreSQL), both became rows, and the
post's favourites count was 2 (issue 19). The index makes the database keep the rule
(storage/reactions.py inserts against it). A node that already holds such duplicates keeps the
first one recorded (the lowest id) of each actor, post and kind; the others are deleted, or
creating the index would fail. `downgrade()` drops the index; the deleted duplicates do not
come back (they were the same like, counted twice).
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As models.COUNTED_ONCE says it today; a migration keeps its own copy.
COUNTED_ONCE = "kind IN ('like', 'announce')"


def upgrade() -> None:
    # A row whose object_id is NULL conflicts with none (NULLs are distinct in a unique index).
    op.execute(
        f"""
        DELETE FROM interactions
        WHERE {COUNTED_ONCE} AND object_id IS NOT NULL AND id NOT IN (
            SELECT MIN(id) FROM interactions
            WHERE {COUNTED_ONCE} AND object_id IS NOT NULL
            GROUP BY actor_id, object_id, kind
        )
        """
    )
    op.create_index(
        "ux_interactions_counted_once",
        "interactions",
        ["actor_id", "object_id", "kind"],
        unique=True,
        sqlite_where=text(COUNTED_ONCE),
        postgresql_where=text(COUNTED_ONCE),
    )


def downgrade() -> None:
    op.drop_index("ux_interactions_counted_once", table_name="interactions")
