"""The SDK's forward-curve methods against the service's own code (local mode): marks, reads, chart.

`mark_curve` takes quotes in every form a trader has them (a CSV or JSON
file, CSV text, records, a pandas or Polars DataFrame) and returns the typed
mark; the reads return the REST rows as frames; errors are the SDK's own
types carrying the service's message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from carbon254.client import AsyncClient, Client, InvalidRequest, NotFound
from carbon254.client.models import CurveMarked
from carbon254.schema import TIMESTAMP
from carbon254.store import open_store

AS_OF = date(2026, 12, 4)
QUOTES: list[dict[str, Any]] = [
    {"start": "2027-01-01", "end": "2027-02-01", "block": "onpeak", "price": 60.0},
    {"start": "2027-02-01", "end": "2027-03-01", "block": "onpeak", "price": 55.0},
    {"start": "2027-01-01", "end": "2027-04-01", "block": "offpeak", "price": 40.0},
    {"start": "2027-01-01", "end": "2027-04-01", "block": "onpeak", "price": 55.0},
]
CSV = "start,end,block,price\n" + "".join(
    f"{q['start']},{q['end']},{q['block']},{q['price']}\n" for q in QUOTES
)


def _history(hub: str, start: datetime, hours: int) -> pa.Table:
    """Hourly day-ahead LMPs of `hub`: 20 + hour of day $/MWh."""
    first = np.datetime64(start.replace(tzinfo=None), "us")
    starts = first + np.arange(hours) * np.timedelta64(3600, "s")
    energy = 20.0 + (np.arange(hours) % 24)
    return pa.table(
        {
            "iso": ["ERCOT"] * hours,
            "market": ["DAM"] * hours,
            "location": [hub] * hours,
            "location_type": ["hub"] * hours,
            "interval_start": pa.array(starts).cast(TIMESTAMP),
            "interval_end": pa.array(starts + np.timedelta64(3600, "s")).cast(TIMESTAMP),
            "lmp": energy,
            "energy": energy,
            "congestion": np.zeros(hours),
            "loss": np.zeros(hours),
            "published_at": pa.array([start] * hours, TIMESTAMP),
        }
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sdk-curves")
    store = open_store(path)
    try:
        store.write("lmp", _history("HB_NORTH", datetime(2026, 10, 1, 5, tzinfo=UTC), 60 * 24))
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[Client]:
    with Client.local(data_dir) as made:
        yield made


def _prices(marked: CurveMarked) -> dict[tuple[str, str], float]:
    return {(m.month, m.block): m.price for m in marked.months}


def _check(marked: CurveMarked, jan: float = 60.0) -> None:
    prices = _prices(marked)
    assert prices[("2027-01", "onpeak")] == pytest.approx(jan)
    assert prices[("2027-02", "onpeak")] == pytest.approx(55.0)
    assert prices[("2027-03", "offpeak")] == pytest.approx(40.0)
    assert marked.quoted_through == "2027-04-01"


@pytest.mark.parametrize(
    "kind", ["csv_file", "json_file", "csv_text", "records", "pandas", "polars", "path_text"]
)
def test_mark_curve_takes_quotes_in_every_form(client: Client, tmp_path: Path, kind: str) -> None:
    hub = f"HUB_{kind.upper()}"
    quotes: Any
    if kind == "csv_file":
        quotes = tmp_path / "quotes.csv"
        quotes.write_text(CSV)
    elif kind == "path_text":
        (tmp_path / "quotes.csv").write_text(CSV)
        quotes = str(tmp_path / "quotes.csv")
    elif kind == "json_file":
        quotes = tmp_path / "quotes.json"
        quotes.write_text(json.dumps({"quotes": QUOTES}))
    elif kind == "csv_text":
        quotes = CSV
    elif kind == "records":
        quotes = [{**q, "start": date.fromisoformat(q["start"])} for q in QUOTES]
    elif kind == "pandas":
        frame = pd.DataFrame(QUOTES)
        frame["start"] = pd.to_datetime(frame["start"])  # dates as timestamps, as read_csv parses them
        quotes = frame
    else:
        quotes = pl.DataFrame(QUOTES).with_columns(pl.col("start").str.to_date())
    marked = client.mark_curve(iso="ERCOT", hub=hub, as_of=AS_OF, quotes=quotes)
    assert isinstance(marked, CurveMarked)
    assert (marked.hub, marked.as_of, marked.version) == (hub, "2026-12-04", 1)
    _check(marked)
    again = client.mark_curve(iso="ERCOT", hub=hub, as_of="2026-12-04", quotes=quotes, prior=False)
    assert again.version == 2 and again.prior is None


def test_redundant_quotes_come_back_with_their_implied_price(client: Client) -> None:
    march = 50.0
    q1 = (60.0 * 320 + 55.0 * 320 + march * 368) / (320 + 320 + 368)
    quotes = [
        *QUOTES[:3],
        {"start": "2027-03-01", "end": "2027-04-01", "block": "onpeak", "price": march},
        {"start": "2027-01-01", "end": "2027-04-01", "block": "onpeak", "price": q1},
    ]
    marked = client.mark_curve(iso="ERCOT", hub="HUB_IMPLIED", as_of=AS_OF, quotes=quotes)
    [implied] = marked.implied
    assert "Q1 27 onpeak" in implied.quote and implied.implied_price == pytest.approx(q1)
    frame = pd.DataFrame([m.model_dump() for m in marked.months])
    assert list(frame.columns) == ["month", "block", "price"] and len(frame) == 9


def test_contradictory_quotes_raise_invalid_request_naming_them(client: Client) -> None:
    text = CSV + "2027-03-01,2027-04-01,onpeak,50\n2027-01-01,2027-04-01,onpeak,75\n"
    with pytest.raises(InvalidRequest) as caught:
        client.mark_curve(iso="ERCOT", hub="HUB_BAD", as_of=AS_OF, quotes=text)
    assert caught.value.status == 422 and caught.value.code == "contradictory_quotes"
    assert "line 5" in str(caught.value) and "line 6" in str(caught.value)
    with pytest.raises(NotFound):
        client.curve("HUB_BAD", iso="ERCOT")


@pytest.mark.parametrize(
    ("quotes", "words"),
    [
        ("no-such-file.csv", "neither a file nor CSV text"),
        (42, "not a file"),
        ("start,end,block,price\n2027-01-01,2027-02-01,onpeak,abc\n", "line 2"),
    ],
)
def test_unusable_quotes_raise_invalid_request(client: Client, quotes: Any, words: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        client.mark_curve(iso="ERCOT", hub="HUB_X", as_of=AS_OF, quotes=quotes)
    assert caught.value.parameter == "quotes"
    assert words in str(caught.value)


@pytest.fixture(scope="module")
def marked(client: Client) -> str:
    """HB_NORTH marked on 2026-12-01 (Jan onpeak 58) and 2026-12-04 (60)."""
    first = [{**QUOTES[0], "price": 58.0}, *QUOTES[1:]]
    client.mark_curve(iso="ERCOT", hub="HB_NORTH", as_of="2026-12-01", quotes=first)
    client.mark_curve(iso="ERCOT", hub="hb_north", as_of=AS_OF, quotes=QUOTES)
    return "HB_NORTH"


def test_curve_reads_frames_with_filters(client: Client, marked: str) -> None:
    frame = client.curve(marked)
    assert list(frame.columns) == [
        "iso",
        "hub",
        "as_of",
        "version",
        "month",
        "block",
        "price",
        "hours",
        "extrapolated",
    ]
    assert set(frame["as_of"]) == {"2026-12-04"} and len(frame) == 9
    one = client.curve(
        marked, as_of=date(2026, 12, 2), month=date(2027, 1, 1), block="onpeak", frame="polars"
    )
    assert isinstance(one, pl.DataFrame)
    assert one.select("price").item() == pytest.approx(58.0)
    table = client.curve(marked, iso="ERCOT", block="offpeak", frame="arrow")
    assert isinstance(table, pa.Table) and table.num_rows == 3
    with pytest.raises(InvalidRequest) as caught:
        client.curve(marked, block="weekend")
    assert caught.value.parameter == "block"
    with pytest.raises(NotFound) as missing:
        client.curve("NO_SUCH_HUB")
    assert "mark one" in str(missing.value)


def test_curve_hpfc_averages_to_the_mark(client: Client, marked: str) -> None:
    frame = client.curve_hpfc(marked, iso="ERCOT", start="2027-01", end=date(2027, 3, 1), tz="iso")
    assert str(frame["interval_start"].dt.tz) == "America/Chicago"
    assert len(frame) == (31 + 28) * 24
    months = frame["interval_start"].dt.strftime("%Y-%m")
    onpeak = frame[(frame["block"].astype(str) == "onpeak") & (months == "2027-01")]
    assert onpeak["price"].mean() == pytest.approx(60.0)
    assert onpeak["price"].nunique() > 1  # shaped by the stored hours


def test_curve_diff_quotes_and_history(client: Client, marked: str) -> None:
    diff = client.curve_diff(marked, iso="ERCOT", as_of=AS_OF, against="2026-12-01", block="onpeak")
    jan = diff[diff["month"] == "2027-01"].iloc[0]
    assert jan["change"] == pytest.approx(2.0) and jan["against_price"] == pytest.approx(58.0)
    quotes = client.curve_quotes(marked, as_of="2026-12-01")
    assert quotes["price"].tolist() == [58.0, 55.0, 40.0, 55.0]
    history = client.curve_history(marked, iso="ERCOT", start="2026-12-01", end="2026-12-05")
    assert set(history["as_of"]) == {"2026-12-04"}
    assert set(history.columns) >= {"tenor", "month", "price", "change", "log_return"}


def test_node_curve_adds_the_basis(client: Client, marked: str) -> None:
    with pytest.raises(NotFound) as caught:
        client.node_curve(marked, "NO_SUCH_NODE", iso="ERCOT")
    assert caught.value.parameter == "node"


def test_curve_chart_writes_a_png(client: Client, marked: str, tmp_path: Path) -> None:
    path = client.curve_chart(marked, path=tmp_path / "curve.png", hpfc=True, against="2026-12-01")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidRequest):
        client.curve_chart(marked, path=tmp_path / "curve.jpg")


def test_the_async_client_has_the_same_methods(data_dir: Path, tmp_path: Path) -> None:
    async def run() -> tuple[CurveMarked, pd.DataFrame, Path]:
        async with AsyncClient.local(data_dir) as client:
            done = await client.mark_curve(iso="ERCOT", hub="HUB_ASYNC", as_of=AS_OF, quotes=QUOTES)
            frame = await client.curve("HUB_ASYNC", block="onpeak")
            hpfc = await client.curve_hpfc("HUB_ASYNC", iso="ERCOT")
            assert len(hpfc) == 90 * 24 - 1
            await client.curve_quotes("HUB_ASYNC")
            with pytest.raises(InvalidRequest):
                await client.mark_curve(iso="ERCOT", hub="HUB_ASYNC", as_of=AS_OF, quotes=QUOTES[:1])
            png = await client.curve_chart("HUB_ASYNC", path=tmp_path / "a.png")
            return done, frame, png

    done, frame, png = asyncio.run(run())
    assert done.version == 1
    assert frame["price"].tolist()[:2] == [pytest.approx(60.0), pytest.approx(55.0)]
    assert png.stat().st_size > 1000
