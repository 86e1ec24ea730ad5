"""`carbon254 battery optimize`: what a battery could have earned from a price series (perfect foresight).

`--prices FILE.csv` holds `interval_start,price` ($/MWh), a regular series
whose spacing is the interval length; the battery is energy-arbitrage only,
with charge and discharge efficiency the square root of the round trip each.
`--format json` prints `{"revenue", "dispatch": [{"interval_start",
"charge_mw", "discharge_mw", "soc_mwh"}]}` with revenue = sum price x
(discharge - charge) x hours.

Without `--prices`, `--location --start --end` (and `--iso`) read the prices
from the store in `--data-dir`, with the ISO's reserve prices, and print the
revenue stack by month (`cli.battery_store`).
"""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from carbon254.battery import Battery, BatteryError, Schedule, optimize_arbitrage
from carbon254.cli.battery_store import StoreRun, run_from_store
from carbon254.cli.console import console, fail
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import print_table

battery = typer.Typer(
    name="battery",
    help="Battery storage: optimal dispatch and revenue ($, MW, MWh).",
    no_args_is_help=True,
)


# The asset's fields that are options here: a refusal naming one names the option.
_OPTIONS = {"power_mw", "energy_mwh", "round_trip_efficiency", "initial_soc_mwh", "final_soc_mwh", "prices"}


class BatteryFormat(StrEnum):
    """How `battery optimize` prints its result."""

    TABLE = "table"
    JSON = "json"


