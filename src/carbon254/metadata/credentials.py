"""The credentials version: how a process learns, at the cost of one tiny read, that keys changed.

Every change to what a credential proves (a key revoked or rotated, a
tenant's entitlements or admin flag changed) increases the single counter in
`credentials_version` in the same transaction. A process that memoizes
verified keys (`keys.KeyVerifier`) reads the counter on each request and
drops its memo when it moved, so a revocation made by any process (the CLI,
another service worker) still takes effect on the very next request.

The read runs on every authenticated request, so it skips SQLAlchemy's
connection checkout and statement machinery: one DBAPI connection in
autocommit mode is kept for it (a few microseconds on SQLite, one round trip
on PostgreSQL). Any failure on it discards it and falls back to a pooled
connection, which raises `SQLAlchemyError` when the database is unreachable.

Code that must react at once to a change made in its own process (the
stream, which ends subscriptions a change took away and tells the other
processes through Redis) registers with `on_credentials_changed`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, text, update
from sqlalchemy.orm import Session

from carbon254.metadata.models import CredentialsVersion

VERSION_ROW_ID = 1
_READ = "SELECT version FROM credentials_version WHERE id = 1"  # id = VERSION_ROW_ID


logger = logging.getLogger("carbon254.metadata")

_listeners: list[Callable[[], None]] = []
_listeners_lock = threading.Lock()


def bump_credentials_version(session: Session) -> None:
    """Increase the credentials version inside `session`'s transaction (call it in every such change).

    Once the transaction commits, every listener registered with
    `on_credentials_changed` in this process is called.
    """
    session.execute(
        update(CredentialsVersion)
        .where(CredentialsVersion.id == VERSION_ROW_ID)
        .values(version=CredentialsVersion.version + 1)
    )
    # After the commit, never before: a listener that reads the version must see the new one.
    event.listen(session, "after_commit", _announce, once=True)


def on_credentials_changed(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener()` after each commit of this process that bumped the credentials version.

    The listener runs in the committing thread, right after the commit, so it
    must return at once (hand the work to an event loop or a queue); an
    exception it raises is logged and swallowed. Changes made by other
    processes are not announced here: they are seen by reading the version.
    Returns the function that unregisters the listener.
    """
    with _listeners_lock:
        _listeners.append(listener)

    def unregister() -> None:
        with _listeners_lock, contextlib.suppress(ValueError):
            _listeners.remove(listener)

    return unregister


def _announce(session: Session) -> None:
    with _listeners_lock:
        listeners = tuple(_listeners)
    for listener in listeners:
        try:
            listener()
        except Exception:
            logger.exception("a credentials-change listener failed")


class CredentialsVersionReader:
    """Reads the credentials version of `engine`'s database on a connection kept for that purpose.

    Thread-safe (one lock around the kept connection); `close()` releases
    the connection, and a later `read()` opens a new one.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._kept: Any = None  # a pool-proxied DBAPI connection, checked out for good

    def read(self) -> int:
        """The current credentials version; raises `SQLAlchemyError` when the database cannot answer."""
        with self._lock:
            try:
                if self._kept is None:
                    self._kept = self._open()
                cursor = self._kept.cursor()
                try:
                    cursor.execute(_READ)
                    row = cursor.fetchone()
                finally:
                    cursor.close()
                return int(row[0])
            except Exception:
                # Whatever broke (server restart, closed socket), the kept connection
                # is suspect: drop it and answer through the pool, which re-raises
                # a real outage as SQLAlchemyError.
                self._discard()
        with self.engine.connect() as connection:
            return int(connection.execute(text(_READ)).scalar_one())

    def close(self) -> None:
        """Release the kept connection."""
        with self._lock:
            self._discard()

    def _open(self) -> Any:
        kept = self.engine.raw_connection()
        # SQLite connections are already in autocommit mode (the engine's connect hook);
        # psycopg's would otherwise hold one transaction open for good.
        if self.engine.dialect.name == "postgresql" and kept.driver_connection is not None:
            kept.driver_connection.autocommit = True
        return kept

    def _discard(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                kept.invalidate()
