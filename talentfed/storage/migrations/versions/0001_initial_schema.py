"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 11:30:20.834506
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import talentfed.storage.models
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('actor_uri', sa.String(length=2048), nullable=False),
    sa.Column('object_uri', sa.String(length=2048), nullable=True),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
    sa.UniqueConstraint('uri', name=op.f('uq_activities_uri'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_actor_uri'), ['actor_uri'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_object_uri'), ['object_uri'], unique=False)

    op.create_table('actors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('headline', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('summary_source', sa.Text(), nullable=True),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('open_to_collaboration', sa.Boolean(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('icon_url', sa.String(length=2048), nullable=True),
    sa.Column('inbox_url', sa.String(length=2048), nullable=False),
    sa.Column('outbox_url', sa.String(length=2048), nullable=True),
    sa.Column('followers_url', sa.String(length=2048), nullable=True),
    sa.Column('following_url', sa.String(length=2048), nullable=True),
    sa.Column('featured_url', sa.String(length=2048), nullable=True),
    sa.Column('shared_inbox_url', sa.String(length=2048), nullable=True),
    sa.Column('public_key_id', sa.String(length=2048), nullable=True),
    sa.Column('public_key_pem', sa.Text(), nullable=True),
    sa.Column('private_key_pem', sa.Text(), nullable=True),
    sa.Column('manually_approves_followers', sa.Boolean(), nullable=False),
    sa.Column('discoverable', sa.Boolean(), nullable=False),
    sa.Column('indexable', sa.Boolean(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('published', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fetched_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actors')),
    sa.UniqueConstraint('domain', 'username', name=op.f('uq_actors_domain_username')),
    sa.UniqueConstraint('uri', name=op.f('uq_actors_uri'))
    )
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actors_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_actors_public_key_id'), ['public_key_id'], unique=False)

    op.create_table('domain_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_blocks')),
    sa.UniqueConstraint('domain', name=op.f('uq_domain_blocks_domain'))
    )
    op.create_table('instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('signature_scheme', sa.String(length=16), nullable=True),
    sa.Column('software', sa.String(length=255), nullable=True),
    sa.Column('unreachable_since', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instances')),
    sa.UniqueConstraint('host', name=op.f('uq_instances_host'))
    )
    op.create_table('delivery_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('inbox_url', sa.String(length=2048), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_delivery_jobs_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signer_id'], ['actors.id'], name=op.f('fk_delivery_jobs_signer_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_jobs')),
    sa.UniqueConstraint('activity_id', 'inbox_url', name=op.f('uq_delivery_jobs_activity_id_inbox_url'))
    )
    with op.batch_alter_table('delivery_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_jobs_host'), ['host'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_jobs_state_next_attempt_at'), ['state', 'next_attempt_at'], unique=False)

    op.create_table('follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=True),
    sa.Column('follower_id', sa.Integer(), nullable=False),
    sa.Column('followed_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['followed_id'], ['actors.id'], name=op.f('fk_follows_followed_id_actors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follower_id'], ['actors.id'], name=op.f('fk_follows_follower_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follows')),
    sa.UniqueConstraint('follower_id', 'followed_id', name=op.f('uq_follows_follower_id_followed_id')),
    sa.UniqueConstraint('uri', name=op.f('uq_follows_uri'))
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follows_followed_id'), ['followed_id'], unique=False)

    op.create_table('objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('in_reply_to_uri', sa.String(length=2048), nullable=True),
    sa.Column('context_uri', sa.String(length=2048), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('deadline', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_answer_uri', sa.String(length=2048), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('published', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['actors.id'], name=op.f('fk_objects_author_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objects')),
    sa.UniqueConstraint('uri', name=op.f('uq_objects_uri'))
    )
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objects_author_id_published'), ['author_id', 'published'], unique=False)
        batch_op.create_index(batch_op.f('ix_objects_in_reply_to_uri'), ['in_reply_to_uri'], unique=False)
        batch_op.create_index(batch_op.f('ix_objects_kind'), ['kind'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_users_actor_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('actor_id', name=op.f('uq_users_actor_id')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('interactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('target_actor_id', sa.Integer(), nullable=True),
    sa.Column('activity_uri', sa.String(length=2048), nullable=True),
    sa.Column('created_at', talentfed.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_interactions_actor_id_actors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['object_id'], ['objects.id'], name=op.f('fk_interactions_object_id_objects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_actor_id'], ['actors.id'], name=op.f('fk_interactions_target_actor_id_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions')),
    sa.UniqueConstraint('activity_uri', name=op.f('uq_interactions_activity_uri'))
    )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interactions_kind_actor_id'), ['kind', 'actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_target_actor_id'), ['target_actor_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interactions_target_actor_id'))
        batch_op.drop_index(batch_op.f('ix_interactions_object_id'))
        batch_op.drop_index(batch_op.f('ix_interactions_kind_actor_id'))

    op.drop_table('interactions')
    op.drop_table('users')
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objects_kind'))
        batch_op.drop_index(batch_op.f('ix_objects_in_reply_to_uri'))
        batch_op.drop_index(batch_op.f('ix_objects_author_id_published'))

    op.drop_table('objects')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follows_followed_id'))

    op.drop_table('follows')
    with op.batch_alter_table('delivery_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_jobs_state_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_delivery_jobs_host'))

    op.drop_table('delivery_jobs')
    op.drop_table('instances')
    op.drop_table('domain_blocks')
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actors_public_key_id'))
        batch_op.drop_index(batch_op.f('ix_actors_domain'))

    op.drop_table('actors')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_object_uri'))
        batch_op.drop_index(batch_op.f('ix_activities_actor_uri'))

    op.drop_table('activities')
