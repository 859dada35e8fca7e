"""remote links that are not http(s) are forgotten

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:30:00

Since `federation/limits.http_url`, only http(s) URLs leave the parsers of remote documents.
Actors and posts stored before kept whatever a server sent in `url` and `icon`, a
`javascript:` URL included, and pages render those columns as links. This clears them; the
next refresh of the actor or post fills them again from its document, through the parser.
Nothing to undo: a downgrade keeps the cleared values.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_COLUMNS = (("actors", "url"), ("actors", "icon_url"), ("objects", "url"))


def upgrade() -> None:
    for table, column in LINK_COLUMNS:
        op.execute(
            f"UPDATE {table} SET {column} = NULL WHERE local = false AND {column} IS NOT NULL "
            f"AND lower({column}) NOT LIKE 'https://%' AND lower({column}) NOT LIKE 'http://%'"
        )


def downgrade() -> None:
    pass
