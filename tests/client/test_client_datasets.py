"""Every SDK method against a real `carbon254 serve`: both clients, every frame type, the REST rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from live_service import LiveService
from pandas.testing import assert_frame_equal

from carbon254.client import AsyncClient, Client, NotEntitled, NotFound, QualityReport, SpreadStats

LMP = {"iso": "PJM", "market": "DAM", "locations": ["WESTERN HUB", "AEP-DAYTON HUB"]}
WINDOW = {"start": "2024-01-01", "end": "2024-01-15"}
METHODS: dict[str, dict[str, Any]] = {
    "lmp": {**LMP, **WINDOW},
    "as_prices": {"iso": "ERCOT", "market": "DAM", **WINDOW},
    "capacity_prices": {"iso": "PJM", "start": "2023-01-01", "end": "2026-01-01"},
    "ordc": WINDOW,
    "load": {"iso": "ERCOT", **WINDOW},
    "locations": {"iso": "ERCOT"},
}
NAME_COLUMNS = {"iso", "market", "location", "region", "product", "auction", "zone", "kind", "location_type"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with LiveService.seeded(tmp_path_factory.mktemp("sdk-data")) as live:
        yield live


@pytest.fixture(scope="module")
def client(service: LiveService) -> Iterator[Client]:
    with Client(base_url=service.base_url, api_key=service.keys.full) as made:
        yield made


def rest_rows(service: LiveService, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every row of a JSON answer, following `next_cursor`."""
    rows: list[dict[str, Any]] = []
    cursor = None
    with httpx.Client(base_url=service.base_url, headers={"X-API-Key": service.keys.full}) as http:
        while True:
            page = http.get(path, params={**params, **({"cursor": cursor} if cursor else {})}).json()
            rows += page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                return rows


def test_lmp_returns_the_rows_of_the_rest_endpoint(client: Client, service: LiveService) -> None:
    frame = client.lmp(**LMP, **WINDOW, tz="iso")
    rest = rest_rows(
        service,
        "/v1/lmp",
        {"iso": "PJM", "market": "DAM", "locations": "WESTERN HUB,AEP-DAYTON HUB", **WINDOW, "tz": "iso"},
    )
    assert list(frame.columns) == list(rest[0])
    assert len(frame) == len(rest) == 2 * 14 * 24
    assert str(frame["interval_start"].dt.tz) == "America/New_York"
    assert [t.isoformat() for t in frame["interval_start"]] == [r["interval_start"] for r in rest]
    assert frame["location"].astype(str).tolist() == [r["location"] for r in rest]
    for column in ("lmp", "energy", "congestion", "loss"):
        assert frame[column].tolist() == pytest.approx([r[column] for r in rest])
    assert all(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in ("iso", "market", "location"))


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_every_method_in_every_frame_type(client: Client, method: str, kind: str) -> None:
    result = getattr(client, method)(**METHODS[method], frame=kind)
    expected_type = {"pandas": pd.DataFrame, "polars": pl.DataFrame, "arrow": pa.Table}[kind]
    assert isinstance(result, expected_type)
    table = (
        result if kind == "arrow" else pa.Table.from_pandas(result) if kind == "pandas" else result.to_arrow()
    )
    assert table.num_rows > 0
    for field in table.schema:
        if pa.types.is_timestamp(field.type):
            assert field.type.tz is not None, f"{method}.{field.name} is not zone-aware"
    if kind != "arrow":
        names = [c for c in table.column_names if c in NAME_COLUMNS]
        assert names and all(pa.types.is_dictionary(table.schema.field(c).type) for c in names)


def test_the_same_answers_from_both_clients(client: Client, service: LiveService) -> None:
    async def fetch_all() -> dict[str, Any]:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as aclient:
            answers = {m: await getattr(aclient, m)(**kw, frame="arrow") for m, kw in METHODS.items()}
            answers["quality"] = await aclient.quality(iso="PJM", start="2024-01-01", end="2024-01-03")
            answers["pandas"] = await aclient.lmp(**LMP, **WINDOW)
            answers["polars"] = await aclient.lmp(**LMP, **WINDOW, frame="polars")
            return answers

    answers = asyncio.run(fetch_all())
    for method, kwargs in METHODS.items():
        assert answers[method].equals(getattr(client, method)(**kwargs, frame="arrow")), method
    assert_frame_equal(answers["pandas"], client.lmp(**LMP, **WINDOW))
    assert answers["polars"].equals(client.lmp(**LMP, **WINDOW, frame="polars"))
    assert answers["quality"] == client.quality(iso="PJM", start="2024-01-01", end="2024-01-03")


def test_quality_is_a_typed_report(client: Client) -> None:
    report = client.quality(iso="PJM", start="2024-01-01", end="2024-01-03")
    assert isinstance(report, QualityReport)
    assert report.query.iso == "PJM" and report.query.first_day == date(2024, 1, 1)
    assert report.days and all(day.iso == "PJM" for day in report.days)
    assert {s.market for s in report.summary} >= {"DAM"}


