"""Forecast model registry: model versions per tenant and name, and their stage history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
PRODUCTION_ONLY = sa.text("stage = 'production'")


def upgrade() -> None:
    op.create_table(
        "forecast_models",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("iso", sa.String(16), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("market", sa.String(16), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("train_start", sa.Date(), nullable=False),
        sa.Column("train_end", sa.Date(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("artifact_key", sa.String(500), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("stage_changed_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("owner", "name_key", "version", name="uq_forecast_models_version"),
    )
    op.create_index(
        "ix_forecast_models_serving", "forecast_models", ["owner", "iso", "location", "market", "stage"]
    )
    # One production version per name, enforced by the database on both backends.
    op.create_index(
        "uq_forecast_models_production",
        "forecast_models",
        ["owner", "name_key"],
        unique=True,
        sqlite_where=PRODUCTION_ONLY,
        postgresql_where=PRODUCTION_ONLY,
    )
    op.create_table(
        "forecast_model_stages",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_forecast_model_stages_name", "forecast_model_stages", ["owner", "name_key", "id"])


def downgrade() -> None:
    op.drop_table("forecast_model_stages")
    op.drop_index("uq_forecast_models_production", table_name="forecast_models")
    op.drop_index("ix_forecast_models_serving", table_name="forecast_models")
    op.drop_table("forecast_models")
