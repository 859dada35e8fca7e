"""analytics results

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:37:50.876446
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analytics_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('computed_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actors', sa.Integer(), nullable=False),
    sa.Column('edges', sa.Integer(), nullable=False),
    sa.Column('projects', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_runs'))
    )
    with op.batch_alter_table('analytics_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_runs_computed_at'), ['computed_at'], unique=False)

    op.create_table('actor_scores',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('influence', sa.Float(), nullable=False),
    sa.Column('pagerank', sa.Float(), nullable=False),
    sa.Column('computed_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_actor_scores_actor_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id', name=op.f('pk_actor_scores'))
    )
    with op.batch_alter_table('actor_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actor_scores_influence'), ['influence'], unique=False)

    op.create_table('recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('target_uri', sa.String(length=2048), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('shared', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('computed_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_recommendations_actor_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendations'))
    )
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendations_actor_id_kind_rank'), ['actor_id', 'kind', 'rank'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendations_actor_id_kind_rank'))

    op.drop_table('recommendations')
    with op.batch_alter_table('actor_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actor_scores_influence'))

    op.drop_table('actor_scores')
    with op.batch_alter_table('analytics_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_runs_computed_at'))

    op.drop_table('analytics_runs')
