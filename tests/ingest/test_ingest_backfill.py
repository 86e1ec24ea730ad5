"""Backfill over a real local HTTP server: fills days, resumes from its watermark, isolates failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from ingest_feed import PriceConnector, PriceSite, day_csv

from carbon254.ingest.backfill import DayOutcome, backfill, market_days, settled
from carbon254.ingest.follow import FollowTarget, follow, live_days
from carbon254.ingest.ledger import IngestLedger
from carbon254.ingest.native import NativeIngest
from carbon254.ingest.quarantine import Quarantine
from carbon254.ingest.watermark import Watermarks
from carbon254.isos import Iso
from carbon254.markets.transport import IsoClient, RetryPolicy, TransportConfig
from carbon254.replay import Fault, FaultKind, ReplayServer
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore

FIRST = date(2024, 3, 1)
DAYS = market_days(FIRST, FIRST + timedelta(days=5))
LATER = lambda: datetime(2030, 1, 1, tzinfo=UTC)  # noqa: E731 - every test day is long settled


@pytest.fixture
def site() -> PriceSite:
    return PriceSite({f"{d:%Y%m%d}.csv": day_csv(d, {"HB_NORTH": 30.0, "HB_WEST": 20.0}) for d in DAYS})


@pytest.fixture
def server(site: PriceSite) -> Iterator[ReplayServer]:
    with ReplayServer(site.routes()) as s:
        yield s


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    s = open_store(tmp_path)
    yield s
    s.close()


def run(server: ReplayServer, store: ParquetStore, days: list[date] = DAYS, **kw: object) -> list[DayOutcome]:
    connector = PriceConnector()
    cfg = TransportConfig(base_url=server.url, retry=RetryPolicy(attempts=3, base_s=0.01))
    ingest = NativeIngest(store, IngestLedger(store.root), Quarantine(store.root))
    with IsoClient(Iso.ERCOT, cfg) as client:
        report = backfill(
            connector, client, connector.targets[0], days, ingest, Watermarks(store.root), now=LATER, **kw
        )  # type: ignore[arg-type]
    return report.days


def stored_rows(store: ParquetStore) -> int:
    start = datetime.combine(FIRST, datetime.min.time(), UTC)
    return store.read("lmp", "ERCOT", "DAM", None, start, start + timedelta(days=10)).num_rows


def test_backfill_fills_the_store_and_a_second_run_fetches_nothing(
    server: ReplayServer, store: ParquetStore
) -> None:
    first = run(server, store)
    assert [d.complete for d in first] == [True] * 5
    assert stored_rows(store) == 5 * 48
    asked = len(server.requests)
    second = run(server, store)
    assert all(d.skipped for d in second)
    assert len(server.requests) == asked
    assert stored_rows(store) == 5 * 48


def test_an_interrupted_backfill_resumes_at_the_day_it_was_on(
    server: ReplayServer, store: ParquetStore
) -> None:
    def stop_after_two(outcome: DayOutcome) -> None:
        if outcome.day == DAYS[1]:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(server, store, on_day=stop_after_two)
    assert Watermarks(store.root).done("ERCOT", "lmp", "DAM") == set(DAYS[:2])
    server.requests.clear()
    resumed = run(server, store)
    assert [d.skipped for d in resumed] == [True, True, False, False, False]
    assert [r.path for r in server.requests] == [f"/prices/{d:%Y%m%d}.csv" for d in DAYS[2:]]
    assert stored_rows(store) == 5 * 48


def test_a_failed_day_is_reported_left_unmarked_and_the_rest_goes_on(
    server: ReplayServer, store: ParquetStore
) -> None:
    server.inject(Fault(FaultKind.ERROR_500, f"{DAYS[2]:%Y%m%d}", times=3))  # one run's attempts
    days = run(server, store)
    assert [d.error is not None for d in days] == [False, False, True, False, False]
    assert "HTTP 500" in (days[2].error or "")
    assert DAYS[2] not in Watermarks(store.root).done("ERCOT", "lmp", "DAM")
    assert stored_rows(store) == 4 * 48
    again = run(server, store)  # the ISO recovered: only the failed day is fetched
    assert [d.skipped for d in again] == [True, True, False, True, True]
    assert stored_rows(store) == 5 * 48


@pytest.mark.parametrize("kind", [FaultKind.MALFORMED_CSV, FaultKind.EMPTY, FaultKind.SHORT_BODY])
def test_a_bad_payload_is_quarantined_and_the_store_keeps_only_good_days(
    server: ReplayServer, store: ParquetStore, kind: FaultKind
) -> None:
    server.inject(Fault(kind, f"{DAYS[1]:%Y%m%d}"))
    days = run(server, store)
    bad = days[1].payloads[0]
    assert not bad.ok and bad.quarantined is not None
    assert stored_rows(store) == 4 * 48
    assert DAYS[1] not in Watermarks(store.root).done("ERCOT", "lmp", "DAM")
    assert len(Quarantine(store.root).list("ERCOT")) == 1
    # The ledger places the quarantined payload on its market day (Central time) for data quality.
    refused = [e for e in IngestLedger(store.root).entries() if e.error]
    assert refused[0].first_interval == datetime(2024, 3, 2, 6, tzinfo=UTC)
    assert refused[0].last_interval == datetime(2024, 3, 3, 5, tzinfo=UTC)


def test_transient_faults_end_in_success(server: ReplayServer, store: ParquetStore) -> None:
    server.inject(Fault(FaultKind.ERROR_500, f"{DAYS[0]:%Y%m%d}", times=2))
    server.inject(Fault(FaultKind.RATE_LIMIT, f"{DAYS[1]:%Y%m%d}", retry_after_s=0))
    server.inject(Fault(FaultKind.TRUNCATED, f"{DAYS[2]:%Y%m%d}"))
    days = run(server, store)
    assert all(d.complete for d in days)
    assert stored_rows(store) == 5 * 48


def test_nothing_published_is_not_an_error_and_recent_days_stay_unmarked(
    server: ReplayServer, store: ParquetStore
) -> None:
    missing = DAYS[-1] + timedelta(days=1)
    days = run(server, store, days=[missing])
    assert days[0].complete and days[0].payloads == ()
    assert not settled(Iso.ERCOT, date(2029, 12, 31), LATER())
    assert settled(Iso.ERCOT, date(2029, 12, 28), LATER())


def test_force_refetches_done_days_and_picks_up_a_correction(
    server: ReplayServer, store: ParquetStore, site: PriceSite
) -> None:
    run(server, store)
    site.files[f"{DAYS[0]:%Y%m%d}.csv"] = day_csv(DAYS[0], {"HB_NORTH": 31.0, "HB_WEST": 20.0})
    days = run(server, store, force=True)
    assert sum(p.entry.revisions for d in days for p in d.payloads) == 24


def test_follow_polls_live_days_and_writes_new_intervals(
    server: ReplayServer, store: ParquetStore, site: PriceSite
) -> None:
    today = date(2024, 3, 3)
    now = datetime(2024, 3, 3, 18, tzinfo=UTC)
    site.files[f"{today:%Y%m%d}.csv"] = day_csv(today, {"HB_NORTH": 30.0}, hours=12)
    connector = PriceConnector()
    cfg = TransportConfig(base_url=server.url, retry=RetryPolicy(attempts=2, base_s=0.01))
    ingest = NativeIngest(store, IngestLedger(store.root), Quarantine(store.root))
    waits: list[float] = []
    seen: list[int] = []

    def grow(seconds: float) -> None:
        waits.append(seconds)
        site.files[f"{today:%Y%m%d}.csv"] = day_csv(today, {"HB_NORTH": 30.0}, hours=18)

    with IsoClient(Iso.ERCOT, cfg) as client:
        target = FollowTarget(connector, client, connector.targets[0])
        assert live_days(target, now) == [today - timedelta(days=1), today, today + timedelta(days=1)]
        follow(
            [target],
            ingest,
            polls=2,
            interval=timedelta(minutes=5),
            now=lambda: now + timedelta(seconds=300 * len(waits)),
            sleep=grow,
            on_poll=lambda t, o: seen.append(sum(p.entry.rows_written for p in o.payloads)),
        )
    assert waits == [300.0]
    # poll 1: yesterday, 12 hours of today, and tomorrow's day-ahead; poll 2: only the 6 new hours
    assert seen == [48, 12, 48, 0, 6, 0]
