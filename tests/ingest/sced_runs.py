"""SCED runs for the run-stamped ingest tests, derived from ERCOT's real NP6-788-CD file.

The real file (`../shared/data/iso/ercot`, never copied) is the SCED run of
2026-06-25 00:40:18 CDT at 80 settlement points. The other runs are that file
with another `SCEDTimestamp` and every LMP raised by a few dollars: a re-run
105 s after it, the next regular run, and one after a missing run.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from carbon254.ingest.ledger import IngestLedger
from carbon254.ingest.native import NativeIngest
from carbon254.ingest.quarantine import Quarantine
from carbon254.store.base import Store
from shared_data import SHARED_DATA

REAL_DIR = SHARED_DATA / "iso" / "ercot"
REAL = REAL_DIR / "cdr.00012300.0000000000000000.20260625.004020.LMPSROSNODENP6788_20260625_004018.csv"
needs_real = pytest.mark.skipif(not REAL.exists(), reason=f"real ERCOT file absent: {REAL}")

NOMINAL = timedelta(minutes=5)
CDT = timedelta(hours=5)  # 2026-06-25 is in daylight time: UTC = CDT + 5 h
DAY_START = datetime(2026, 6, 25, 5, tzinfo=UTC)
DAY_END = datetime(2026, 6, 26, 5, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Run:
    """One SCED run on 2026-06-25: its wall-clock time (CDT) and what it adds to the real file's LMPs."""

    clock: str
    add: float

    @property
    def start(self) -> datetime:
        """The run's time in UTC."""
        return datetime.fromisoformat(f"2026-06-25T{self.clock}+00:00") + CDT

    @property
    def published(self) -> datetime:
        """When ERCOT posted the run, 2 s after it ran (as the real file's name says), UTC."""
        return self.start + timedelta(seconds=2)

    @property
    def name(self) -> str:
        """The file name ERCOT's MIS gives the run: posting time, then the run's time, Central."""
        posted = (self.published - CDT).strftime("%H%M%S")
        ran = self.clock.replace(":", "")
        return f"cdr.00012300.0000000000000000.20260625.{posted}.LMPSROSNODENP6788_20260625_{ran}.csv"

    def data(self) -> bytes:
        """The run's CSV, as ERCOT lays it out (LMP right-aligned)."""
        if self.clock == "00:40:18" and self.add == 0:
            return REAL.read_bytes()
        header, *rows = REAL.read_bytes().decode().splitlines()
        out = [header]
        for row in rows:
            _, flag, point, lmp = row.split(",")
            out.append(f"06/25/2026 {self.clock},{flag},{point},{float(lmp) + self.add:12.2f}")
        return ("\n".join(out) + "\n").encode()


REAL_RUN = Run("00:40:18", 0.0)
RERUN = Run("00:42:03", 1.0)  # SCED re-run 105 s later
NEXT = Run("00:45:14", 2.0)
AFTER_GAP = Run("00:55:12", 3.0)  # the 00:50 run is missing
RUNS = (REAL_RUN, RERUN, NEXT, AFTER_GAP)


def one_csv(runs: Sequence[Run]) -> bytes:
    """Several runs in one CSV, the header once (as a bulk download gives them)."""
    first, *rest = (r.data() for r in runs)
    return first + b"".join(d.split(b"\n", 1)[1] for d in rest)


def ended(runs: Sequence[Run]) -> list[tuple[datetime, datetime]]:
    """Each run's interval when it ends at the next run, at most its nominal 5 minutes after it starts."""
    starts = sorted({r.start for r in runs})
    return [
        (s, min(s + NOMINAL, n)) for s, n in zip(starts, [*starts[1:], starts[-1] + NOMINAL], strict=True)
    ]


def engine(store: Store, root: Path) -> NativeIngest:
    return NativeIngest(store, IngestLedger(root), Quarantine(root))


def intervals(table: pa.Table) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each location's (start, end) intervals, in time order."""
    frame = pl.from_arrow(table.select(["location", "interval_start", "interval_end"]))
    assert isinstance(frame, pl.DataFrame)
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    for location, start, end in frame.sort("location", "interval_start").iter_rows():
        out.setdefault(location, []).append((start, end))
    return out


def assert_tiled(table: pa.Table, expected: list[tuple[datetime, datetime]], locations: int = 80) -> None:
    """Every location holds exactly `expected`, so no two of its intervals overlap."""
    got = intervals(table)
    assert len(got) == locations
    for location, spans in got.items():
        assert spans == expected, location
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), location


def sced(store: Store, as_of: datetime | None = None) -> pa.Table:
    """Every stored SCED row of 2026-06-25 (latest versions, or those known at `as_of`)."""
    return store.read("lmp", "ERCOT", "SCED", None, DAY_START, DAY_END, as_of=as_of)
