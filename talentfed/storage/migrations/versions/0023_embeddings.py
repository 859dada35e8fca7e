"""embeddings: each person's and post's sentence embedding, with a hash of the text embedded

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 13:00:00

Written by the worker when the `semantic` extra is installed (domain/embeddings.py); empty
otherwise. The hash lets the worker skip text that has not changed since it was embedded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = talentfed.storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "embeddings",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("codes", sa.LargeBinary(), nullable=False),
        sa.Column("scale", sa.Float(), nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.CheckConstraint(
            "(actor_id IS NULL) <> (object_id IS NULL)", name=op.f("ck_embeddings_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actors.id"], name=op.f("fk_embeddings_actor_id_actors"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["object_id"], ["objects.id"], name=op.f("fk_embeddings_object_id_objects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embeddings")),
        sa.UniqueConstraint("actor_id", name=op.f("uq_embeddings_actor_id")),
        sa.UniqueConstraint("object_id", name=op.f("uq_embeddings_object_id")),
    )


def downgrade() -> None:
    op.drop_table("embeddings")
