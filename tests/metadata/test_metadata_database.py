"""The metadata database: URLs, migrations (idempotent, concurrent), ping and close."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from carbon254.metadata import MetadataDatabase
from carbon254.metadata.database import engine_url
from carbon254.metadata.models import Base

TABLES = {
    "tenants",
    "api_keys",
    "credentials_version",
    "audit_events",
    "jobs",
    "job_tasks",
    "curve_marks",
    "curve_points",
    "scenarios",
    "scenario_runs",
    "forecast_models",
    "forecast_model_stages",
    "alembic_version",
}
HEAD = "0008"


def _version(db: MetadataDatabase) -> list[str]:
    with db.engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]


def test_postgres_urls_use_psycopg_3() -> None:
    assert engine_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert engine_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert engine_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert engine_url("sqlite:///x.db").drivername == "sqlite"


def test_opening_migrates_to_head(fresh_url: str) -> None:
    db = MetadataDatabase(fresh_url)
    try:
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        assert _version(db) == [HEAD]
    finally:
        db.close()


def test_migrations_create_exactly_the_model_tables(fresh_url: str) -> None:
    db = MetadataDatabase(fresh_url)
    try:
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        db.close()


def test_migrations_are_idempotent(fresh_url: str) -> None:
    first = MetadataDatabase(fresh_url)
    with first.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (name, admin, created_at) VALUES ('kept', false, CURRENT_TIMESTAMP)")
        )
    first.migrate()
    first.migrate()
    second = MetadataDatabase(fresh_url)
    try:
        assert _version(second) == [HEAD]
        with second.engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM tenants")).scalars().all() == ["kept"]
    finally:
        first.close()
        second.close()


def test_two_processes_migrating_at_once_do_not_collide(fresh_url: str) -> None:
    code = (
        "import sys; from carbon254.metadata import MetadataDatabase; MetadataDatabase(sys.argv[1]).close()"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code, fresh_url], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    db = MetadataDatabase(fresh_url)
    try:
        assert _version(db) == [HEAD]
        assert set(inspect(db.engine).get_table_names()) >= TABLES
    finally:
        db.close()


def test_ping_and_close_reopen(db: MetadataDatabase) -> None:
    assert db.ping()
    db.close()
    # Closing releases the pool; the next use opens new connections.
    assert db.ping()


def test_ping_reports_an_unreachable_database() -> None:
    unreachable = MetadataDatabase("postgresql://postgres@127.0.0.1:1/test", migrate=False)
    assert unreachable.ping() is False
    unreachable.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = MetadataDatabase(f"sqlite:///{tmp_path}/sub/dir/metadata.db")
    try:
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        db.close()
