"""`carbon254 risk portfolio save|list|show|backtest`: portfolios in the data dir's metadata database.

`save NAME --positions FILE.csv` checks a position file (every bad line and
field reported, nothing stored) and saves it as the next version of NAME;
`list` shows the latest version of each; `show NAME` prints a version's
position file; `backtest NAME --chart FILE.png` runs the `risk_backtest`
operation on the stored prices and draws it. The measures are the
generated `carbon254 risk portfolio-var|portfolio-es|attribution|
portfolio-stress|portfolio-backtest` commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS
from carbon254.application.operations.risk import (
    RISK_BACKTEST,
    BacktestRequest,
    backtest_document,
    run_backtest,
)
from carbon254.application.risk import books, find_book, save_book
from carbon254.cli.console import console, fail
from carbon254.cli.operations import option_message
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import print_table
from carbon254.cli.tenants import open_metadata
from carbon254.config import Settings
from carbon254.reports.risk_chart import backtest_png
from carbon254.store import open_store

portfolio = typer.Typer(
    name="portfolio",
    help="Risk portfolios saved by name (each save a version): save, list, show, backtest.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The portfolio's name (any case).")]
Version = Annotated[int | None, typer.Option("--version", help="A version (default: the latest).")]


@portfolio.command("save")
def save_command(
    name: Name,
    positions: Annotated[
        Path, typer.Option("--positions", help="Position CSV (forward, basis, load rows).", dir_okay=False)
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Check a position file and save it as the next version of NAME; bad lines are listed, nothing saved."""
    try:
        text = positions.read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(f"--positions: cannot read {positions} ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"--positions: {positions} is not UTF-8 text")
    db = open_metadata(data_dir)
    try:
        record = save_book(db, ANONYMOUS, name, text)
    except ApiError as exc:
        fail(option_message(exc).replace("--positions: positions:", "--positions:"))
    finally:
        db.close()
    console.print(f"Saved portfolio {record.name} version {record.version}: {record.positions} positions.")


@portfolio.command("list")
def list_command(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """The saved portfolios, each at its latest version."""
    db = open_metadata(data_dir)
    try:
        records = books(db, ANONYMOUS)
    finally:
        db.close()
    if not records:
        console.print(
            "No portfolios; save one with `carbon254 risk portfolio save NAME --positions FILE.csv`."
        )
        return
    table = Table(title="Risk portfolios")
    for column in ("name", "version", "positions", "saved (UTC)"):
        table.add_column(column, justify="right" if column in ("version", "positions") else "left")
    for r in records:
        table.add_row(r.name, str(r.version), str(r.positions), f"{r.created_at:%Y-%m-%d %H:%M}")
    print_table(console, table)


@portfolio.command("show")
def show_command(name: Name, version: Version = None, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Print a portfolio version's position file (CSV) as saved."""
    db = open_metadata(data_dir)
    try:
        record, _ = find_book(db, ANONYMOUS, name, version, "name")
    except ApiError as exc:
        fail(exc.message.removeprefix("name: "))
    finally:
        db.close()
    print(record.csv, end="" if record.csv.endswith("\n") else "\n")


@portfolio.command("backtest")
def backtest_command(
    name: Name,
    version: Version = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Market day the history ends on (default: today).")
    ] = None,
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence level.")] = 0.99,
    window: Annotated[int, typer.Option("--window", help="Days each day's VaR is estimated on.")] = 100,
    days: Annotated[int, typer.Option("--days", help="Days tested (Basel: 250).")] = 250,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Write the P&L, VaR and exceedances as a PNG.", dir_okay=False),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the tests as JSON.")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Today's book on each past day's price changes against the rolling historical VaR, tested and drawn."""
    request = BacktestRequest(
        portfolio=name, version=version, as_of=as_of, confidence=confidence, window=window, days=days
    )
    db = open_metadata(data_dir)
    store = open_store(data_dir)
    try:
        call = RISK_BACKTEST.call(store, Settings(data_dir=data_dir), ANONYMOUS, request, db)
        inputs, _ = call.read(store)
        run = run_backtest(call.checked, inputs)
    except ApiError as exc:
        fail(option_message(exc))
    finally:
        store.close()
        db.close()
    document = backtest_document(run.result)
    if chart is not None:
        plan = call.checked.plan
        title = f"{plan.record.name} v{plan.record.version}: VaR {confidence:g} backtest"
        try:
            chart.write_bytes(backtest_png(run.dates, run.pnl, run.var, title, confidence))
        except OSError as exc:
            fail(f"--chart: cannot write {chart} ({exc.strerror or exc})")
    if json_out:
        print(json.dumps(document))
        return
    console.print(
        f"{document['x']} exceedances in {document['n']} days (expected {document['expected']:.1f}); "
        f"Kupiec LR {document['kupiec_lr']:.3f} (p {document['kupiec_pvalue']:.3f}), Christoffersen "
        f"cc LR {document['christoffersen_cc_lr']:.3f}; Basel zone {document['basel_zone']}."
    )
    if chart is not None:
        console.print(f"Wrote {chart}")
