"""Retention of job artifacts: a tenant's own retention period, and when a job's artifacts were deleted.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Null: the tenant keeps artifacts for the service's CARBON254_JOB_RETENTION_S.
    op.add_column("tenants", sa.Column("job_retention_s", sa.Float(), nullable=True))
    # Null: the job's artifacts (if any) are still kept.
    op.add_column("jobs", sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("expired_at")
    with op.batch_alter_table("tenants") as tenants:
        tenants.drop_column("job_retention_s")
