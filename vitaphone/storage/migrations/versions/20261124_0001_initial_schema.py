"""Initial schema: users, chats, consent records, jobs and transitions, provenance, moderation.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 03:36:29.171102
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import vitaphone.storage.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)

    op.create_table('chats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('platform_chat_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('created_at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.Column('review_required', sa.Boolean(), nullable=False),
    sa.Column('allowed_consent_bases', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('user_jobs_per_hour', sa.Integer(), nullable=True),
    sa.Column('chat_jobs_per_hour', sa.Integer(), nullable=True),
    sa.CheckConstraint('chat_jobs_per_hour IS NULL OR chat_jobs_per_hour > 0', name=op.f('ck_chats_chat_rate')),
    sa.CheckConstraint('user_jobs_per_hour IS NULL OR user_jobs_per_hour > 0', name=op.f('ck_chats_user_rate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chats')),
    sa.UniqueConstraint('platform', 'platform_chat_id', name=op.f('uq_chats_platform_platform_chat_id'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('platform_user_id', sa.String(length=64), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('first_seen', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.Column('banned', sa.Boolean(), nullable=False),
    sa.Column('ban_reason', sa.Text(), nullable=True),
    sa.Column('forgotten_at', vitaphone.storage.base.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('platform', 'platform_user_id', name=op.f('uq_users_platform_platform_user_id'))
    )
    op.create_table('bans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.Column('lifted_at', vitaphone.storage.base.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_bans_chat_id_chats')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bans_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bans'))
    )
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bans_user_id'), ['user_id'], unique=False)

    op.create_table('consent_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('created_at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.Column('basis', sa.Enum('self', 'permission', 'public_domain_historical', name='consent_basis', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('statement_version', sa.String(length=32), nullable=False),
    sa.Column('statement_text_sha256', sa.String(length=64), nullable=False),
    sa.Column('portrait_sha256', sa.String(length=64), nullable=False),
    sa.Column('voice_sample_sha256', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', vitaphone.storage.base.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_consent_records_chat_id_chats')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consent_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_records_portrait_sha256'), ['portrait_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_records_user_id'), ['user_id'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.Integer(), nullable=True),
    sa.Column('consent_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('received', 'awaiting_consent', 'awaiting_review', 'queued', 'running', 'done', 'failed', 'cancelled', 'rejected', name='job_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=True),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('quote_text', sa.Text(), nullable=True),
    sa.Column('portrait_sha256', sa.String(length=64), nullable=True),
    sa.Column('voice_sample_sha256', sa.String(length=64), nullable=True),
    sa.Column('audio_sha256', sa.String(length=64), nullable=True),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reply_to', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('output_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.Column('started_at', vitaphone.storage.base.UtcDateTime(), nullable=True),
    sa.Column('finished_at', vitaphone.storage.base.UtcDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_jobs_attempts_nonnegative')),
    sa.CheckConstraint('progress >= 0 AND progress <= 1', name=op.f('ck_jobs_progress_range')),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_jobs_chat_id_chats')),
    sa.ForeignKeyConstraint(['consent_id'], ['consent_records.id'], name=op.f('fk_jobs_consent_id_consent_records')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_chat_id'), ['chat_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_user_id'), ['user_id', 'created_at'], unique=False)

    op.create_table('job_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.Enum('received', 'awaiting_consent', 'awaiting_review', 'queued', 'running', 'done', 'failed', 'cancelled', 'rejected', name='from_state', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_state', sa.Enum('received', 'awaiting_consent', 'awaiting_review', 'queued', 'running', 'done', 'failed', 'cancelled', 'rejected', name='to_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=True),
    sa.Column('progress', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_transitions_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_transitions'))
    )
    with op.batch_alter_table('job_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_transitions_job_id'), ['job_id'], unique=False)

    op.create_table('provenance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=32), nullable=True),
    sa.Column('consent_id', sa.Integer(), nullable=True),
    sa.Column('portrait_sha256', sa.String(length=64), nullable=True),
    sa.Column('voice_sample_sha256', sa.String(length=64), nullable=True),
    sa.Column('audio_sha256', sa.String(length=64), nullable=True),
    sa.Column('output_sha256', sa.String(length=64), nullable=False),
    sa.Column('quote_text', sa.Text(), nullable=True),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('engines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('watermark_payload_hex', sa.String(length=16), nullable=False),
    sa.Column('c2pa_manifest_id', sa.String(length=200), nullable=True),
    sa.Column('posted_to', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('taken_down', sa.Boolean(), nullable=False),
    sa.Column('takedown_reason', sa.Text(), nullable=True),
    sa.Column('taken_down_at', vitaphone.storage.base.UtcDateTime(), nullable=True),
    sa.Column('created_at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consent_records.id'], name=op.f('fk_provenance_consent_id_consent_records')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_provenance_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provenance')),
    sa.UniqueConstraint('c2pa_manifest_id', name=op.f('uq_provenance_c2pa_manifest_id')),
    sa.UniqueConstraint('job_id', name=op.f('uq_provenance_job_id')),
    sa.UniqueConstraint('watermark_payload_hex', name=op.f('uq_provenance_watermark_payload_hex'))
    )
    with op.batch_alter_table('provenance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provenance_output_sha256'), ['output_sha256'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('provenance_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', vitaphone.storage.base.UtcDateTime(), nullable=False),
    sa.Column('resolved_at', vitaphone.storage.base.UtcDateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_reports_job_id_jobs')),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id'], name=op.f('fk_reports_provenance_id_provenance')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_provenance_id'), ['provenance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_provenance_id'))

    op.drop_table('reports')
    with op.batch_alter_table('provenance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provenance_output_sha256'))

    op.drop_table('provenance')
    with op.batch_alter_table('job_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_transitions_job_id'))

    op.drop_table('job_transitions')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_user_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_chat_id'))

    op.drop_table('jobs')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_records_user_id'))
        batch_op.drop_index(batch_op.f('ix_consent_records_portrait_sha256'))

    op.drop_table('consent_records')
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bans_user_id'))

    op.drop_table('bans')
    op.drop_table('users')
    op.drop_table('chats')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
