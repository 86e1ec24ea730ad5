"""Position files: a CSV of forwards, basis, load, PPA and battery positions, checked line by line.

Columns (header on line 1, any order, names case-insensitive):

| column | kinds | meaning |
|---|---|---|
| id | all | unique position id |
| book | all | book path, e.g. `Power/East/Forwards` |
| kind | all | `forward`, `basis`, `load`, `ppa` or `battery` |
| iso | all | ISO name (ERCOT, PJM, ...) |
| location | all | forward: hub; basis: node; load: zone or hub; ppa: where it settles; battery: node |
| hub | basis | the hub of node minus hub |
| block | forward, basis | onpeak, offpeak, atc, 2x16, 7x8 (also 5x16, 7x24) |
| start, end | all | first and last delivery month, `YYYY-MM` (inclusive) |
| mw | forward, basis, ppa, battery | MW, long positive; a PPA's plant capacity, a battery's power |
| price | forward, basis | trade price $/MWh (optional, 0) |
| volume_mwh | load | MWh served over the period |
| shape | load | 24 weights for hour-ending 1-24, `;`-separated (optional, flat) |
| contract | ppa | the PPA engine's contract as JSON, e.g. `{"type": "fixed", "strike": 45}` |
| technology | ppa | `solar` (default) or `flat` |
| side | ppa | `buyer` (default, the offtaker) or `seller` |
| energy_mwh | battery | the battery's energy, MWh |

Every bad field of every line is reported (`PositionFileError.problems`,
with the line and column), and nothing is returned unless all are good: a
file is taken whole or not at all. A PPA's or battery's hourly position
comes from its engine when the book is measured (`carbon254.risk.engines`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from carbon254.ppa.contracts import Contract, parse_contract
from carbon254.ppa.errors import PpaError
from carbon254.risk.errors import PositionError, PositionFileError, PositionProblem, RiskError
from carbon254.risk.factors import normalize_iso, parse_block
from carbon254.risk.positions import (
    FLAT_SHAPE,
    PPA_SIDES,
    PPA_TECHNOLOGIES,
    BasisPosition,
    BatteryPosition,
    ForwardPosition,
    LoadObligation,
    Portfolio,
    Position,
    PpaPosition,
    book_path,
)
from carbon254.timeseries.periods import Block

REQUIRED = ("id", "book", "kind", "iso", "location", "start", "end")
OPTIONAL = (
    "hub",
    "block",
    "mw",
    "price",
    "volume_mwh",
    "shape",
    "contract",
    "technology",
    "side",
    "energy_mwh",
)
KINDS = ("forward", "basis", "load", "ppa", "battery")
# Columns that belong to one kind only: any other kind's line leaves them empty.
ONLY = {"contract": "ppa", "technology": "ppa", "side": "ppa", "energy_mwh": "battery"}
T = TypeVar("T")


class _Line:
    """One row being read: its fields by column, and the problems found so far."""

    def __init__(self, number: int, row: dict[str, str], problems: list[PositionProblem]) -> None:
        self.number = number
        self.row = row
        self.problems = problems
        self.ok = True

    def text(self, name: str) -> str:
        return (self.row.get(name) or "").strip()

    def bad(self, name: str, message: str) -> None:
        self.problems.append(PositionProblem(self.number, name, message))
        self.ok = False

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.bad(name, "required")
        return value

    def parsed(self, name: str, parse: Callable[[str], T], *, required: bool = True) -> T | None:
        value = self.text(name)
        if not value:
            if required:
                self.bad(name, "required")
            return None
        try:
            return parse(value)
        except PositionError as error:
            self.bad(name, error.message)
            return None
        except (ValueError, RiskError) as error:
            self.bad(name, str(error))
            return None

    def absent(self, name: str, kind: str) -> None:
        if self.text(name):
            self.bad(name, f"a {kind} position has no {name}")


def _month(text: str) -> date:
    try:
        parts = [int(p) for p in text.split("-")]
    except ValueError:
        parts = []
    if len(parts) == 2 or (len(parts) == 3 and parts[2] == 1):
        try:
            return date(parts[0], parts[1], 1)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a delivery month YYYY-MM")


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _shape(text: str) -> tuple[float, ...]:
    weights = tuple(_number(p) for p in text.replace(";", " ").split())
    if len(weights) != 24:
        raise ValueError(f"needs 24 weights (hour-ending 1-24) separated by ';', got {len(weights)}")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    return weights


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise ValueError(f"must be positive, got {text!r}")
    return value


def _contract(text: str) -> Contract:
    """A PPA contract from its JSON text; ValueError naming what the PPA engine refuses."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f'is not JSON ({error.msg}); e.g. {{"type": "fixed", "strike": 45}}') from None
    if not isinstance(document, dict):
        raise ValueError('must be a JSON object such as {"type": "fixed", "strike": 45}')
    try:
        return parse_contract(document)
    except PpaError as error:
        raise ValueError(str(error)) from None


