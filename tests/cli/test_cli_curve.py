"""`carbon254 curve build|show|diff|hpfc|chart`: the interface contract of marking and reading curves.

The contract: `curve build --iso ISO --hub HUB --as-of DATE --quotes FILE.csv
--format json` prints `{"months": [{"month", "block", "price"}, ...]}` covering
every month of every quote, and each quote's price equals the average of its
months' prices weighted by each month's hours in the block (ISO market time,
NERC holidays off-peak). The hours are counted here independently, hour by
hour on the ISO's clock, rather than taken from the implementation.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.timeseries.holidays import nerc_holidays

# Overlapping on purpose: Q1 and its months, the summer strip and July, a calendar year with its
# quarters, and an ATC quote whose onpeak and offpeak parts are quoted too.
QUOTES = """start,end,block,price
2027-01-01,2027-02-01,onpeak,62.40
2027-02-01,2027-03-01,onpeak,58.10
2027-03-01,2027-04-01,onpeak,47.25
2027-01-01,2027-04-01,onpeak,{q1}
2027-01-01,2027-04-01,offpeak,38.50
2027-07-01,2027-09-01,onpeak,96.00
2027-07-01,2027-08-01,onpeak,101.50
2027-04-01,2027-07-01,offpeak,31.75
2027-07-01,2027-10-01,offpeak,44.20
2027-10-01,2028-01-01,offpeak,36.10
2027-04-01,2027-07-01,onpeak,52.00
2027-10-01,2028-01-01,onpeak,55.30
2027-01-01,2028-01-01,onpeak,{cal}
2028-01-01,2029-01-01,atc,49.00
"""


def _peak_hours(day: date) -> tuple[int, int]:
    """Onpeak and offpeak hours of an ERCOT day, counted hour by hour on its clock (Central time)."""
    zone = ZoneInfo("America/Chicago")
    start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(UTC)
    business = day.weekday() < 5 and day not in nerc_holidays(day.year)
    onpeak = offpeak = 0
    t = start
    while t < end:
        hour_ending = t.astimezone(zone).hour + 1
        if business and 7 <= hour_ending <= 22:
            onpeak += 1
        else:
            offpeak += 1
        t += timedelta(hours=1)
    return onpeak, offpeak


def _month_hours(month: str) -> dict[str, int]:
    first = date.fromisoformat(f"{month}-01")
    day, on, off = first, 0, 0
    while day.month == first.month:
        a, b = _peak_hours(day)
        on, off = on + a, off + b
        day += timedelta(days=1)
    return {"onpeak": on, "offpeak": off, "atc": on + off}


def _months(start: str, end: str) -> list[str]:
    first, stop = date.fromisoformat(start), date.fromisoformat(end)
    out = []
    while first < stop:
        out.append(f"{first:%Y-%m}")
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out


def _consistent_quotes() -> str:
    """QUOTES with Q1 and Cal 2027 onpeak set to what their months imply (so the set is consistent)."""
    months = {"2027-01": 62.40, "2027-02": 58.10, "2027-03": 47.25}
    hours = {m: _month_hours(m)["onpeak"] for m in months}
    q1 = sum(months[m] * hours[m] for m in months) / sum(hours.values())
    # The calendar is left to the fit: quote it at what the quarters and July/August give.
    return QUOTES.replace("{q1}", f"{q1:.10f}").replace("{cal}", "")


def _build(runner: CliRunner, tmp_path: Path, text: str, *extra: str) -> tuple[int, str]:
    quotes = tmp_path / "quotes.csv"
    quotes.write_text(text)
    args = ["curve", "build", "--iso", "ERCOT", "--hub", "HB_NORTH", "--as-of", "2026-12-04"]
    result = runner.invoke(
        app, [*args, "--quotes", str(quotes), "--data-dir", str(tmp_path / "data"), *extra]
    )
    return result.exit_code, result.output


def test_build_prints_every_month_and_reproduces_every_quote(runner: CliRunner, tmp_path: Path) -> None:
    text = "\n".join(line for line in _consistent_quotes().splitlines() if not line.endswith(","))
    code, output = _build(runner, tmp_path, text + "\n", "--format", "json")
    assert code == 0, output
    document = json.loads(output)
    prices = {(m["month"], m["block"]): m["price"] for m in document["months"]}
    for line in text.splitlines()[1:]:
        start, end, block, price = line.split(",")
        months = _months(start, end)
        for month in months:
            assert (month, block) in prices, f"{month} {block} missing"
        hours = [_month_hours(m)[block] for m in months]
        average = sum(prices[(m, block)] * h for m, h in zip(months, hours, strict=True)) / sum(hours)
        assert average == pytest.approx(float(price), rel=1e-6, abs=1e-6), line


def test_build_refuses_contradictory_quotes_naming_them(runner: CliRunner, tmp_path: Path) -> None:
    text = QUOTES.replace("{q1}", "75.00").replace("{cal}", "")
    text = "\n".join(line for line in text.splitlines() if not line.endswith(",")) + "\n"
    code, output = _build(runner, tmp_path, text, "--format", "json")
    flat = " ".join(output.split())
    assert code == 1
    assert "75" in flat and "line 5" in flat and "line 2" in flat  # the quarter and a month it contradicts


def test_build_reports_every_bad_line(runner: CliRunner, tmp_path: Path) -> None:
    text = "start,end,block,price\n2027-01-01,2027-02-01,onpeak,abc\n2027-03-01,2027-02-01,offpeak,40\n"
    code, output = _build(runner, tmp_path, text)
    flat = " ".join(output.split())
    assert code == 1
    assert "line 2" in flat and "line 3" in flat and "price" in flat


def test_marks_are_stored_versioned_and_read_back(runner: CliRunner, tmp_path: Path) -> None:
    text = "contract,block,price\nJan27,onpeak,60\nFeb27,onpeak,55\nQ1 27,offpeak,40\nQ1 27,onpeak,55\n"
    assert _build(runner, tmp_path, text)[0] == 0
    code, output = _build(runner, tmp_path, text.replace("Jan27,onpeak,60", "Jan27,onpeak,61"))
    assert code == 0, output
    assert "version 2" in " ".join(output.split())
    data = ["--data-dir", str(tmp_path / "data")]
    shown = runner.invoke(app, ["curve", "show", "--hub", "hb_north", "--block", "onpeak", *data])
    assert shown.exit_code == 0, shown.output
    assert "61" in shown.output and "2027-03" in shown.output
    first = runner.invoke(
        app, ["curve", "show", "--hub", "HB_NORTH", "--version", "1", "--output", "-", *data]
    )
    assert first.exit_code == 0, first.output
    rows = [line.split(",") for line in first.output.strip().splitlines()]
    header = rows[0]
    jan = [
        r for r in rows[1:] if r[header.index("month")] == "2027-01" and r[header.index("block")] == "onpeak"
    ]
    assert float(jan[0][header.index("price")]) == pytest.approx(60, abs=1e-6)


def test_diff_and_chart(runner: CliRunner, tmp_path: Path) -> None:
    text = "contract,block,price\nCal27,onpeak,60\nCal27,offpeak,40\n"
    assert _build(runner, tmp_path, text)[0] == 0
    quotes = tmp_path / "later.csv"
    quotes.write_text(text.replace("60", "66"))
    data = ["--data-dir", str(tmp_path / "data")]
    later = [
        "curve",
        "build",
        "--iso",
        "ERCOT",
        "--hub",
        "HB_NORTH",
        "--as-of",
        "2026-12-07",
        "--quotes",
        str(quotes),
    ]
    assert runner.invoke(app, [*later, *data]).exit_code == 0
    diff = runner.invoke(
        app,
        [
            "curve",
            "diff",
            "--iso",
            "ERCOT",
            "--hub",
            "HB_NORTH",
            "--as-of",
            "2026-12-07",
            "--against",
            "2026-12-04",
            "--block",
            "onpeak",
            "--output",
            "-",
            *data,
        ],
    )
    assert diff.exit_code == 0, diff.output
    rows = diff.output.strip().splitlines()
    header = rows[0].split(",")
    changes = [float(r.split(",")[header.index("change")]) for r in rows[1:]]
    # A calendar moved by +6 moves its months' hours-weighted average by exactly +6.
    hours = [_month_hours(f"2027-{m:02d}")["onpeak"] for m in range(1, 13)]
    assert sum(c * h for c, h in zip(changes, hours, strict=True)) / sum(hours) == pytest.approx(6, abs=1e-6)
    png = tmp_path / "curve.png"
    chart = runner.invoke(
        app, ["curve", "chart", "--iso", "ERCOT", "--hub", "HB_NORTH", "--output", str(png), *data]
    )
    assert chart.exit_code == 0, chart.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "curves" / "hb_north_quotes.csv"


def test_back_calendars_take_the_front_years_seasonal_shape(runner: CliRunner, tmp_path: Path) -> None:
    """Without stored history, calendars are shaped like the finely quoted front year, quotes still exact."""
    args = ["curve", "build", "--iso", "ERCOT", "--hub", "HB_NORTH", "--as-of", "2026-12-04"]
    result = runner.invoke(app, [*args, "--quotes", str(EXAMPLE), "--no-save", "--format", "json"])
    assert result.exit_code == 0, result.output
    prices = {(m["month"], m["block"]): m["price"] for m in json.loads(result.output)["months"]}
    august, april = prices[("2028-08", "onpeak")], prices[("2028-04", "onpeak")]
    assert august > 1.5 * april  # ERCOT's summer peak, as in 2027's months
    months = _months("2028-01-01", "2029-01-01")
    hours = [_month_hours(m)["onpeak"] for m in months]
    average = sum(prices[(m, "onpeak")] * h for m, h in zip(months, hours, strict=True)) / sum(hours)
    assert average == pytest.approx(63.40, abs=1e-6)  # Cal28 onpeak, as quoted
    flat = runner.invoke(
        app, [*args, "--quotes", str(EXAMPLE), "--no-save", "--no-prior", "--format", "json"]
    )
    smooth = {(m["month"], m["block"]): m["price"] for m in json.loads(flat.output)["months"]}
    assert smooth[("2028-08", "onpeak")] < august  # the smoothest curve has no summer peak to follow
