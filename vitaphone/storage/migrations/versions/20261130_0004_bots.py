"""Bots: pending requests, outbox of posted messages, chat moderation settings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import vitaphone.storage.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = vitaphone.storage.base.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mod_log_chat_id", sa.String(length=64), nullable=True))

    op.create_table(
        "bot_requests",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("request", _JSON, nullable=False),
        sa.Column("answers", _JSON, nullable=False),
        sa.Column("where", _JSON, nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("closed_at", _TIME(), nullable=True),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name=op.f("fk_bot_requests_chat_id_chats")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_bot_requests_job_id_jobs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bot_requests_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_requests")),
        sa.UniqueConstraint("job_id", name=op.f("uq_bot_requests_job_id")),
    )
    with op.batch_alter_table("bot_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_requests_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bot_requests_user_id"), ["user_id"], unique=False)

    op.create_table(
        "bot_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("platform_chat_id", sa.String(length=64), nullable=True),
        sa.Column("platform_message_id", sa.String(length=64), nullable=True),
        sa.Column("extra", _JSON, nullable=False),
        sa.Column("claimed_at", _TIME(), nullable=False),
        sa.Column("posted_at", _TIME(), nullable=True),
        sa.Column("delete_requested_at", _TIME(), nullable=True),
        sa.Column("deleted_at", _TIME(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_bot_outbox_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_outbox")),
        sa.UniqueConstraint("job_id", "kind", name=op.f("uq_bot_outbox_job_id_kind")),
    )
    with op.batch_alter_table("bot_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_outbox_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bot_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_outbox_job_id"))
    op.drop_table("bot_outbox")
    with op.batch_alter_table("bot_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_bot_requests_closed_at"))
    op.drop_table("bot_requests")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("mod_log_chat_id")
