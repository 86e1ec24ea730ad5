"""Every injected fault, against every ISO's real connector and replay site.

For each ISO one market day is downloaded through `backfill` while the
replay server breaks the request for its data file in one way. Faults a
retry can cure (500s, 429 with Retry-After, a connection cut mid-body, a
timeout) must end with exactly the rows of an undisturbed run. Faults that
deliver a bad answer (a body cut short, a malformed CSV row, an empty body)
must end either in a clear quarantined or failed day, with nothing from the
bad payload in the store (and a rerun once the ISO is healthy completes
the day), or, where the connector has another source for the same data
(NYISO's daily file beside its monthly archive), in exactly the undisturbed
rows. Never in a "complete" day missing rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from carbon254.config import Settings
from carbon254.ingest.backfill import DayOutcome, backfill
from carbon254.ingest.ledger import IngestLedger
from carbon254.ingest.native import NativeIngest
from carbon254.ingest.quarantine import Quarantine
from carbon254.ingest.watermark import Watermarks
from carbon254.isos import Iso
from carbon254.isos.pjm.settings import PjmSettings
from carbon254.markets.connector import Connector
from carbon254.markets.registry import connector_for, target_for
from carbon254.markets.transport import IsoClient, RetryPolicy, TransportConfig
from carbon254.replay import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset
from carbon254.store import open_store
from shared_data import SHARED_DATA

FIXTURES = Path(__file__).parent / "fixtures"
REAL = SHARED_DATA / "iso"
FALL = date(2024, 11, 3)


@dataclass(frozen=True)
class Drill:
    """One ISO's day to download and the request path (regex) of its data file."""

    iso: Iso
    market: str
    day: date
    data_path: str

    def connector(self) -> Connector:
        # PJM needs a subscription key; the replay site checks for one.
        return connector_for(self.iso, Settings(pjm=PjmSettings(api_key="drill-key")))


DRILLS = [
    Drill(Iso.CAISO, "DAM", FALL, "SingleZip"),
    Drill(Iso.ERCOT, "DAM", FALL, "mirDownload"),
    Drill(Iso.PJM, "DAM", FALL, "da_hrl_lmps"),
    Drill(Iso.MISO, "DAM", FALL, "da_expost_lmp"),
    Drill(Iso.SPP, "DAM", FALL, "DA-LMP-SL"),
    Drill(Iso.NYISO, "RT5", date(2022, 11, 6), "realtime_zone"),
    Drill(Iso.ISONE, "DAM", FALL, "WW_DALMP"),
]
RETRIED = [FaultKind.ERROR_500, FaultKind.RATE_LIMIT, FaultKind.TRUNCATED, FaultKind.TIMEOUT]
REFUSED = [FaultKind.SHORT_BODY, FaultKind.MALFORMED_CSV, FaultKind.EMPTY]


@pytest.fixture(params=DRILLS, ids=lambda d: d.iso.value)
def drill(request: pytest.FixtureRequest) -> Drill:
    d: Drill = request.param
    if d.iso is Iso.NYISO and not (REAL / "nyiso").is_dir():
        pytest.skip(f"real NYISO files not found at {REAL / 'nyiso'}")
    return d


@pytest.fixture
def server(drill: Drill) -> Iterator[ReplayServer]:
    roots = [p for p in (FIXTURES / drill.iso.value.lower(), REAL / drill.iso.value.lower()) if p.is_dir()]
    with ReplayServer(routes_for(drill.iso, roots)) as s:
        yield s


def download(drill: Drill, server: ReplayServer, data_dir: Path) -> tuple[DayOutcome, pa.Table]:
    """Backfill the drill's day into `data_dir`; the day's outcome and the LMP rows stored."""
    connector = drill.connector()
    target = target_for(drill.iso, Dataset.LMP, drill.market)
    config = TransportConfig(base_url=server.url, timeout_s=0.5, retry=RetryPolicy(attempts=3, base_s=0.01))
    store = open_store(data_dir)
    try:
        ingest = NativeIngest(store, IngestLedger(data_dir), Quarantine(data_dir))
        with IsoClient(drill.iso, config, auth=getattr(connector, "auth", None)) as client:
            report = backfill(
                connector, client, target, [drill.day], ingest, Watermarks(data_dir), force=True
            )
        start = datetime.combine(drill.day, datetime.min.time(), UTC) - timedelta(days=1)
        rows = store.read("lmp", drill.iso.value, drill.market, None, start, start + timedelta(days=3))
    finally:
        store.close()
    return report.days[0], rows.drop_columns(["ingested_at", "published_at"])


@pytest.mark.parametrize("kind", RETRIED)
def test_faults_a_retry_cures_end_with_the_undisturbed_rows(
    drill: Drill, server: ReplayServer, kind: FaultKind, tmp_path: Path
) -> None:
    clean_day, clean = download(drill, server, tmp_path / "clean")
    assert clean_day.complete and clean.num_rows > 0
    server.inject(Fault(kind, drill.data_path, times=2 if kind is FaultKind.ERROR_500 else 1, retry_after_s=0,
                        delay_s=1.0))  # fmt: skip
    day, rows = download(drill, server, tmp_path / "faulted")
    assert day.complete, day.error or [p.error for p in day.payloads]
    assert rows.equals(clean)


@pytest.mark.parametrize("kind", REFUSED)
def test_bad_answers_are_quarantined_or_failed_and_leave_the_store_without_them(
    drill: Drill, server: ReplayServer, kind: FaultKind, tmp_path: Path
) -> None:
    _, clean = download(drill, server, tmp_path / "clean")
    server.inject(Fault(kind, drill.data_path, times=1))
    data_dir = tmp_path / "faulted"
    day, rows = download(drill, server, data_dir)
    if day.complete:  # cured by another source: then nothing may be missing
        assert rows.equals(clean), f"{kind} gave a complete day with {rows.num_rows} of {clean.num_rows} rows"
        return
    refused = [p for p in day.payloads if not p.ok]
    assert day.error or refused, "a bad answer must be reported"
    for p in refused:  # kept byte for byte, with the reason beside it
        assert p.quarantined is not None and p.quarantined.path.exists() and p.error
    # Nothing from the bad payload reached the store: whatever is stored is part of the clean result.
    assert rows.num_rows < clean.num_rows
    assert rows.join(clean, keys=["location", "interval_start"], join_type="left anti").num_rows == 0
    healed, after = download(drill, server, data_dir)
    assert healed.complete and after.equals(clean)
