"""`carbon254 curve build|chart` (and the generated `show|hpfc|diff|history|node`): forward curves.

`build` marks a curve from a quotes file and stores it in the data dir's
metadata database (the service then serves it); `--format json` prints
`{"months": [{"month", "block", "price"}, ...]}`. `chart` draws a marked
curve, its HPFC or a scenario of it to a PNG. The read commands are
generated from their operation declarations (`application.operations.curves`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from carbon254.application.curves import (
    MarkedCurve,
    find_mark,
    mark_curve,
    months_document,
    parse_day,
    parse_month,
    quotes_from_csv,
    quotes_from_json,
)
from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS
from carbon254.application.operations.curves import mark_hpfc
from carbon254.cli.console import console, fail
from carbon254.cli.operations import option_message
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import print_table
from carbon254.cli.tenants import open_metadata
from carbon254.config import Settings
from carbon254.curves import Quote
from carbon254.reports.curve_chart import CurveSeries, curve_png
from carbon254.store import open_store

curve = typer.Typer(
    name="curve",
    help="Forward curves: mark one from quotes, show it, shape it to hours, diff two marks ($/MWh).",
    no_args_is_help=True,
)

T = TypeVar("T")


class CurveFormat(StrEnum):
    """How `curve build` prints the fitted curve."""

    TABLE = "table"
    JSON = "json"


def checked(action: Callable[[], T], *, positional: str | None = None) -> T:
    """Run `action`; an `ApiError` exits with its message, naming the option at fault.

    `positional` is a parameter the command takes as an argument, not an
    option: its errors are shown as they are, without `--`.
    """
    try:
        return action()
    except ApiError as exc:
        fail(exc.message if exc.parameter == positional else option_message(exc))


def read_quotes(path: Path, as_of: date) -> list[Quote]:
    """The quotes of a CSV file, or of a JSON list when the name ends in .json; exits naming --quotes."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(f"--quotes: cannot read {path} ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"--quotes: {path} is not UTF-8 text")
    if path.suffix.lower() != ".json":
        return checked(lambda: quotes_from_csv(text, as_of))
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"--quotes: {path} is not JSON (line {exc.lineno}: {exc.msg})")
    if not isinstance(records, list):
        fail(f"--quotes: {path} must hold a JSON list of quotes")
    return checked(lambda: quotes_from_json(records, as_of))


