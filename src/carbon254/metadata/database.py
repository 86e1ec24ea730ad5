"""`MetadataDatabase`: an engine on SQLite or PostgreSQL, migrated to the latest schema when opened."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from carbon254.metadata.credentials import CredentialsVersionReader

logger = logging.getLogger("carbon254.metadata")

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do: it names the PostgreSQL advisory lock migrations hold,
# so two processes opening one database migrate one after the other.
MIGRATION_LOCK_ID = 254_000_001
# Execution option asking the SQLite `begin` hook for a write lock up front.
SQLITE_BEGIN = "carbon254_sqlite_begin"


def engine_url(url: str) -> URL:
    """`url` as SQLAlchemy should open it: `postgresql://` (and `postgres://`) use the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


class MetadataDatabase:
    """The metadata database at `url` (`sqlite:///path` or `postgresql://user@host/db`).

    Opening it runs the migrations up to the latest schema (idempotent, and
    safe when several processes open one database at once). SQLite runs in
    WAL mode with a busy timeout of `busy_timeout_s` seconds, so the service,
    the CLI and the audit writer can use one file concurrently.
    """

    def __init__(self, url: str, *, busy_timeout_s: float = 10.0, migrate: bool = True) -> None:
        self.url = engine_url(url)
        self.backend = self.url.get_backend_name()
        self.engine = _create_engine(self.url, busy_timeout_s)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite: a transaction that reads and then writes must hold the write lock
        # from its start; upgrading a read lock fails at once ("database is locked")
        # when another connection committed in between, without waiting.
        writer = self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        self._write_sessions = sessionmaker(writer, expire_on_commit=False)
        self.credentials = CredentialsVersionReader(self.engine)
        if migrate:
            self.migrate()

    def __repr__(self) -> str:
        return f"MetadataDatabase({self.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session committed when the block ends normally and rolled back when it raises.

        Pass `write=True` for a transaction that changes anything: on SQLite it
        takes the write lock up front (waiting up to the busy timeout), so it
        cannot fail half-way on a lock conflict; reads stay concurrent.
        """
        factory = self._write_sessions if write else self._sessions
        with factory() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Upgrade the schema to the latest migration (`alembic upgrade head`), under a database lock.

        The lock (a PostgreSQL advisory lock; SQLite's write lock, taken by
        `BEGIN IMMEDIATE`) is held for the whole upgrade, and the upgrade runs
        in that one transaction, so a second process waits and then finds
        nothing left to do; a failed migration leaves the schema as it was.
        """
        with self.engine.connect() as connection:
            if self.backend == "sqlite":
                connection = connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with connection.begin():
                if self.backend == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_ID)))
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")

    def ping(self) -> bool:
        """Whether the database answers a trivial query now (for readiness checks); never raises."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            logger.warning("metadata database %r is unreachable", self, exc_info=True)
            return False
        return True

    def close(self) -> None:
        """Close the pooled connections. The object stays usable: a later call opens new ones."""
        self.credentials.close()
        self.engine.dispose()


def _create_engine(url: URL, busy_timeout_s: float) -> Engine:
    if url.get_backend_name() != "sqlite":
        # pre_ping: a pooled connection the server closed (restart, idle
        # timeout) is replaced instead of failing the request that drew it.
        return create_engine(url, pool_pre_ping=True)
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # The service shares the pool between its worker threads and the audit writer.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s})
    # Send a many-row insert (a batch of audit events) as multi-row INSERT ... VALUES
    # statements, as SQLAlchemy does for PostgreSQL. An executemany would make
    # the sqlite3 driver release and retake the GIL around every row, and each
    # retake waits for the busy event loop to yield (up to the 5 ms switch
    # interval): that capped the service's audit writer at a few hundred events/s.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    timeout_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Take transaction control from the sqlite3 module (which would not
        # begin a transaction before DDL) and give it to the `begin` hook.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash of the machine
        # (not of the process) may lose the last audit events, and no request waits on an fsync.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
