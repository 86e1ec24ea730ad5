"""Curve marks with their monthly points, saved scenarios and scenario runs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "curve_marks",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("iso", sa.String(16), nullable=False),
        sa.Column("hub", sa.String(200), nullable=False),
        sa.Column("hub_key", sa.String(200), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("owner_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("quoted_through", sa.Date(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("quotes", sa.JSON(), nullable=False),
        sa.Column("implied", sa.JSON(), nullable=False),
        sa.UniqueConstraint("iso", "hub_key", "as_of", "owner_key", "version", name="uq_curve_marks_version"),
    )
    op.create_index("ix_curve_marks_lookup", "curve_marks", ["iso", "hub_key", "as_of"])
    op.create_index("ix_curve_marks_owner_created", "curve_marks", ["owner_key", "created_at"])
    op.create_table(
        "curve_points",
        sa.Column(
            "mark_id",
            AUTO_ID,
            sa.ForeignKey("curve_marks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("block", sa.String(16), primary_key=True),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
    )
    op.create_table(
        "scenarios",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("owner", "name_key", "version", name="uq_scenarios_version"),
    )
    op.create_table(
        "scenario_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("scenario_name", sa.String(100), nullable=True),
        sa.Column("scenario_version", sa.Integer(), nullable=True),
        sa.Column("inline", sa.Text(), nullable=True),
        sa.Column("base_marks", sa.JSON(), nullable=False),
        sa.Column("engine_version", sa.String(50), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("artifact_key", sa.String(500), nullable=True),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_scenario_runs_tenant_created", "scenario_runs", ["tenant", "created_at"])
    op.create_index("ix_scenario_runs_fingerprint", "scenario_runs", ["fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_scenario_runs_fingerprint", table_name="scenario_runs")
    op.drop_index("ix_scenario_runs_tenant_created", table_name="scenario_runs")
    op.drop_table("scenario_runs")
    op.drop_table("scenarios")
    op.drop_table("curve_points")
    op.drop_index("ix_curve_marks_owner_created", table_name="curve_marks")
    op.drop_index("ix_curve_marks_lookup", table_name="curve_marks")
    op.drop_table("curve_marks")
