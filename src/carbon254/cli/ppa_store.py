"""`carbon254 ppa value --hub ...`: a PPA valued on the store's marked forward curve.

The store mode of `ppa value` (the file mode is in `cli.ppa`): the
`ppa_value` operation run in process against the store and metadata in
`--data-dir`, exactly as `POST /v1/ppa/value` runs it (a local user is
entitled to everything). It prints the summary, the settlement by year and
the risk waterfall, or with `--format json` the service's document;
`--chart FILE.png` draws the NPV distribution over the paths.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.table import Table

from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS
from carbon254.application.operations.ppa import PPA_VALUE, PpaResult, chart_png, ppa_result, result_json
from carbon254.application.ppa import PpaRequest
from carbon254.cli.console import console, fail
from carbon254.cli.operations import option_message
from carbon254.cli.output import print_table
from carbon254.cli.tenants import open_metadata
from carbon254.config import Settings
from carbon254.store import open_store


@dataclass(frozen=True, slots=True)
class StoreValuation:
    """What `ppa value --hub` values: the request's fields as typed, where, and what to print and draw."""

    fields: dict[str, Any]
    data_dir: Path
    chart: Path | None
    json: bool


def value_from_store(run: StoreValuation) -> None:
    """Value the PPA on the stored mark and print the summary (or JSON); draw `--chart`."""
    if run.chart is not None and run.chart.suffix.lower() != ".png":
        fail(f"--chart: the chart is a PNG; name the file *.png, not {run.chart.name}")
    if not (run.data_dir / "store").is_dir():
        fail(
            f"--data-dir: no store in {run.data_dir}",
            "Load data with `carbon254 demo`, or point --data-dir (CARBON254_DATA_DIR) at a data dir.",
        )
    try:
        request = PpaRequest.model_validate({k: v for k, v in run.fields.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}" if first["loc"] else str(exc))
    store = open_store(run.data_dir)
    metadata = open_metadata(run.data_dir)
    try:
        call = PPA_VALUE.call(store, Settings(data_dir=run.data_dir), ANONYMOUS, request, metadata)
        result = ppa_result(call, store)
        png = chart_png(result) if run.chart is not None else None
    except ApiError as exc:
        fail(option_message(exc), f"Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else None)
    finally:
        store.close()
        metadata.close()
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
        console.print(f"Wrote the NPV distribution to {run.chart}")


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _print(result: PpaResult) -> None:
    q, s = result.query, result.summary
    contract = q["contract"]
    terms = ", ".join(
        f"{k} {v}" for k, v in contract.items() if k in ("strike", "floor", "cap", "adder", "discount")
    )
    title = (
        f"{q['iso']} {q['settlement_point']} {contract['type']} PPA ({terms}) · {q['start']} to {q['end']} · "
        f"{q['capacity_mw']:g} MW {q['technology']} · {q['side']}'s view"
        + (" · simulated data" if result.simulated else "")
    )
    table = Table(title=title)
    for name in ("year", "volume MWh", "capture $/MWh", "settlement $", "discounted $"):
        table.add_column(name, justify="right")
    for row in result.annual.to_pylist():
        table.add_row(
            str(row["year"]),
            _money(row["volume_mwh"]),
            _price(row["capture_price"]),
            _money(row["settlement"]),
            _money(row["discounted"]),
        )
    print_table(console, table)
    lines = [
        f"NPV ${_money(s['npv'])} at P50 volume, ${_money(s['npv_p90_volume'])} at P90 "
        f"(discounted at {q['discount_rate']:.1%}); breakeven {_price(s['breakeven'])} $/MWh.",
        f"Capture price {_price(s['capture_price'])} $/MWh, {s['capture_rate']:.1%} of the baseload "
        f"{_price(s['baseload_price'])} $/MWh.",
    ]
    if result.distribution is not None:
        lines.append(
            f"Over {result.distribution['paths']:,} paths: NPV P5 ${_money(s['npv_p5'])}, P50 "
            f"${_money(s['npv_p50'])}, P95 ${_money(s['npv_p95'])}."
        )
    if q["extrapolated_from"]:
        lines.append(
            f"[dim]Prices from {q['extrapolated_from']} on repeat the mark's last year, escalated "
            f"{q['curve_escalation']:.1%} a year.[/]"
        )
    console.print("\n".join(lines))
    steps = Table(title="From baseload value to contract value ($)")
    for name in ("step", "value", "cumulative"):
        steps.add_column(name, justify="left" if name == "step" else "right")
    for step in result.waterfall:
        steps.add_row(step["step"], _money(step["value"]), _money(step["cumulative"]))
    print_table(console, steps)