def _one_of(name: str, options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in options:
            raise ValueError(f"{text!r} is not one of {', '.join(options)}")
        return value

    return parse


def _position(line: _Line) -> Position | None:
    kind = line.required("kind").lower()
    if kind and kind not in KINDS:
        line.bad("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        return None
    common = (
        line.required("id"),
        line.parsed("book", book_path) or "",
        line.parsed("iso", normalize_iso) or "",
    )
    location = line.required("location")
    start = line.parsed("start", _month)
    end = line.parsed("end", _month)
    if start is not None and end is not None and end < start:
        line.bad("end", f"{end:%Y-%m} is before start {start:%Y-%m}")
    for column, owner in ONLY.items():
        if kind != owner:
            line.absent(column, kind)
    if kind in ("ppa", "battery"):
        for column in ("hub", "block", "price", "volume_mwh", "shape"):
            line.absent(column, kind)
        mw = line.parsed("mw", _positive)
        if kind == "battery":
            energy = line.parsed("energy_mwh", _positive)
            if not line.ok or start is None or end is None or mw is None or energy is None:
                return None
            return BatteryPosition(*common, location, start, end, mw, energy)
        contract = line.parsed("contract", _contract)
        technology = line.parsed("technology", _one_of("technology", PPA_TECHNOLOGIES), required=False)
        side = line.parsed("side", _one_of("side", PPA_SIDES), required=False)
        if not line.ok or start is None or end is None or mw is None or contract is None:
            return None
        return PpaPosition(
            *common, location, start, end, mw, contract, technology or "solar", side or "buyer"
        )
    if kind == "load":
        line.absent("mw", kind)
        line.absent("hub", kind)
        block = line.parsed("block", parse_block, required=False)
        if block is not None and block is not Block.ATC:
            line.bad(
                "block", "a load obligation covers every hour (its shape weighs them): leave block empty"
            )
        volume = line.parsed("volume_mwh", _number)
        shape = line.parsed("shape", _shape, required=False)
        if not line.ok or start is None or end is None or volume is None:
            return None
        return LoadObligation(
            *common, location, start, end, volume, shape if shape is not None else FLAT_SHAPE
        )
    line.absent("volume_mwh", kind)
    line.absent("shape", kind)
    block = line.parsed("block", parse_block)
    mw = line.parsed("mw", _number)
    price = line.parsed("price", _number, required=False) or 0.0
    if kind == "basis":
        hub = line.required("hub")
        if not line.ok or start is None or end is None or block is None or mw is None:
            return None
        return BasisPosition(*common, location, hub, block, start, end, mw, price)
    hub = line.text("hub")
    if hub and hub != location:
        line.bad("hub", f"a forward's hub is its location ({location}); hub {hub!r} differs")
    if not line.ok or start is None or end is None or block is None or mw is None:
        return None
    return ForwardPosition(*common, location, block, start, end, mw, price)


def parse_positions(csv_text: str, name: str = "portfolio") -> Portfolio:
    """The portfolio a position file holds (columns in the module docstring).

    Raises PositionFileError listing every problem with its line (the
    header is line 1) and column: a missing or unknown column, a missing
    or malformed field, an unknown ISO or block, a duplicate id, a file
    with no positions.
    """
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise PositionFileError([PositionProblem(1, "header", "the file is empty: no positions")])
    problems: list[PositionProblem] = []
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in REQUIRED and h not in OPTIONAL]
    for column in missing:
        problems.append(PositionProblem(1, column, "missing column"))
    for column in unknown:
        problems.append(
            PositionProblem(
                1, column or "(blank)", f"unknown column; expected {', '.join(REQUIRED + OPTIONAL)}"
            )
        )
    if missing or unknown:
        raise PositionFileError(problems)
    reader.fieldnames = header
    positions: list[Position] = []
    first_line: dict[str, int] = {}
    for row in reader:
        line = _Line(reader.line_num, {k: v for k, v in row.items() if k is not None}, problems)
        if None in row:
            line.bad("columns", f"{len(header) + len(row[None])} fields for {len(header)} columns")
            continue
        try:
            position = _position(line)
        except PositionError as error:
            line.bad(error.field, error.message)
            continue
        if position is None:
            continue
        if position.id in first_line:
            line.bad("id", f"{position.id!r} is already the id of line {first_line[position.id]}")
            continue
        first_line[position.id] = line.number
        positions.append(position)
    if problems:
        raise PositionFileError(problems)
    if not positions:
        raise PositionFileError([PositionProblem(1, "rows", "the file has no positions")])
    return Portfolio(name, tuple(positions))
