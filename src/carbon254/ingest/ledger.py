"""The ingest ledger: one line per payload the ingest job handled, for data quality and audit.

Each entry says which ISO payload was read, what it held (rows, the span of
intervals), what the store did with it (rows written, revisions, duplicates
refused), when the ISO published it and when it was committed, or why it was
quarantined. It is an append-only JSON-lines file under the data directory;
appends take an exclusive `flock` so a backfill and a `--follow` process can
share it, and a reader skips a torn last line left by a killed writer.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from carbon254.markets.report import SkippedRows

LEDGER_FILE = Path("ingest") / "ledger.jsonl"


class PayloadStatus(StrEnum):
    """What became of one payload."""

    WRITTEN = "written"  # parsed and committed (possibly with nothing new in it)
    QUARANTINED = "quarantined"  # failed to parse or validate; kept byte for byte, nothing written


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One payload's outcome.

    `rows` is the number of rows parsed; `duplicates` the rows refused because
    the payload gave the same key twice with the same values; `rows_written`
    the new versions stored, of which `revisions` changed an existing key.
    `first_interval`/`last_interval` are the earliest and latest interval
    starts in the payload (UTC). `published_at` is the ISO's publication time
    where known, `committed_at` when the store committed it (UTC). `skipped`
    lists the categories of rows the parser left out, with their counts
    (e.g. a market run it does not map); they are not in `rows`.
    """

    iso: str
    dataset: str
    market: str | None
    report: str
    payload: str
    url: str | None
    status: PayloadStatus
    rows: int
    duplicates: int
    rows_written: int
    revisions: int
    first_interval: datetime | None
    last_interval: datetime | None
    published_at: datetime | None
    committed_at: datetime
    error: str | None = None
    skipped: tuple[SkippedRows, ...] = ()

    def to_json(self) -> str:
        out = asdict(self)
        for name, value in out.items():
            if isinstance(value, datetime):
                out[name] = value.isoformat()
        return json.dumps(out, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> LedgerEntry:
        raw = json.loads(line)
        for name in ("first_interval", "last_interval", "published_at", "committed_at"):
            if raw.get(name) is not None:
                raw[name] = datetime.fromisoformat(raw[name])
        raw["status"] = PayloadStatus(raw["status"])
        raw["skipped"] = tuple(SkippedRows(s["category"], s["rows"]) for s in raw.get("skipped", ()))
        return cls(**raw)


class IngestLedger:
    """The ledger of one data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / LEDGER_FILE

    def append(self, entries: Sequence[LedgerEntry]) -> None:
        """Append entries durably (one write, fsynced) under an exclusive lock."""
        if not entries:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(e.to_json() + "\n" for e in entries).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, text)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def entries(self, iso: str | None = None, dataset: str | None = None) -> Iterator[LedgerEntry]:
        """Entries in the order written, optionally for one ISO and dataset."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break  # torn last line of a killed writer
                entry = LedgerEntry.from_json(line)
                if (iso is None or entry.iso == iso) and (dataset is None or entry.dataset == dataset):
                    yield entry
