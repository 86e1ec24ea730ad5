"""`carbon254 ppa value`: what a PPA is worth, from files or from the store's marked curves.

With `--contract FILE.json --prices FILE.csv --generation FILE.csv` it
values the contract on the files' hours (`cli.ppa_files`) and prints the
settlement and NPV ($), with `--format json` the document `{"settlement",
"npv", "volume_mwh", "capture_price", "baseload_price", "capture_rate",
"breakeven", "side", "annual": [...]}`. Seen from the buyer of a virtual
PPA, a fixed price pays sum mwh x (price - strike) and a collar sum mwh x
(max(price - cap, 0) - max(floor - price, 0)).

With `--hub` instead it values the contract on the hub's marked forward
curve against a solar plant or a flat block (`cli.ppa_store`), as
`POST /v1/ppa/value` does, with the Monte Carlo distribution, the risk
waterfall and a chart of the NPV distribution on request.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from carbon254.cli.console import console, fail
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import print_table
from carbon254.cli.ppa_files import check_aligned, read_contract, read_hourly
from carbon254.cli.ppa_store import StoreValuation, value_from_store
from carbon254.ppa import DiscountCurve, PpaError, Valuation, value_ppa

ppa = typer.Typer(
    name="ppa",
    help="Power purchase agreements: settlement, NPV, breakeven and risk ($, $/MWh, MWh).",
    no_args_is_help=True,
)

DEFAULT_DISCOUNT_RATE = 0.08


class PpaFormat(StrEnum):
    """How `ppa value` prints its result."""

    TABLE = "table"
    JSON = "json"


def file_document(valuation: Valuation) -> dict[str, Any]:
    """The JSON of a file valuation: the totals and the settlement by calendar year (UTC)."""
    annual = [
        {
            "year": row["period_start"].year,
            "volume_mwh": row["volume_mwh"],
            "settlement": row["settlement"],
            "discounted": row["discounted"],
        }
        for row in valuation.annual.iter_rows(named=True)
    ]
    return {
        "settlement": valuation.settlement,
        "npv": valuation.npv,
        "volume_mwh": valuation.volume_mwh,
        "capture_price": _number(valuation.capture_price),
        "baseload_price": _number(valuation.baseload_price),
        "capture_rate": _number(valuation.capture_rate),
        "breakeven": _number(valuation.breakeven),
        "side": valuation.side,
        "annual": annual,
    }


def _number(value: float) -> float | None:
    return None if value != value else value  # NaN (no volume, zero baseload) as null


@ppa.command("value")
def value(
    contract: Annotated[
        Path | None,
        typer.Option(
            "--contract",
            help='File mode: the contract as JSON, e.g. {"type": "fixed", "strike": 45} or '
            '{"type": "collar", "floor": 20, "cap": 60}.',
            dir_okay=False,
        ),
    ] = None,
    prices: Annotated[
        Path | None,
        typer.Option("--prices", help="File mode: CSV interval_start,price ($/MWh), hourly.", dir_okay=False),
    ] = None,
    generation: Annotated[
        Path | None,
        typer.Option(
            "--generation", help="File mode: CSV interval_start,mwh (MWh per hour).", dir_okay=False
        ),
    ] = None,
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", help="Annual discount rate, a fraction (0 = undiscounted).")
    ] = DEFAULT_DISCOUNT_RATE,
    side: Annotated[str, typer.Option("--side", help="buyer (offtaker) or seller (generator).")] = "buyer",
    fmt: Annotated[
        PpaFormat, typer.Option("--format", help='table, or json: {"settlement", "npv", ...}.')
    ] = PpaFormat.TABLE,
    hub: Annotated[
        str | None, typer.Option("--hub", help="Store mode: the settlement hub, as marked.")
    ] = None,
    iso: Annotated[str | None, typer.Option("--iso", help="Store mode: the hub's ISO.")] = None,
    node: Annotated[
        str | None, typer.Option("--node", help="Store mode: settle at this node (hub + basis).")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Store mode: the mark's day.")] = None,
    kind: Annotated[
        str, typer.Option("--type", help="Store mode: fixed, collar, index_plus or floating_discount.")
    ] = "fixed",
    strike: Annotated[float | None, typer.Option("--strike", help="Store mode: fixed price, $/MWh.")] = None,
    floor: Annotated[float | None, typer.Option("--floor", help="Store mode: collar floor, $/MWh.")] = None,
    cap: Annotated[float | None, typer.Option("--cap", help="Store mode: collar cap, $/MWh.")] = None,
    adder: Annotated[float | None, typer.Option("--adder", help="Store mode: index adder, $/MWh.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="Store mode: first month, YYYY-MM.")] = None,
    term_years: Annotated[int, typer.Option("--term-years", help="Store mode: term, years.")] = 10,
    technology: Annotated[
        str, typer.Option("--technology", help="Store mode: solar (pvlib at the site) or flat.")
    ] = "solar",
    capacity_mw: Annotated[float, typer.Option("--capacity-mw", help="Store mode: plant MW AC.")] = 100.0,
    latitude: Annotated[float | None, typer.Option("--latitude", help="Store mode: site latitude.")] = None,
    longitude: Annotated[
        float | None, typer.Option("--longitude", help="Store mode: site longitude.")
    ] = None,
    paths: Annotated[int, typer.Option("--paths", help="Store mode: Monte Carlo paths (0: none).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Store mode: seed of the paths.")] = 0,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Store mode: draw the NPV distribution to this PNG.", dir_okay=False),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Value a PPA: settlement and NPV ($), capture price and rate, breakeven fixed price ($/MWh).

    Give --contract, --prices and --generation to value it on files, or
    --hub (and the contract's terms as options) to value it on the store's
    marked forward curve.
    """
    files = {"--contract": contract, "--prices": prices, "--generation": generation}
    if hub is None:
        missing = [name for name, path in files.items() if path is None]
        if missing:
            fail(f"{missing[0]}: give --contract, --prices and --generation, or --hub to value on the store")
        assert contract is not None and prices is not None and generation is not None
        _value_files(contract, prices, generation, discount_rate, side, fmt)
        return
    given = [name for name, path in files.items() if path is not None]
    if given:
        fail(
            f"{given[0]}: a file valuation; --hub values on the store's curve instead. Give one or the other."
        )
    fields = {
        "hub": hub,
        "iso": iso,
        "node": node,
        "as_of": as_of,
        "contract": kind,
        "strike": strike,
        "floor": floor,
        "cap": cap,
        "adder": adder,
        "start": start,
        "term_years": term_years,
        "side": side,
        "technology": technology,
        "capacity_mw": capacity_mw,
        "latitude": latitude,
        "longitude": longitude,
        "discount_rate": discount_rate,
        "paths": paths,
        "seed": seed,
    }
    value_from_store(StoreValuation(fields, data_dir, chart, fmt is PpaFormat.JSON))


