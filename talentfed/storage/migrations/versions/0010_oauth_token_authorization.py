"""oauth_tokens.authorization_id: which authorization code a token was issued for

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00

RFC 6749 §4.1.2: when an authorization code is presented a second time, the tokens issued for
it are revoked. A refreshed token keeps the code of the token it replaces. Tokens issued before
this revision name no code (NULL), as do an app's own client_credentials tokens.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authorization_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_oauth_tokens_authorization_id"), ["authorization_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_oauth_tokens_authorization_id_oauth_authorizations"),
            "oauth_authorizations",
            ["authorization_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_oauth_tokens_authorization_id_oauth_authorizations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_oauth_tokens_authorization_id"))
        batch_op.drop_column("authorization_id")
