"""objects.edited_at and the indexes a page of statuses reads through (issue 14: home timeline cost)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 05:40:00

- `objects.edited_at`: when an edit last changed what the post shows, kept on the row by the
  one home that records edits (federation/post_edits.record_edit), so that a page of statuses
  reads it with the posts instead of grouping `post_edits` on every page. Backfilled from
  `post_edits`.
- `interactions (object_id, kind, actor_id)` replaces `interactions (object_id)`: a page's
  like and boost counts (`object_id IN … AND kind IN …`) and the reader's own marks (`actor_id
  = … AND object_id IN … AND kind IN …`) are equality lookups on it. Without it SQLite read
  every like and boost through `(kind, after_post_id, id)` (migration 0015) to count 20 posts'.
- `objects (author_id, visibility, deleted_at)`: an author's listed posts are counted from
  the index alone (the Account's `statuses_count`, read for every author of a page).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = talentfed.storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    # A nullable column without a server default: SQLite adds it without rebuilding the table.
    op.add_column("objects", sa.Column("edited_at", UTC, nullable=True))
    op.execute(
        "UPDATE objects SET edited_at = "
        "(SELECT max(post_edits.replaced_at) FROM post_edits WHERE post_edits.object_id = objects.id) "
        "WHERE id IN (SELECT object_id FROM post_edits)"
    )
    op.create_index(
        op.f("ix_interactions_object_id_kind_actor_id"),
        "interactions",
        ["object_id", "kind", "actor_id"],
        unique=False,
    )
    op.drop_index(op.f("ix_interactions_object_id"), table_name="interactions")
    op.create_index(
        op.f("ix_objects_author_id_visibility_deleted_at"),
        "objects",
        ["author_id", "visibility", "deleted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_objects_author_id_visibility_deleted_at"), table_name="objects")
    op.create_index(op.f("ix_interactions_object_id"), "interactions", ["object_id"], unique=False)
    op.drop_index(op.f("ix_interactions_object_id_kind_actor_id"), table_name="interactions")
    # In place (SQLite 3.35+): batch mode would rebuild `objects`, and dropping the old table
    # cascades to every row that references a post.
    op.drop_column("objects", "edited_at")
