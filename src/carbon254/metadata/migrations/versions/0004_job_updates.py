"""When each job last changed, so the stream can push job progress by reading only what changed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable: making it NOT NULL on SQLite would copy the jobs table, whose drop would cascade
    # into job_tasks. Rows written before this revision get their latest known time below.
    op.add_column("jobs", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE jobs SET updated_at = COALESCE(finished_at, started_at, created_at)")
    op.create_index("ix_jobs_updated", "jobs", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_updated", table_name="jobs")
    op.drop_column("jobs", "updated_at")
