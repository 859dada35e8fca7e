"""media_attachments, actors.image_url: uploaded pictures and remote posts' attachments

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:10:00

Members upload pictures through the client API (media attachments, avatars, headers): each is
a row here and files under [media] directory. Remote posts' attachments are rows too, known by
their URL only; those stored before this revision (in `objects.extra["attachments"]`) are
copied over. `actors.image_url` is the profile's header picture (ActivityStreams `image`).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_PER_POST = 16  # as federation/post_store.py keeps


def upgrade() -> None:
    op.add_column("actors", sa.Column("image_url", sa.String(length=2048), nullable=True))
    media = op.create_table(
        "media_attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=True),
        sa.Column("file_name", sa.String(length=64), nullable=True),
        sa.Column("preview_name", sa.String(length=64), nullable=True),
        sa.Column("remote_url", sa.String(length=2048), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("blurhash", sa.String(length=100), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("preview_width", sa.Integer(), nullable=True),
        sa.Column("preview_height", sa.Integer(), nullable=True),
        sa.Column("focus_x", sa.Float(), nullable=True),
        sa.Column("focus_y", sa.Float(), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("created_at", talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actors.id"], name=op.f("fk_media_attachments_actor_id_actors"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["objects.id"],
            name=op.f("fk_media_attachments_object_id_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_attachments")),
        sa.UniqueConstraint("file_name", name=op.f("uq_media_attachments_file_name")),
    )
    op.create_index(
        op.f("ix_media_attachments_actor_id_object_id"), "media_attachments", ["actor_id", "object_id"]
    )
    op.create_index(op.f("ix_media_attachments_object_id"), "media_attachments", ["object_id"])
    _copy_stored_attachments(media)


def _copy_stored_attachments(media: sa.Table) -> None:
    """Remote posts kept their attachments' links in `extra`: they become rows."""
    connection = op.get_bind()
    objects = sa.table(
        "objects",
        sa.column("id", sa.Integer()),
        sa.column("author_id", sa.Integer()),
        sa.column("local", sa.Boolean()),
        sa.column("extra", talentfed.storage.models.JSONType),
    )
    now = talentfed.storage.models.utcnow()
    rows: list[dict[str, Any]] = []
    query = sa.select(objects.c.id, objects.c.author_id, objects.c.extra).where(objects.c.local.is_(False))
    for object_id, author_id, extra in connection.execute(query):
        found = (extra or {}).get("attachments") if isinstance(extra, dict) else None
        for position, item in enumerate((found or [])[:MAX_PER_POST]):
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                rows.append(_row(object_id, author_id, position, item, now))
    if rows:
        op.bulk_insert(media, rows)


def _row(object_id: int, author_id: int, position: int, item: dict[str, Any], now: Any) -> dict[str, Any]:
    media_type = item.get("media_type") if isinstance(item.get("media_type"), str) else None
    kind = (media_type or "").split("/")[0]
    return {
        "actor_id": author_id,
        "object_id": object_id,
        "position": position,
        "purpose": "attachment",
        "type": kind if kind in ("image", "video", "audio") else "unknown",
        "media_type": media_type[:255] if media_type else None,
        "remote_url": item["url"][:2048],
        "description": item.get("name") if isinstance(item.get("name"), str) else None,
        "created_at": now,
    }


def downgrade() -> None:
    op.drop_index(op.f("ix_media_attachments_object_id"), table_name="media_attachments")
    op.drop_index(op.f("ix_media_attachments_actor_id_object_id"), table_name="media_attachments")
    op.drop_table("media_attachments")
    # Not batch mode: rebuilding `actors` on SQLite would drop its search triggers (0006).
    op.drop_column("actors", "image_url")
