"""actors.also_known_as and actors.moved_to_uri: account migration (Move)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 10:00:00

An actor's aliases (`alsoKnownAs`) and the account it moved to (`movedTo`), kept for our
members (what they publish) and for remote actors (what a Move is checked against).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMNs (a constant default for the NOT NULL one): SQLite adds them without
    # rebuilding `actors`, so the search index's triggers on it stay in place.
    op.add_column("actors", sa.Column("also_known_as", JSON, nullable=False, server_default=sa.text("'[]'")))
    op.add_column("actors", sa.Column("moved_to_uri", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    # Not batch mode: rebuilding `actors` on SQLite would drop its search triggers (0006).
    op.drop_column("actors", "moved_to_uri")
    op.drop_column("actors", "also_known_as")