def _value_files(
    contract_path: Path, prices_path: Path, generation_path: Path, rate: float, side: str, fmt: PpaFormat
) -> None:
    terms = read_contract(contract_path)
    prices = read_hourly(prices_path, "--prices", "price")
    generation = read_hourly(generation_path, "--generation", "mwh")
    check_aligned(prices, generation)
    if side not in ("buyer", "seller"):
        fail(f"--side: {side!r} is not buyer or seller")
    try:
        valuation = value_ppa(
            terms,
            prices.starts,
            prices.values,
            generation.values,
            DiscountCurve.flat(rate),
            side="seller" if side == "seller" else "buyer",
        )
    except PpaError as exc:
        fail(str(exc))
    document = file_document(valuation)
    if fmt is PpaFormat.JSON:
        print(json.dumps(document))
        return
    table = Table(title=f"PPA settlement ({valuation.side}'s view) by year, $")
    for name in ("year", "volume MWh", "settlement", "discounted"):
        table.add_column(name, justify="right")
    for row in document["annual"]:
        table.add_row(
            str(row["year"]),
            f"{row['volume_mwh']:,.0f}",
            f"{row['settlement']:,.0f}",
            f"{row['discounted']:,.0f}",
        )
    print_table(console, table)
    console.print(
        f"Settlement ${valuation.settlement:,.0f}; NPV ${valuation.npv:,.0f} at {rate:.2%}; "
        f"capture price {valuation.capture_price:,.2f} $/MWh ({valuation.capture_rate:.1%} of baseload); "
        f"breakeven {valuation.breakeven:,.2f} $/MWh."
    )
