"""Hand-built canonical rows and ledger entries for the data-quality tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from carbon254.ingest.ledger import LedgerEntry, PayloadStatus
from carbon254.schema import TIMESTAMP


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def slots(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """Every interval start from `start` (inclusive) to `end` (exclusive) in steps of `step`."""
    out, t = [], start
    while t < end:
        out.append(t)
        t += step
    return out


def lmp_rows(
    locations: Sequence[str],
    starts: Iterable[datetime],
    step: timedelta = timedelta(hours=1),
    *,
    iso: str = "ERCOT",
    market: str = "DAM",
    skip: Iterable[tuple[str, datetime]] = (),
    energy: float = 30.0,
) -> pa.Table:
    """One LMP row per location and start, except the (location, start) pairs in `skip`.

    lmp = energy + 1.0 congestion + 0.25 loss ($/MWh); `interval_end` = start + `step`.
    """
    skipped = set(skip)
    rows = [(loc, s) for loc in locations for s in starts if (loc, s) not in skipped]
    n = len(rows)
    return pa.table(
        {
            "iso": [iso] * n,
            "market": [market] * n,
            "location": [r[0] for r in rows],
            "location_type": ["node"] * n,
            "interval_start": pa.array([r[1] for r in rows], TIMESTAMP),
            "interval_end": pa.array([r[1] + step for r in rows], TIMESTAMP),
            "lmp": [energy + 1.25] * n,
            "energy": [energy] * n,
            "congestion": [1.0] * n,
            "loss": [0.25] * n,
        }
    )


def entry(
    *,
    iso: str = "ERCOT",
    dataset: str = "lmp",
    market: str | None = "DAM",
    first: datetime | None,
    last: datetime | None,
    published: datetime | None = None,
    lag_s: float = 0.0,
    duplicates: int = 0,
    status: PayloadStatus = PayloadStatus.WRITTEN,
    name: str = "payload",
) -> LedgerEntry:
    """A ledger entry committed `lag_s` seconds after `published` (or at 2025-01-01 when unpublished)."""
    committed = published + timedelta(seconds=lag_s) if published is not None else utc(2025, 1, 1)
    return LedgerEntry(
        iso=iso,
        dataset=dataset,
        market=market,
        report="test",
        payload=name,
        url=None,
        status=status,
        rows=10,
        duplicates=duplicates,
        rows_written=0 if status is PayloadStatus.QUARANTINED else 10,
        revisions=0,
        first_interval=first,
        last_interval=last,
        published_at=published,
        committed_at=committed,
        error="bad file" if status is PayloadStatus.QUARANTINED else None,
    )
