"""Intake and retention: what the trust work needs to bound inputs and delete them on time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vitaphone.storage.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # When `vitaphone gc` deleted a finished job's inputs / a video's output blob.
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inputs_deleted_at", vitaphone.storage.base.UtcDateTime(),
                                      nullable=True))
    with op.batch_alter_table("provenance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("output_deleted_at", vitaphone.storage.base.UtcDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provenance", schema=None) as batch_op:
        batch_op.drop_column("output_deleted_at")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("inputs_deleted_at")
