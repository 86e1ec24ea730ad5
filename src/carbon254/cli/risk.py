"""`carbon254 risk var|es|stress|backtest`: VaR, ES, stress P&L and VaR backtests on files.

- `var` / `es` `--pnl FILE.csv` (one column `pnl`, one scenario or day per
  row, profit positive): historical-simulation VaR and ES at
  `--confidence`, positive loss amounts ($). `--format json` prints
  `{"var": ..., "es": ...}` (the same document for both commands).
- `backtest --exceedances FILE.csv` (one column `exceedance`, 0 or 1 per
  day): Kupiec, Christoffersen and the Basel zone; `--format json` prints
  `{"n", "x", "kupiec_lr", "kupiec_pvalue", "christoffersen_ind_lr",
  "christoffersen_cc_lr", "basel_zone"}`.
- `stress --positions FILE.csv --shocks FILE.csv`: the P&L ($) of a position
  file (`carbon254.risk.position_file`) under shocks
  `iso,location,block,start,end,change` ($/MWh; block default atc, months
  `YYYY-MM` inclusive, blank for all), per position and book.

A bad file is reported with its line and column, exit code 1.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from carbon254.cli.console import console, fail
from carbon254.cli.output import print_table
from carbon254.risk import (
    BacktestResult,
    RiskError,
    ShockRule,
    StressResult,
    VarEs,
    backtest,
    parse_positions,
    portfolio_factors,
    shocks_from_rules,
    stress,
    var_es,
)
from carbon254.risk.factors import parse_block

risk = typer.Typer(
    name="risk",
    help="Market risk: VaR and ES, stress P&L and VaR backtests ($, $/MWh, MWh).",
    no_args_is_help=True,
)


class RiskFormat(StrEnum):
    """How the risk commands print their result."""

    TABLE = "table"
    JSON = "json"


Confidence = Annotated[
    float, typer.Option("--confidence", help="Confidence level in (0, 1), e.g. 0.99 (0.95, 0.975, 0.999).")
]
Format = Annotated[RiskFormat, typer.Option("--format", help="table, or json.")]


def _rows(path: Path, option: str) -> list[dict[str, str]]:
    """The rows of a CSV file, header names stripped and lower case; exits naming `option` if unreadable."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
            return list(reader)
    except OSError as exc:
        fail(f"{option}: cannot read {path} ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"{option}: {path} is not UTF-8 text")
    except csv.Error as exc:
        fail(f"{option}: {path} is not a readable CSV file ({exc})")


def _column(path: Path, option: str, column: str) -> list[tuple[int, str]]:
    """(line, text) of every row's `column`; exits when the column is missing or there is no row."""
    rows = _rows(path, option)
    if not rows or column not in rows[0]:
        fail(f"{option}: {path} needs a column {column!r} and at least one row")
    return [(line, (row.get(column) or "").strip()) for line, row in enumerate(rows, start=2)]


def read_pnl(path: Path) -> np.ndarray:
    """The P&L ($) of a `pnl` column file; exits naming the line of a value that is not a finite number."""
    values = []
    for line, text in _column(path, "--pnl", "pnl"):
        try:
            value = float(text)
        except ValueError:
            fail(f"--pnl: line {line}, pnl: {text!r} is not a number")
        if not math.isfinite(value):
            fail(f"--pnl: line {line}, pnl: {text!r} is not a finite number")
        values.append(value)
    return np.array(values, dtype=np.float64)


def read_exceedances(path: Path) -> np.ndarray:
    """The 0/1 flags of an `exceedance` column file; exits naming the line of any other value."""
    flags = []
    for line, text in _column(path, "--exceedances", "exceedance"):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if value not in (0.0, 1.0):
            fail(f"--exceedances: line {line}, exceedance: {text!r} is not 0 or 1")
        flags.append(value == 1.0)
    return np.array(flags, dtype=np.bool_)


def _check_confidence(confidence: float) -> None:
    if not (math.isfinite(confidence) and 0.0 < confidence < 1.0):
        fail(f"--confidence: must be strictly between 0 and 1 (e.g. 0.99), got {confidence}")


def _print_var(found: VarEs, scenarios: int) -> None:
    table = Table()
    table.add_column("measure")
    table.add_column("loss ($)", justify="right")
    table.add_row("VaR", f"{found.var:,.2f}")
    table.add_row("ES", f"{found.es:,.2f}")
    print_table(console, table)
    console.print(f"Historical simulation at {found.confidence:.4g} over {scenarios:,} scenarios.")


def _var_command(pnl: Path, confidence: float, fmt: RiskFormat) -> None:
    _check_confidence(confidence)
    values = read_pnl(pnl)
    try:
        found = var_es(values, confidence)
    except RiskError as error:
        fail(f"--pnl: {error}")
    if fmt is RiskFormat.JSON:
        print(json.dumps({"var": found.var, "es": found.es}))
    else:
        _print_var(found, len(values))


PnlFile = Annotated[
    Path,
    typer.Option(
        "--pnl",
        help="CSV with a column pnl: one scenario or day per row, $ (profit positive).",
        dir_okay=False,
    ),
]


@risk.command("var")
def var_command(pnl: PnlFile, confidence: Confidence = 0.99, fmt: Format = RiskFormat.TABLE) -> None:
    """Historical-simulation VaR and ES ($, positive losses) of a P&L sample.

    VaR is the loss at the (1 - C) empirical quantile (linear interpolation
    between the two neighbouring order statistics), ES the mean loss at or
    beyond it. JSON: {"var": ..., "es": ...}.
    """
    _var_command(pnl, confidence, fmt)


@risk.command("es")
def es_command(pnl: PnlFile, confidence: Confidence = 0.99, fmt: Format = RiskFormat.TABLE) -> None:
    """Expected shortfall with its VaR ($, positive losses): the same figures and document as `risk var`."""
    _var_command(pnl, confidence, fmt)


def _backtest_document(result: BacktestResult) -> dict[str, object]:
    return {
        "n": result.n,
        "x": result.x,
        "kupiec_lr": result.kupiec.lr,
        "kupiec_pvalue": result.kupiec.pvalue,
        "christoffersen_ind_lr": result.christoffersen.ind_lr,
        "christoffersen_cc_lr": result.christoffersen.cc_lr,
        "basel_zone": result.basel_zone.value,
    }


@risk.command("backtest")
def backtest_command(
    exceedances: Annotated[
        Path,
        typer.Option("--exceedances", help="CSV with a column exceedance: 0 or 1 per day.", dir_okay=False),
    ],
    confidence: Confidence = 0.99,
    fmt: Format = RiskFormat.TABLE,
) -> None:
    """Kupiec's and Christoffersen's tests and the Basel traffic light of a VaR exceedance series.

    Basel zones use the binomial probability of the exceptions (green below
    95%, red from 99.99%): green 0-4, yellow 5-9, red 10+ for 250 days at 99%.
    """
    _check_confidence(confidence)
    flags = read_exceedances(exceedances)
    try:
        result = backtest(flags, confidence)
    except RiskError as error:
        fail(f"--exceedances: {error}")
    if fmt is RiskFormat.JSON:
        print(json.dumps(_backtest_document(result)))
        return
    c = result.christoffersen
    table = Table(title=f"VaR backtest at {confidence:.4g}: {result.x} exceedances in {result.n} days")
    for name in ("test", "statistic", "p-value"):
        table.add_column(name, justify="left" if name == "test" else "right")
    table.add_row("Kupiec (proportion of failures)", f"{result.kupiec.lr:.4f}", f"{result.kupiec.pvalue:.4f}")
    table.add_row("Christoffersen independence", f"{c.ind_lr:.4f}", f"{c.ind_pvalue:.4f}")
    table.add_row("Christoffersen conditional coverage", f"{c.cc_lr:.4f}", f"{c.cc_pvalue:.4f}")
    print_table(console, table)
    console.print(f"Expected {result.expected:.1f} exceedances; Basel zone: {result.basel_zone.value}.")


def _month(text: str, line: int, name: str) -> date | None:
    if not text:
        return None
    try:
        year, month = (int(p) for p in text.split("-")[:2])
        return date(year, month, 1)
    except ValueError:
        fail(f"--shocks: line {line}, {name}: {text!r} is not a month YYYY-MM")


def read_shocks(path: Path) -> list[ShockRule]:
    """The shock rules of a shocks file (`iso,location,block,start,end,change`); exits naming a bad line."""
    rows = _rows(path, "--shocks")
    needed = {"iso", "location", "change"}
    if not rows or not needed <= set(rows[0]):
        fail(f"--shocks: {path} needs the columns iso,location,change (block,start,end optional) and a row")
    rules = []
    for line, row in enumerate(rows, start=2):
        text = {k: (v or "").strip() for k, v in row.items() if k is not None}
        try:
            change = float(text["change"])
        except ValueError:
            fail(f"--shocks: line {line}, change: {text['change']!r} is not a number ($/MWh)")
        try:
            block = parse_block(text.get("block") or "atc")
            start = _month(text.get("start", ""), line, "start")
            end = _month(text.get("end", ""), line, "end")
            rules.append(ShockRule(text["iso"], text["location"], block, start, end, change=change))
        except RiskError as error:
            fail(f"--shocks: line {line}: {error}")
    return rules


def _stress_document(result: StressResult) -> dict[str, object]:
    return {
        "name": result.name,
        "pnl": result.pnl,
        "positions": [
            {"id": i, "book": b, "pnl": float(p)}
            for i, b, p in zip(result.ids, result.books, result.position_pnl, strict=True)
        ],
        "books": [
            {"book": b, "pnl": float(p)} for b, p in zip(result.book_nodes, result.book_pnl, strict=True)
        ],
    }


@risk.command("stress")
def stress_command(
    positions: Annotated[
        Path, typer.Option("--positions", help="Position CSV (forward, basis, load rows).", dir_okay=False)
    ],
    shocks: Annotated[
        Path,
        typer.Option("--shocks", help="CSV iso,location,block,start,end,change ($/MWh).", dir_okay=False),
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Value delivery from this day on (YYYY-MM-DD).")
    ] = None,
    fmt: Format = RiskFormat.TABLE,
) -> None:
    """The P&L ($) of a book when prices move by the shocks, per position and per book node.

    Each shock moves the location's block prices (atc: every block) over
    its months (blank: all, and spot) by `change` $/MWh; shocks add up.
    """
    when: date | None = None
    if as_of is not None:
        try:
            when = date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of: {as_of!r} is not a date YYYY-MM-DD")
    try:
        text = positions.read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(f"--positions: cannot read {positions} ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"--positions: {positions} is not UTF-8 text")
    rules = read_shocks(shocks)
    try:
        portfolio = parse_positions(text, positions.stem)
    except RiskError as error:
        fail(f"--positions: {error}")
    try:
        factors = portfolio_factors(portfolio, as_of=when)
        result = stress(portfolio, shocks_from_rules(shocks.stem, factors, rules), as_of=when)
    except RiskError as error:
        fail(str(error))
    if fmt is RiskFormat.JSON:
        print(json.dumps(_stress_document(result)))
        return
    table = Table(title=f"Stress {result.name}: P&L ${result.pnl:,.2f}")
    table.add_column("book")
    table.add_column("P&L ($)", justify="right")
    for book, pnl in zip(result.book_nodes, result.book_pnl, strict=True):
        table.add_row(book or "(portfolio)", f"{pnl:,.2f}")
    print_table(console, table)
    detail = Table(title="By position")
    for name in ("id", "book", "P&L ($)"):
        detail.add_column(name, justify="right" if name == "P&L ($)" else "left")
    for position_id, book, pnl in zip(result.ids, result.books, result.position_pnl, strict=True):
        detail.add_row(position_id, book, f"{pnl:,.2f}")
    print_table(console, detail)
