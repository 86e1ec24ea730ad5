"""Forward positions measured on marked curves: tenor changes from the metadata database, with `as_of`.

Shared (owner-less) curve marks of ERCOT HB_NORTH are stored for every
weekday from February to mid-May 2024, their prices a seeded random walk
per tenor. A forward's historical P&L on a calendar day is then, by hand:
on a marking day, MW x the block hours of each delivery month x the change
of that month's tenor (M+k, k counted from as_of's month) from the previous
mark; zero on days without a mark. Hours are counted here with `zoneinfo`
(onpeak: weekdays hour-ending 7-22 but NERC holidays).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from risk_data import ZONES, fill

from carbon254.config import AuthMode, Settings
from carbon254.curves.model import MonthlyCurve
from carbon254.metadata.curves import NewCurveMark, save_curves
from carbon254.metadata.database import MetadataDatabase
from carbon254.risk import var_es
from carbon254.service import create_app
from carbon254.store import open_store
from carbon254.timeseries.periods import Block

MARKS_FROM = date(2024, 2, 1)
MARKS_TO = date(2024, 5, 17)  # a Friday
LATE_MARK = date(2024, 5, 20)  # saved during a test
TENORS = 18
# Jul-Sep 2024: 5 MW onpeak and -3 MW offpeak forwards at HB_NORTH, a load at the same hub.
BOOK = (
    "id,book,kind,iso,location,block,start,end,mw,price,volume_mwh\n"
    "on,Power/Fwd,forward,ERCOT,HB_NORTH,onpeak,2024-07,2024-09,5,60,\n"
    "off,Power/Fwd,forward,ERCOT,HB_NORTH,offpeak,2024-07,2024-09,-3,35,\n"
)
LOAD = "load,Retail,load,ERCOT,HB_NORTH,,2024-07,2024-07,,,10000\n"
NERC_HOLIDAYS = {date(2024, 7, 4), date(2024, 9, 2)}


def _add_months(month: date, k: int) -> date:
    index = month.year * 12 + month.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)


def _curve(day: date, prices: np.ndarray) -> MonthlyCurve:
    """A mark of `day`: months from its own month on, tenor k's onpeak/offpeak prices in row k."""
    months = tuple(_add_months(day.replace(day=1), k) for k in range(TENORS + 1))
    hours = np.full((len(months), 2), 300, dtype=np.int64)
    return MonthlyCurve(
        "ERCOT", "HB_NORTH", day, months, (Block.ONPEAK, Block.OFFPEAK), prices, hours, months[-1], True
    )


def _weekdays(first: date, last: date) -> list[date]:
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    return [d for d in days if d.weekday() < 5]


def _marks(days: list[date], seed: int) -> list[MonthlyCurve]:
    rng = np.random.default_rng(seed)
    base = 45.0 + np.arange(TENORS + 1)[:, None] * np.array([[1.0, 0.5]]) + np.array([[15.0, 0.0]])
    walk = np.cumsum(rng.normal(0.0, 0.8, (len(days), TENORS + 1, 2)), axis=0)
    return [_curve(day, np.round(base + walk[i], 2)) for i, day in enumerate(days)]


def _save_marks(settings: Settings, curves: list[MonthlyCurve]) -> None:
    db = MetadataDatabase(settings.metadata_database_url())
    try:
        save_curves(db, [NewCurveMark(None, c, (), (), "test") for c in curves])
    finally:
        db.close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("risk-curves"), auth=AuthMode.OFF, max_range_days=800)


@pytest.fixture(scope="module")
def marks(settings: Settings) -> list[MonthlyCurve]:
    curves = _marks(_weekdays(MARKS_FROM, LATE_MARK), seed=11)
    _save_marks(settings, [c for c in curves if c.as_of <= MARKS_TO])
    return curves


@pytest.fixture(scope="module")
def api(settings: Settings, marks: list[MonthlyCurve]) -> Iterator[TestClient]:
    store = open_store(Path(settings.data_dir))
    fill(store)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        yield client
    store.close()


