"""Backfill watermarks: which market days of each (ISO, dataset, market) are complete.

A day is marked only after every payload for it was committed, so a backfill
killed mid-day redoes that day (harmlessly: writes are idempotent) and skips
the days before it. The file is replaced atomically under a lock, so
concurrent backfills of different targets do not lose each other's marks.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

WATERMARK_FILE = Path("ingest") / "watermarks.json"


def _key(iso: str, dataset: str, market: str) -> str:
    return f"{iso}/{dataset}/{market}"


class Watermarks:
    """Completed backfill days of one data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / WATERMARK_FILE
        self._lock_path = self.path.with_suffix(".lock")

    def _read(self) -> dict[str, list[str]]:
        try:
            raw: dict[str, list[str]] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return raw

    def done(self, iso: str, dataset: str, market: str) -> set[date]:
        """Days already complete for this target."""
        return {date.fromisoformat(d) for d in self._read().get(_key(iso, dataset, market), [])}

    def mark(self, iso: str, dataset: str, market: str, days: Iterable[date]) -> None:
        """Record days as complete."""
        new = {d.isoformat() for d in days}
        if new:
            self._update(_key(iso, dataset, market), lambda old: old | new)

    def forget(self, iso: str, dataset: str, market: str, days: Iterable[date]) -> None:
        """Unmark days (e.g. gaps found later) so the next backfill fetches them again."""
        drop = {d.isoformat() for d in days}
        if drop:
            self._update(_key(iso, dataset, market), lambda old: old - drop)

    def _update(self, key: str, change: Callable[[set[str]], set[str]]) -> None:
        """Apply `change` to one target's days: read, change, replace atomically, all under the lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            state = self._read()
            state[key] = sorted(change(set(state.get(key, []))))
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
            os.replace(tmp, self.path)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
