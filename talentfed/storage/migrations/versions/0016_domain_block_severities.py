"""domain_blocks: Mastodon's severities and comments; domain_allows for allow-list federation

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 06:00:00

A block had one meaning until now: refuse everything from the domain. Existing rows keep it
(severity `suspend`); their `reason` was never shown to anyone but admins, so it becomes the
private comment. `domain_allows` holds the domains an admin allowed on the admin page, read
only when `[federation] mode = "allowlist"`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("domain_blocks") as batch_op:
        batch_op.alter_column("reason", new_column_name="private_comment", existing_type=sa.Text())
        batch_op.add_column(sa.Column("severity", sa.String(16), nullable=False, server_default="suspend"))
        batch_op.add_column(sa.Column("reject_media", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("reject_reports", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("obfuscate", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("public_comment", sa.Text(), nullable=True))
    op.create_table(
        "domain_allows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_allows")),
        sa.UniqueConstraint("domain", name=op.f("uq_domain_allows_domain")),
    )


def downgrade() -> None:
    op.drop_table("domain_allows")
    with op.batch_alter_table("domain_blocks") as batch_op:
        for column in ("public_comment", "obfuscate", "reject_reports", "reject_media", "severity"):
            batch_op.drop_column(column)
        batch_op.alter_column("private_comment", new_column_name="reason", existing_type=sa.Text())