def _block_hours(month: date) -> dict[Block, float]:
    """Onpeak and offpeak hours of `month` on Central wall clocks, by a plain loop over its days."""
    onpeak = offpeak = 0
    day = month
    while day.month == month.month:
        start, end = (datetime.combine(d, time(), ZONES["ERCOT"]) for d in (day, day + timedelta(days=1)))
        hours = round((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600)
        peak = 16 if day.weekday() < 5 and day not in NERC_HOLIDAYS else 0
        onpeak += peak
        offpeak += hours - peak
        day += timedelta(days=1)
    return {Block.ONPEAK: float(onpeak), Block.OFFPEAK: float(offpeak)}


def _expected_pnl(curves: list[MonthlyCurve], as_of: date, window: int) -> np.ndarray:
    """The forwards' P&L ($) of each of the `window` calendar days up to `as_of`, from the marks by hand."""
    mw = {Block.ONPEAK: 5.0, Block.OFFPEAK: -3.0}
    months = [date(2024, m, 1) for m in (7, 8, 9)]
    hours = {m: _block_hours(m) for m in months}
    marked = {c.as_of: c for c in curves if c.as_of <= as_of}
    days = sorted(marked)
    pnl = []
    for offset in range(window - 1, -1, -1):
        day = as_of - timedelta(days=offset)
        total = 0.0
        if day in marked:
            now, before = marked[day], marked[days[days.index(day) - 1]]
            for month in months:
                k = (month.year - as_of.year) * 12 + month.month - as_of.month
                for j, block in enumerate((Block.ONPEAK, Block.OFFPEAK)):
                    change = now.prices[k, j] - before.prices[k, j]
                    total += mw[block] * hours[month][block] * change
        pnl.append(total)
    return np.array(pnl)


def _save(api: TestClient, name: str, text: str) -> None:
    response = api.post(
        "/v1/risk/portfolios", params={"name": name}, content=text, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 201, response.text


def _var(api: TestClient, **params: Any) -> Any:
    response = api.get("/v1/risk/var", params={"method": "historical", "confidence": 0.95, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_forward_strip_is_measured_on_its_tenors_and_reproduced_as_of_a_day(
    api: TestClient, settings: Settings, marks: list[MonthlyCurve]
) -> None:
    _save(api, "Strip", BOOK)
    window = 60
    body = _var(api, portfolio="Strip", as_of=MARKS_TO.isoformat(), window=window)
    [row] = body["data"]
    expected = var_es(_expected_pnl(marks, MARKS_TO, window), 0.95)
    assert row["var"] == pytest.approx(expected.var, rel=1e-9)
    assert row["es"] == pytest.approx(expected.es, rel=1e-9)
    query = body["query"]
    assert query["spot_factors"] == []
    assert set(query["curve_factors"]) == {
        f"ERCOT:HB_NORTH:{b}:2024-{m:02d}" for m in (7, 8, 9) for b in ("onpeak", "offpeak")
    }
    [source] = query["curves"]
    assert (source["hub"], source["used"], source["reason"], source["last"]) == (
        "HB_NORTH",
        True,
        None,
        MARKS_TO.isoformat(),
    )
    # A mark of a later day changes neither yesterday's answer nor the marks it read.
    _save_marks(settings, [c for c in marks if c.as_of == LATE_MARK])
    again = _var(api, portfolio="Strip", as_of=MARKS_TO.isoformat(), window=window)
    assert again["data"] == body["data"]
    later = _var(api, portfolio="Strip", as_of=LATE_MARK.isoformat(), window=window)
    expected_later = var_es(_expected_pnl(marks, LATE_MARK, window), 0.95)
    assert later["data"][0]["var"] == pytest.approx(expected_later.var, rel=1e-9)
    assert later["query"]["curves"][0]["last"] == LATE_MARK.isoformat()


def test_load_stays_on_spot_and_a_window_longer_than_the_marks_falls_back_to_spot(
    api: TestClient, marks: list[MonthlyCurve]
) -> None:
    _save(api, "StripAndLoad", BOOK + LOAD)
    body = _var(api, portfolio="StripAndLoad", as_of=MARKS_TO.isoformat(), window=60)
    assert "ERCOT:HB_NORTH:offpeak:spot" in body["query"]["spot_factors"]
    assert "ERCOT:HB_NORTH:onpeak:2024-07" in body["query"]["curve_factors"]
    response = api.get(
        "/v1/risk/attribution",
        params={"portfolio": "StripAndLoad", "as_of": MARKS_TO.isoformat(), "window": 60, "confidence": 0.95},
    )
    assert response.status_code == 200, response.text
    attribution = response.json()
    positions = [r for r in attribution["data"] if r["level"] == "position"]
    assert sum(r["component_var"] for r in positions) == pytest.approx(attribution["var"], rel=1e-9)
    # 120 days reach back before the first mark: the hub is measured on spot, and the answer says why.
    long = _var(api, portfolio="Strip", as_of=MARKS_TO.isoformat(), window=120)
    [source] = long["query"]["curves"]
    assert source["used"] is False and "start on 2024-02-01" in source["reason"]
    assert long["query"]["curve_factors"] == []
    assert set(long["query"]["spot_factors"]) == {"ERCOT:HB_NORTH:onpeak:spot", "ERCOT:HB_NORTH:offpeak:spot"}


def test_a_percent_shock_moves_a_curve_measured_forward_by_its_marked_prices(
    api: TestClient, marks: list[MonthlyCurve]
) -> None:
    _save(api, "StripShock", BOOK)
    response = api.get(
        "/v1/risk/stress",
        params={
            "portfolio": "StripShock",
            "as_of": MARKS_TO.isoformat(),
            "shock": "ERCOT:HB_NORTH:onpeak:-10%",
        },
    )
    assert response.status_code == 200, response.text
    [last] = [c for c in marks if c.as_of == MARKS_TO]
    months = [date(2024, m, 1) for m in (7, 8, 9)]
    expected = sum(5.0 * _block_hours(m)[Block.ONPEAK] * -0.1 * last.price(m, Block.ONPEAK) for m in months)
    by_id = {r["id"]: r["pnl"] for r in response.json()["data"] if r["level"] == "position"}
    assert by_id == pytest.approx({"on": expected, "off": 0.0})
    assert response.json()["query"]["curves"][0]["used"] is True


def _scenario(api: TestClient, text: str) -> None:
    response = api.post("/v1/scenarios", content=text, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


def test_a_saved_scenario_revalues_the_book_on_its_shocked_curves(
    api: TestClient, marks: list[MonthlyCurve]
) -> None:
    _save(api, "StripScenario", BOOK + LOAD)
    _scenario(api, '{"name": "up10pct", "steps": [{"type": "shift", "percent": 10}]}')
    response = api.get(
        "/v1/risk/stress",
        params={"portfolio": "StripScenario", "as_of": MARKS_TO.isoformat(), "scenario": "up10pct"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    [last] = [c for c in marks if c.as_of == MARKS_TO]
    months = [date(2024, m, 1) for m in (7, 8, 9)]
    mw = {Block.ONPEAK: 5.0, Block.OFFPEAK: -3.0}
    by_id = {r["id"]: r["pnl"] for r in body["data"] if r["level"] == "position"}
    for position, block in (("on", Block.ONPEAK), ("off", Block.OFFPEAK)):
        expected = sum(mw[block] * _block_hours(m)[block] * 0.1 * last.price(m, block) for m in months)
        assert by_id[position] == pytest.approx(expected, rel=1e-9)
    # The load is on spot factors: they move with the mark's first month (May: these marks start at
    # their own month).
    hours = _block_hours(date(2024, 7, 1))
    load_mwh = {b: -10_000.0 * hours[b] / sum(hours.values()) for b in hours}
    expected_load = sum(load_mwh[b] * 0.1 * last.price(last.months[0], b) for b in hours)
    assert by_id["load"] == pytest.approx(expected_load, rel=1e-9)
    assert body["query"]["scenario"]["name"] == "up10pct"
    assert body["query"]["scenario"]["marks"] == [{"hub": "HB_NORTH", "as_of": MARKS_TO.isoformat()}]
    missing = api.get(
        "/v1/risk/stress",
        params={"portfolio": "StripScenario", "as_of": MARKS_TO.isoformat(), "scenario": "nope"},
    )
    assert missing.status_code == 404 and missing.json()["parameter"] == "scenario"
    both = api.get(
        "/v1/risk/stress",
        params={"portfolio": "StripScenario", "scenario": "up10pct", "shock": "ERCOT:HB_NORTH:atc:+1"},
    )
    assert both.status_code == 422 and both.json()["parameter"] == "shock"