@curve.command("build")
def build(
    iso: Annotated[str, typer.Option("--iso", help="ISO/RTO of the hub, e.g. ERCOT, PJM, CAISO.")],
    hub: Annotated[str, typer.Option("--hub", help="The hub marked, e.g. HB_NORTH or WESTERN HUB.")],
    as_of: Annotated[str, typer.Option("--as-of", help="The market day of the marks (YYYY-MM-DD).")],
    quotes: Annotated[
        Path,
        typer.Option(
            "--quotes",
            help="CSV with columns start,end,block,price (start inclusive, end exclusive; block "
            "onpeak|offpeak|atc|2x16|7x8), or contract,block,price with labels like Jan27, Q1 27, Cal27, "
            "BOM; or a .json list of such objects.",
            dir_okay=False,
        ),
    ],
    fmt: Annotated[
        CurveFormat, typer.Option("--format", help='table, or json: {"months": [{month, block, price}]}.')
    ] = CurveFormat.TABLE,
    through: Annotated[
        str | None,
        typer.Option("--through", help="Extend the curve past the last quote to this month (YYYY-MM)."),
    ] = None,
    save: Annotated[
        bool, typer.Option("--save/--no-save", help="Store the mark in the data dir, or only fit it.")
    ] = True,
    prior: Annotated[
        bool,
        typer.Option(
            "--prior/--no-prior",
            help="Shape months quoted only inside longer contracts (calendars) seasonally: by a year or "
            "more of the hub's stored prices, else by the curve's own front year when it is quoted finely.",
        ),
    ] = True,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Mark a forward curve for a hub from quotes: arbitrage-free, maximally smooth monthly block prices.

    Each quote's price equals the average of its months' prices weighted by
    each month's hours in its block (ISO market time, NERC holidays
    off-peak). Overlapping contracts are reconciled; contradictory ones are
    refused, naming them. The mark is stored as a new version for the hub
    and day, which `curve show`, `/v1/curves` and Excel then read.
    """
    day = checked(lambda: parse_day("as_of", as_of))
    parsed = read_quotes(quotes, day)
    end = checked(lambda: parse_month("through", through)) if through else None
    db = open_metadata(data_dir) if save else None
    store = open_store(data_dir) if (data_dir / "store").is_dir() else None
    try:
        marked = checked(
            lambda: mark_curve(
                db,
                ANONYMOUS,
                iso=iso,
                hub=hub,
                as_of=day,
                quotes=parsed,
                through=end,
                store=store,
                settings=Settings(data_dir=data_dir),
                use_prior=prior,
                save=save,
            )
        )
    finally:
        if store is not None:
            store.close()
        if db is not None:
            db.close()
    if fmt is CurveFormat.JSON:
        print(json.dumps(months_document(marked.curve)))
    else:
        _print_mark(marked)


def _print_mark(marked: MarkedCurve) -> None:
    curve_ = marked.curve
    title = f"{curve_.iso} {curve_.hub} as of {curve_.as_of} ($/MWh)"
    if marked.mark is not None:
        title += f" · version {marked.mark.version}"
    table = Table(title=title)
    table.add_column("month")
    for block in curve_.blocks:
        table.add_column(block.value, justify="right")
    for i, month in enumerate(curve_.months):
        extrapolated = " *" if month >= curve_.quoted_through else ""
        table.add_row(f"{month:%Y-%m}{extrapolated}", *(f"{p:,.2f}" for p in curve_.prices[i]))
    print_table(console, table)
    if any(m >= curve_.quoted_through for m in curve_.months):
        console.print("* extrapolated past the last quote")
    if marked.prior == "history":
        console.print("Months inside longer contracts follow the hub's seasonal shape from stored prices.")
    elif marked.prior == "front year":
        console.print("Months inside longer contracts follow the seasonal shape of the curve's front year.")
    for implied in marked.implied:
        console.print(f"Redundant: {implied.quote.name}; the other quotes imply {implied.implied_price:,.4f}")


@curve.command("chart")
def chart(
    hub: Annotated[str, typer.Option("--hub", help="The hub, as marked (any case).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The PNG file to write.", dir_okay=False)],
    iso: Annotated[
        str | None, typer.Option("--iso", help="ISO/RTO (needed if two ISOs mark the hub).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Market day of the mark (default: latest).")
    ] = None,
    hpfc: Annotated[
        bool, typer.Option("--hpfc", help="Draw the hourly curve under the monthly prices.")
    ] = False,
    against: Annotated[
        str | None, typer.Option("--against", help="Also draw the mark of this earlier day (dashed).")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Draw a marked curve to a PNG: block prices by month, optionally its HPFC and an earlier mark."""
    if output.suffix.lower() != ".png":
        fail("--output: the chart is a PNG; name the file *.png")
    db = open_metadata(data_dir)
    store = open_store(data_dir)
    try:
        mark = checked(lambda: find_mark(db, ANONYMOUS, iso, hub, as_of))
        series = [CurveSeries(mark.curve, f"{mark.curve.as_of}")]
        if against:
            earlier = checked(lambda: find_mark(db, ANONYMOUS, mark.curve.iso, hub, against))
            series.append(CurveSeries(earlier.curve, f"{earlier.curve.as_of}", dashed=True))
        hourly = (
            checked(lambda: mark_hpfc(store, Settings(data_dir=data_dir), ANONYMOUS, db, mark))
            if hpfc
            else None
        )
    finally:
        store.close()
        db.close()
    try:
        output.write_bytes(curve_png(series, hourly))
    except OSError as exc:
        fail(f"--output: cannot write {output} ({exc.strerror or exc})")
    console.print(f"Wrote {output}")