def test_long_windows_are_fetched_in_concurrent_pieces_and_stitched(service: LiveService) -> None:
    seen: list[tuple[int, int]] = []
    kwargs = {**LMP, "start": date(2024, 1, 1), "end": date(2024, 3, 1), "tz": "iso"}
    with Client(base_url=service.base_url, api_key=service.keys.full, chunk_days=7) as chunked:
        pieces = chunked.lmp(**kwargs, frame="arrow", progress=lambda done, total: seen.append((done, total)))
    with Client(base_url=service.base_url, api_key=service.keys.full, chunk_days=366) as whole:
        assert pieces.equals(whole.lmp(**kwargs, frame="arrow"))
    assert seen[-1] == (9, 9) and len(seen) == 9  # 60 days in 7-day pieces
    # The data ends at 2024-03-01 00:00 UTC, five hours before the window's end in New York.
    assert pieces.num_rows == 2 * (60 * 24 - 5)


def test_aware_datetimes_and_naive_ones_are_read_as_the_service_reads_them(client: Client) -> None:
    aware = client.lmp(
        **LMP, start=datetime(2024, 1, 2, tzinfo=UTC), end=datetime(2024, 1, 3, tzinfo=UTC), frame="arrow"
    )
    text = client.lmp(**LMP, start="2024-01-02T00:00Z", end="2024-01-03T00:00Z", frame="arrow")
    assert aware.equals(text) and aware.num_rows == 48


def test_local_mode_answers_like_the_service(client: Client, service: LiveService) -> None:
    with Client.local(service.data_dir) as local:
        for method, kwargs in METHODS.items():
            assert local.lmp(**LMP, **WINDOW, frame="arrow").equals(
                client.lmp(**LMP, **WINDOW, frame="arrow")
            )
            assert getattr(local, method)(**kwargs, frame="arrow").equals(
                getattr(client, method)(**kwargs, frame="arrow")
            ), method

    async def local_async() -> pa.Table:
        async with AsyncClient.local(service.data_dir) as aclient:
            table: pa.Table = await aclient.lmp(**LMP, **WINDOW, frame="arrow")
            return table

    assert asyncio.run(local_async()).equals(client.lmp(**LMP, **WINDOW, frame="arrow"))


def test_local_mode_needs_a_store(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no store"):
        Client.local(tmp_path / "missing")


SPREAD = {"iso": "PJM", "market": "DAM", "location": "WESTERN HUB", "minus": "AEP-DAYTON HUB", **WINDOW}


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_spreads_returns_the_rows_of_the_rest_endpoint(
    client: Client, service: LiveService, kind: str
) -> None:
    result = client.spreads(**SPREAD, tz="iso", frame=kind)
    table = (
        result if kind == "arrow" else pa.Table.from_pandas(result) if kind == "pandas" else result.to_arrow()
    )
    rest = rest_rows(service, "/v1/spreads", {**SPREAD, "tz": "iso"})
    assert table.num_rows == len(rest) == 14 * 24
    assert table.column("spread").to_pylist() == [r["spread"] for r in rest]
    assert table.schema.field("interval_start").type.tz == "America/New_York"
    # Basis is node minus hub, interval by interval.
    hubs = ["WESTERN HUB", "AEP-DAYTON HUB"]
    lmp = client.lmp(iso="PJM", market="DAM", locations=hubs, **WINDOW, tz="iso", frame="pandas")
    wide = lmp.astype({"location": str}).pivot(index="interval_start", columns="location", values="lmp")
    expected = (wide["WESTERN HUB"] - wide["AEP-DAYTON HUB"]).round(6).tolist()
    assert [r["spread"] for r in rest] == pytest.approx(expected, abs=1e-6)


def test_spread_stats_are_typed_and_both_clients_agree(client: Client, service: LiveService) -> None:
    stats = client.spread_stats(**SPREAD, block="onpeak", threshold=1.0)
    assert isinstance(stats, SpreadStats)
    # Jan 1-14 (the window is UTC; blocks are New York time): nine weekdays, New Year's Day a holiday.
    assert stats.intervals == 9 * 16
    onpeak = client.spreads(**SPREAD, block="onpeak", frame="pandas")
    assert stats.intervals == len(onpeak)
    assert stats.mean == pytest.approx(onpeak["spread"].mean(), abs=1e-6)
    assert stats.share_above == pytest.approx((onpeak["spread"] > 1.0).mean(), abs=1e-6)

    async def from_async() -> tuple[SpreadStats, pa.Table]:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as aclient:
            both = (
                await aclient.spread_stats(**SPREAD, block="onpeak", threshold=1.0),
                await aclient.spreads(**SPREAD, frame="arrow"),
            )
            return both

    async_stats, async_rows = asyncio.run(from_async())
    assert async_stats == stats
    assert async_rows.equals(client.spreads(**SPREAD, frame="arrow"))


def test_spreads_errors_are_typed_and_name_the_parameter(service: LiveService) -> None:
    with Client(base_url=service.base_url, api_key=service.keys.full) as full:
        with pytest.raises(NotFound) as unknown:
            full.spreads(**{**SPREAD, "minus": "AEP-DAYTN HUB"})
        assert unknown.value.parameter == "minus"
        assert "AEP-DAYTON HUB" in unknown.value.suggestions
    with Client(base_url=service.base_url, api_key=service.keys.ercot) as ercot, pytest.raises(NotEntitled):
        ercot.spreads(**SPREAD)
