"""post_edits, bookmarks, idempotency_keys (Mastodon client API)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:03:07

The versions of a post that edits replaced (a status's history), the posts members bookmarked
(private, never federated), and the `Idempotency-Key`s of new posts with the post each made.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import talentfed.storage.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = talentfed.storage.models.UTCDateTime(timezone=True)


def _references(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "post_edits",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("replaced_at", UTC, nullable=False),
        _references("post_edits", "object_id", "objects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_edits")),
    )
    op.create_index(op.f("ix_post_edits_object_id"), "post_edits", ["object_id"])

    op.create_table(
        "bookmarks",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _references("bookmarks", "actor_id", "actors"),
        _references("bookmarks", "object_id", "objects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmarks")),
        sa.UniqueConstraint("actor_id", "object_id", name=op.f("uq_bookmarks_actor_id_object_id")),
    )
    op.create_index(op.f("ix_bookmarks_actor_id_id"), "bookmarks", ["actor_id", "id"])
    op.create_index(op.f("ix_bookmarks_object_id"), "bookmarks", ["object_id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        _references("idempotency_keys", "actor_id", "actors"),
        _references("idempotency_keys", "object_id", "objects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("actor_id", "key", name=op.f("uq_idempotency_keys_actor_id_key")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_bookmarks_object_id"), table_name="bookmarks")
    op.drop_index(op.f("ix_bookmarks_actor_id_id"), table_name="bookmarks")
    op.drop_table("bookmarks")
    op.drop_index(op.f("ix_post_edits_object_id"), table_name="post_edits")
    op.drop_table("post_edits")