def read_price_series(path: Path) -> tuple[list[str], np.ndarray, float]:
    """The interval starts as written, the prices ($/MWh) and the interval length (hours) of a price CSV.

    Exits naming --prices and the line at fault for a missing column, an
    unreadable time or price, or a series that is not regular.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        fail(f"--prices: cannot read {path} ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"--prices: {path} is not UTF-8 text")
    if not rows or not {"interval_start", "price"} <= set(rows[0]):
        fail(f"--prices: {path} needs the columns interval_start,price and at least one row")
    starts, instants, prices = [], [], []
    for line, row in enumerate(rows, start=2):
        text = (row["interval_start"] or "").strip()
        try:
            instants.append(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            fail(f"--prices: line {line}, interval_start: {text!r} is not an ISO-8601 time")
        try:
            price = float(row["price"])
        except (TypeError, ValueError):
            fail(f"--prices: line {line}, price: {row['price']!r} is not a number")
        if not math.isfinite(price):
            fail(f"--prices: line {line}, price: {row['price']!r} is not a finite price")
        starts.append(text)
        prices.append(price)
    steps = {(b - a).total_seconds() for a, b in pairwise(instants)}
    if len(steps) > 1 or any(s <= 0 for s in steps):
        fail(f"--prices: {path} is not a regular series (spacings of {sorted(steps)} seconds)")
    hours = (steps.pop() / 3600) if steps else 1.0
    return starts, np.array(prices), hours


@battery.command("optimize")
def optimize(
    power_mw: Annotated[float, typer.Option("--power-mw", help="Charge and discharge power, MW.")],
    energy_mwh: Annotated[float, typer.Option("--energy-mwh", help="Energy capacity, MWh.")],
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices", help="CSV with columns interval_start,price ($/MWh), regular.", dir_okay=False
        ),
    ] = None,
    round_trip_efficiency: Annotated[
        float | None,
        typer.Option(
            "--round-trip-efficiency",
            help="Round-trip efficiency (0-1]; each way its root. Required with --prices; else 0.85.",
        ),
    ] = None,
    initial_soc_mwh: Annotated[
        float | None,
        typer.Option(
            "--initial-soc-mwh", help="State of charge at the start, MWh. Required with --prices; else half."
        ),
    ] = None,
    final_soc_mwh: Annotated[
        float | None,
        typer.Option("--final-soc-mwh", help="State of charge at the end, MWh (default: initial)."),
    ] = None,
    fmt: Annotated[
        BatteryFormat, typer.Option("--format", help='table, or json: {"revenue", "dispatch": [...]}.')
    ] = BatteryFormat.TABLE,
    iso: Annotated[
        str | None, typer.Option("--iso", help="Store mode: the ISO (default: the location's).")
    ] = None,
    location: Annotated[
        str | None, typer.Option("--location", help="Store mode: the node, hub or zone, e.g. HB_NORTH.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Store mode: first day (ISO market time), e.g. 2024-01-01.")
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="Store mode: day to stop before.")] = None,
    market: Annotated[
        str, typer.Option("--market", help="Store mode: DAM, RTH, RT5, RT15 or both (DA then RT).")
    ] = "DAM",
    services: Annotated[
        str, typer.Option("--services", help="Store mode: reserve products: all, none, or e.g. REGUP,RRS.")
    ] = "all",
    dispatch_mode: Annotated[
        str,
        typer.Option("--dispatch", help="Store mode: perfect foresight, or rolling (with capture ratio)."),
    ] = "perfect",
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Store mode: draw the first week to this PNG.", dir_okay=False),
    ] = None,
    daily_cycles: Annotated[
        float | None, typer.Option("--daily-cycles", help="Store mode: most full cycles a day.")
    ] = None,
    degradation_cost: Annotated[
        float | None, typer.Option("--degradation-cost", help="Store mode: $/MWh discharged.")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Perfect-foresight energy arbitrage: the schedule earning most from the prices, and its revenue ($).

    With --prices, the file's energy prices alone. Without it, --location,
    --start and --end read the store's prices, co-optimize the ISO's reserve
    products and print the revenue stack by month.
    """
    store_options: dict[str, object] = {
        "--iso": iso,
        "--location": location,
        "--start": start,
        "--end": end,
        "--chart": chart,
    }
    store_options |= {"--daily-cycles": daily_cycles, "--degradation-cost": degradation_cost}
    if prices is None:
        if location is None or start is None or end is None:
            fail("give --prices FILE.csv, or --location, --start and --end to read the store's prices")
        fields = {
            "iso": iso,
            "location": location,
            "start": start,
            "end": end,
            "market": market,
            "services": services,
            "dispatch": dispatch_mode,
            "power_mw": power_mw,
            "energy_mwh": energy_mwh,
            "round_trip_efficiency": round_trip_efficiency,
            "initial_soc_mwh": initial_soc_mwh,
            "final_soc_mwh": final_soc_mwh,
            "daily_cycles": daily_cycles,
            "degradation_cost": degradation_cost,
        }
        run_from_store(StoreRun(fields, data_dir, chart, fmt is BatteryFormat.JSON))
        return
    given = [name for name, value in store_options.items() if value is not None]
    if given:
        fail(f"{given[0]}: reads the store's prices; --prices reads a file instead. Give one or the other.")
    for name, value in (
        ("--round-trip-efficiency", round_trip_efficiency),
        ("--initial-soc-mwh", initial_soc_mwh),
    ):
        if value is None:
            fail(f"{name}: required with --prices")
    assert round_trip_efficiency is not None and initial_soc_mwh is not None
    starts, series, hours = read_price_series(prices)
    try:
        asset = Battery.from_round_trip(
            power_mw=power_mw,
            energy_mwh=energy_mwh,
            round_trip_efficiency=round_trip_efficiency,
            initial_soc_mwh=initial_soc_mwh,
            final_soc_mwh=final_soc_mwh,
        )
        dispatch = optimize_arbitrage(series, hours, asset)
    except BatteryError as exc:
        field, _, message = str(exc).partition(": ")
        fail(f"--{field.replace('_', '-')}: {message}" if field in _OPTIONS else str(exc))
    if fmt is BatteryFormat.JSON:
        print(json.dumps(_document(starts, dispatch)))
    else:
        _print(starts, dispatch, hours)


def _document(starts: list[str], dispatch: Schedule) -> dict[str, object]:
    return {
        "revenue": dispatch.energy_revenue,
        "dispatch": [
            {"interval_start": start, "charge_mw": float(c), "discharge_mw": float(d), "soc_mwh": float(s)}
            for start, c, d, s in zip(
                starts, dispatch.charge_mw, dispatch.discharge_mw, dispatch.soc_mwh, strict=True
            )
        ],
    }


def _print(starts: list[str], dispatch: Schedule, hours: float) -> None:
    table = Table(title=f"Energy arbitrage, perfect foresight: revenue ${dispatch.energy_revenue:,.2f}")
    for name in ("interval_start", "charge MW", "discharge MW", "SOC MWh"):
        table.add_column(name, justify="right" if name != "interval_start" else "left")
    for start, c, d, s in list(
        zip(starts, dispatch.charge_mw, dispatch.discharge_mw, dispatch.soc_mwh, strict=True)
    )[:48]:
        table.add_row(start, f"{c:,.2f}", f"{d:,.2f}", f"{s:,.2f}")
    print_table(console, table)
    discharged = float(dispatch.discharge_mw.sum() * hours)
    console.print(f"{len(starts):,} intervals of {hours * 60:g} min; {discharged:,.1f} MWh discharged.")
