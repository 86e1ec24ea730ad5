"""The files `carbon254 ppa value` reads: a contract (JSON) and hourly prices and generation (CSV).

Prices are `interval_start,price` ($/MWh) and generation
`interval_start,mwh` (MWh per hour); times are ISO-8601, an offset or `Z`
giving the instant and a time without one read as UTC. The two files must
cover the same hours: the first hour in one and not the other is named.
Every mistake exits with the option, line and field at fault.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from carbon254.cli.console import fail
from carbon254.ppa import Contract, PpaError, parse_contract

US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True, slots=True)
class HourlyFile:
    """One CSV's hours (UTC starts, µs since the epoch, ascending) and values."""

    starts: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


def read_contract(path: Path) -> Contract:
    """The contract in a JSON file, e.g. `{"type": "fixed", "strike": 45}`; exits naming the bad field."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        fail(f"--contract: cannot read {path} ({exc.strerror or exc})")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"--contract: {path} is not JSON ({exc})")
    if not isinstance(document, dict):
        fail(f'--contract: {path} must hold a JSON object such as {{"type": "fixed", "strike": 45}}')
    try:
        return parse_contract(document)
    except PpaError as exc:
        fail(f"--contract: {exc}")


def _instant(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def read_hourly(path: Path, option: str, column: str) -> HourlyFile:
    """The hours and `column` of an `interval_start,<column>` CSV; exits naming `option` and the bad line.

    The rows must be whole hours, one per hour, in time order with no
    repeats (gaps are allowed: a PPA settles the hours it has prices for).
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        fail(f"{option}: cannot read {path} ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"{option}: {path} is not UTF-8 text")
    if not rows or not {"interval_start", column} <= set(rows[0]):
        fail(f"{option}: {path} needs the columns interval_start,{column} and at least one row")
    starts = np.empty(len(rows), dtype=np.int64)
    values = np.empty(len(rows), dtype=np.float64)
    for i, row in enumerate(rows):
        line = i + 2
        text = (row["interval_start"] or "").strip()
        try:
            starts[i] = _instant(text)
        except ValueError:
            fail(f"{option}: line {line}, interval_start: {text!r} is not an ISO-8601 time")
        if starts[i] % US_PER_HOUR:
            fail(f"{option}: line {line}, interval_start: {text!r} does not start an hour")
        try:
            values[i] = float(row[column])
        except (TypeError, ValueError):
            fail(f"{option}: line {line}, {column}: {row[column]!r} is not a number")
        if not math.isfinite(values[i]):
            fail(f"{option}: line {line}, {column}: {row[column]!r} is not a finite number")
        if i and starts[i] <= starts[i - 1]:
            fail(
                f"{option}: line {line}, interval_start: {text!r} is not after the line before "
                "(hourly rows in order)"
            )
    return HourlyFile(starts, values)


def check_aligned(prices: HourlyFile, generation: HourlyFile) -> None:
    """Exit naming the first hour only one of the two files has (they must cover the same hours)."""
    if np.array_equal(prices.starts, generation.starts):
        return
    only_prices = np.setdiff1d(prices.starts, generation.starts)
    only_generation = np.setdiff1d(generation.starts, prices.starts)
    option, hour = ("--generation", only_prices[0]) if len(only_prices) else ("--prices", only_generation[0])
    when = datetime.fromtimestamp(int(hour) / 1e6, UTC).isoformat().replace("+00:00", "Z")
    count = len(only_prices) + len(only_generation)
    fail(f"{option}: has no row for {when} ({count} hours are in one file and not the other)")
