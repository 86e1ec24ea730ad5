"""`carbon254 battery optimize --iso --location --start --end`: a battery against the store's prices.

The store mode of `battery optimize` (the `--prices FILE.csv` mode is in
`cli.battery`): the `battery_optimize` operation run in process against the
store in `--data-dir`, exactly as `POST /v1/battery/optimize` runs it (a
local user is entitled to everything). It prints the revenue stack by month
of the ISO's market time, or with `--format json` the service's document;
`--chart FILE.png` draws the first week of dispatch and state of charge.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import ValidationError
from rich.table import Table

from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS
from carbon254.application.operations.battery import (
    BATTERY_OPTIMIZE,
    BatteryOptimizeRequest,
    BatteryResult,
    battery_result,
    chart_png,
    result_json,
)
from carbon254.cli.console import console, fail
from carbon254.cli.operations import option_message
from carbon254.cli.output import print_table
from carbon254.config import Settings
from carbon254.store import open_store

# Stack columns beside the streams, and how each is shown.
_QUANTITIES = ("net_revenue", "cycles", "discharged_mwh")


@dataclass(frozen=True, slots=True)
class StoreRun:
    """What `battery optimize` reads from the store for one battery: the request's fields as typed."""

    fields: dict[str, Any]
    data_dir: Path
    chart: Path | None
    json: bool


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def run_from_store(run: StoreRun) -> None:
    """Optimize the battery against stored prices and print the stack (or JSON); draw `--chart`."""
    if run.chart is not None and run.chart.suffix.lower() != ".png":
        fail(f"--chart: the chart is a PNG; name the file *.png, not {run.chart.name}")
    if not (run.data_dir / "store").is_dir():
        fail(
            f"--data-dir: no store in {run.data_dir}",
            "Load data with `carbon254 demo`, `simulate` or `ingest`, or point --data-dir "
            "(CARBON254_DATA_DIR) at an existing data dir.",
        )
    try:
        request = BatteryOptimizeRequest.model_validate(
            {k: v for k, v in run.fields.items() if v is not None}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{_option(str(first['loc'][0]))}: {first['msg']}" if first["loc"] else str(exc))
    store = open_store(run.data_dir)
    try:
        call = BATTERY_OPTIMIZE.call(store, Settings(data_dir=run.data_dir), ANONYMOUS, request)
        result = battery_result(call, store)
        png = chart_png(result) if run.chart is not None else None
    except ApiError as exc:
        fail(option_message(exc), f"Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else None)
    finally:
        store.close()
    if png is not None and run.chart is not None:
        try:
            run.chart.write_bytes(png)
        except OSError as exc:
            fail(f"--chart: cannot write {run.chart} ({exc.strerror or exc})")
    if run.json:
        sys.stdout.write(result_json(result).decode() + "\n")
        return
    _print(result)
    if run.chart is not None:
        console.print(f"Wrote the chart of the first week to {run.chart}")


def _money(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, float) else str(value)


def _print(result: BatteryResult) -> None:
    query, summary = result.query, result.summary
    stack: pa.Table = result.stack
    streams = [
        c for c in stack.column_names if c not in ("month", *_QUANTITIES, "charged_mwh", "degradation_cost")
    ]
    title = (
        f"Revenue stack ($) · {query['iso']} {query['location']} {query['market']} · "
        f"{query['start'][:10]} to {query['end'][:10]} · months {query['tz']}"
        + (" · simulated data" if result.simulated else "")
    )
    table = Table(title=title)
    table.add_column("month")
    for name in (*streams, *_QUANTITIES):
        table.add_column(name, justify="right")
    for row in stack.to_pylist():
        cells = [_money(row[s]) for s in streams]
        cells += [_money(row["net_revenue"]), f"{row['cycles']:,.1f}", f"{row['discharged_mwh']:,.0f}"]
        table.add_row(row["month"], *cells)
    print_table(console, table)
    parts = [f"Net revenue ${summary.net_revenue:,.0f}", f"{summary.cycles:,.1f} cycles"]
    if summary.capture_ratio is not None and summary.perfect_net_revenue is not None:
        parts.append(
            f"rolling dispatch captured {summary.capture_ratio:.1%} of the perfect-foresight "
            f"${summary.perfect_net_revenue:,.0f}"
        )
    parts.append(f"reserves: {', '.join(summary.services) or 'none'}")
    console.print("; ".join(parts) + ".")
    for product, reason in summary.skipped.items():
        console.print(f"[dim]{product} left out: {reason}[/]")
