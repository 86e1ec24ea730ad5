"""Positions to factor exposures: MWh each position holds of each factor, a sparse positions x factors matrix.

Every position is first cut into delivery buckets: MWh per (location,
month, base block) on the ISO's market clock, from `as_of` on (hours
already delivered carry no price risk). A bucket then maps to one factor
of the same ISO and location, the finest one whose hours contain it:

1. the month's factor of the bucket's own block (onpeak, 2x16 or 7x8),
   else of `offpeak` (for 2x16 and 7x8 hours), else of `atc`;
2. failing any monthly factor, the location's spot factor, same order.

A caller may restrict monthly factors to some positions (`monthly`): the
others map straight onto spot factors (a load or basis position measured
on day-ahead prices while the book's forwards are measured on curves).

So a 7x24 forward maps to onpeak + 2x16 + 7x8 factors when the history
has them, to onpeak + offpeak, or to atc, and a book can be measured on
spot prices alone. A bucket with no factor at all is an error
(`UnknownFactor`) naming the position, location, month and block.

An exposure is $ of P&L per $/MWh of factor move (= signed MWh). It is
linear in the position's `amount`: the matrix holds exposures per unit
amount (`unit`) and scaled by the amounts (`mwh`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import sparse

from carbon254.isos import iso_info
from carbon254.risk.errors import RiskError, UnknownFactor
from carbon254.risk.factors import BASE_BLOCKS, RiskFactor, base_blocks
from carbon254.risk.hours import classify, hour_counts, month_code, month_of
from carbon254.risk.positions import (
    BasisPosition,
    BatteryPosition,
    ForwardPosition,
    LoadObligation,
    Portfolio,
    Position,
    PpaPosition,
)
from carbon254.timeseries._clock import DAY, clock_for
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int64]

_EPOCH = date(1970, 1, 1)
_SPOT = -1  # month code of a spot factor in the lookup
# The factor blocks a base block's hours may map to, finest first.
_CONTAINING = (
    (Block.ONPEAK, Block.ATC),
    (Block.TWO_BY_16, Block.OFFPEAK, Block.ATC),
    (Block.SEVEN_BY_8, Block.OFFPEAK, Block.ATC),
)
_MAX_REPORTED = 8


@dataclass(frozen=True, slots=True)
class Bucket:
    """MWh per unit of a position's amount at one location, by (month code, base block code)."""

    location: str
    month: Codes
    base: Codes
    mwh: Floats


def _next_month(month: date) -> date:
    return month_of(month_code(month) + 1)


def _strip_hours(iso: str, start: date, end: date, as_of: date | None) -> tuple[Codes, Codes, Floats]:
    """Hours per (month, base block) of months `start`..`end` from `as_of` on, as flat bucket arrays."""
    first = start if as_of is None else max(start, as_of)
    counts = hour_counts(iso, first, _next_month(end))
    hours = counts.counts.sum(axis=2)
    month, base = np.nonzero(hours)
    return month + counts.first_month, base, hours[month, base].astype(np.float64)


def _in_block(base: Codes, block: Block) -> npt.NDArray[np.bool_]:
    return np.isin(base, [BASE_BLOCKS.index(b) for b in base_blocks(block)])


def buckets(position: Position, as_of: date | None = None) -> list[Bucket]:
    """The position's delivery buckets from `as_of` on: MWh per unit amount by location, month, base block.

    Forwards and basis: hours of the block (per MW; basis long the node,
    short the hub). Load: minus the shaped share of one MWh of volume
    falling in each bucket. Hourly: MW x interval hours (profile scale 1).
    PPA and battery positions have no buckets until their engines have
    made them hourly (`carbon254.risk.engines.engine_positions`): RiskError.
    """
    if isinstance(position, PpaPosition | BatteryPosition):
        kind = "PPA" if isinstance(position, PpaPosition) else "battery"
        raise RiskError(
            f"position {position.id}: a {kind} position is measured on its hourly position; "
            "make it with carbon254.risk.engine_positions first"
        )
    if isinstance(position, ForwardPosition | BasisPosition):
        month, base, hours = _strip_hours(position.iso, position.start, position.end, as_of)
        keep = _in_block(base, position.block)
        month, base, hours = month[keep], base[keep], hours[keep]
        if isinstance(position, ForwardPosition):
            return [Bucket(position.hub, month, base, hours)]
        return [Bucket(position.node, month, base, hours), Bucket(position.hub, month, base, -hours)]
    if isinstance(position, LoadObligation):
        shape = np.asarray(position.shape, dtype=np.float64)
        whole = hour_counts(position.iso, position.start, _next_month(position.end)).counts
        total = float((whole * shape).sum())
        first = position.start if as_of is None else max(position.start, as_of)
        counts = hour_counts(position.iso, first, _next_month(position.end))
        weighted = (counts.counts * shape).sum(axis=2)
        month, base = np.nonzero(weighted)
        if total <= 0:
            raise RiskError(f"position {position.id}: its shape gives no weight to any hour of its period")
        return [Bucket(position.location, month + counts.first_month, base, -weighted[month, base] / total)]
    starts, mw = position.starts, position.mw
    if as_of is not None:
        zone = iso_info(position.iso).timezone
        midnight = np.array([(as_of - _EPOCH).days * DAY], dtype=np.int64)
        cutoff = int(clock_for(zone, midnight).to_utc(midnight)[0])
        keep = starts >= cutoff
        starts, mw = starts[keep], mw[keep]
    kinds = classify(position.iso, starts)
    if len(starts) == 0:
        return [Bucket(position.location, kinds.month, kinds.base, np.zeros(0))]
    lowest = int(kinds.month.min())
    cell = (kinds.month - lowest) * 3 + kinds.base
    mwh = np.bincount(cell, weights=mw * position.interval_hours)
    used = np.flatnonzero(mwh != 0).astype(np.int64)
    energy: Floats = mwh[used].astype(np.float64)
    return [Bucket(position.location, used // 3 + lowest, used % 3, energy)]


class _Resolver:
    """Bucket -> factor column, by the rule of the module docstring, remembering what it resolved."""

    def __init__(self, factors: Sequence[RiskFactor]) -> None:
        self.columns: dict[tuple[str, str, int, Block], int] = {}
        self.locations: dict[str, set[str]] = {}
        for i, f in enumerate(factors):
            key = (f.iso, f.location, _SPOT if f.month is None else month_code(f.month), f.block)
            self.columns[key] = i
            self.locations.setdefault(f.iso, set()).add(f.location)
        self.memo: dict[tuple[str, str, int, int], int | None] = {}

    def column(self, iso: str, location: str, month: int, base: int, monthly: bool = True) -> int | None:
        key = (iso, location, month if monthly else _SPOT, base)
        if key not in self.memo:
            found = None
            for when in (month, _SPOT) if monthly else (_SPOT,):
                for block in _CONTAINING[base]:
                    found = self.columns.get((iso, location, when, block))
                    if found is not None:
                        break
                if found is not None:
                    break
            self.memo[key] = found
        return self.memo[key]

    def problem(self, position: Position, location: str, month: int, base: int) -> str:
        if location not in self.locations.get(position.iso, set()):
            known = ", ".join(sorted(self.locations.get(position.iso, set()))) or "none"
            return f"position {position.id}: no risk factor for {position.iso} {location} (known: {known})"
        blocks = ", ".join(b.value for b in _CONTAINING[base])
        return (
            f"position {position.id}: no risk factor for {position.iso} {location} "
            f"{month_of(month):%Y-%m} ({blocks}) nor a spot factor"
        )


@dataclass(frozen=True, slots=True, eq=False)
class ExposureMatrix:
    """Positions x factors exposures ($ per $/MWh, i.e. signed MWh), sparse.

    Rows follow `ids` (with each position's `books` path and `amounts`),
    columns `factors`; `amount_units` say what each amount is in.
    `mwh[i, f]` is position i's exposure to factor f; `unit[i, f]` the
    same per unit of the position's amount (so `mwh` is `amounts` x `unit`
    row by row).
    """

    ids: tuple[str, ...]
    books: tuple[str, ...]
    amounts: Floats
    amount_units: tuple[str, ...]
    factors: tuple[RiskFactor, ...]
    unit: sparse.csr_array
    mwh: sparse.csr_array

    @property
    def total(self) -> Floats:
        """The portfolio's exposure to each factor (MWh, summed over positions)."""
        return np.asarray(self.mwh.sum(axis=0), dtype=np.float64).reshape(-1)

    @property
    def exposed(self) -> tuple[RiskFactor, ...]:
        """The factors some position has a non-zero exposure to (per unit amount), in column order."""
        used = np.unique(self.unit.tocoo().col[self.unit.tocoo().data != 0])
        return tuple(self.factors[int(j)] for j in used)

    def on(self, factors: Sequence[RiskFactor], *, per_unit: bool = False) -> Floats:
        """Dense exposures (positions x `factors`, MWh; per unit amount if `per_unit`).

        Raises UnknownFactor when a position is exposed to a factor not among
        `factors` (the book was measured on other factors).
        """
        where = {f: j for j, f in enumerate(self.factors)}
        unknown = [f.label for f in factors if f not in where]
        if unknown:
            raise UnknownFactor(f"the exposures have no factor(s) {', '.join(unknown)}")
        left_out = set(self.exposed) - set(factors)
        if left_out:
            names = ", ".join(sorted(f.label for f in left_out))
            raise UnknownFactor(
                f"positions are exposed to factor(s) {names}, which the measure does not cover"
            )
        matrix = self.unit if per_unit else self.mwh
        dense: Floats = matrix[:, [where[f] for f in factors]].toarray()
        return dense

    def total_on(self, factors: Sequence[RiskFactor]) -> Floats:
        """The portfolio's exposure (MWh) to each of `factors`; UnknownFactor for one it does not have."""
        where = {f: j for j, f in enumerate(self.factors)}
        missing = [f.label for f in factors if f not in where]
        if missing:
            raise UnknownFactor(f"the exposures have no factor(s) {', '.join(missing)}")
        result: Floats = self.total[[where[f] for f in factors]]
        return result

    def frame(self) -> pl.DataFrame:
        """Non-zero exposures as rows: id, book, factor (label), mwh."""
        coo = self.mwh.tocoo()
        return pl.DataFrame(
            {
                "id": [self.ids[i] for i in coo.row],
                "book": [self.books[i] for i in coo.row],
                "factor": [self.factors[j].label for j in coo.col],
                "mwh": np.asarray(coo.data, dtype=np.float64),
            }
        )


def exposures(
    portfolio: Portfolio,
    factors: Sequence[RiskFactor],
    *,
    as_of: date | None = None,
    monthly: Collection[str] | None = None,
) -> ExposureMatrix:
    """Each position's exposure (MWh, $ per $/MWh) to each of `factors`, from `as_of` (market day) on.

    Buckets map to factors by the rule of the module docstring; `monthly`
    names the positions (ids) that may map onto monthly factors (None:
    every position), the others map onto spot factors only. Raises
    UnknownFactor listing positions whose hub, node, month or block no
    factor covers.
    """
    factors = tuple(factors)
    resolver = _Resolver(factors)
    rows: list[Codes] = []
    cols: list[Codes] = []
    values: list[Floats] = []
    problems: list[str] = []
    for i, position in enumerate(portfolio.positions):
        tenors = monthly is None or position.id in monthly
        for bucket in buckets(position, as_of):
            columns = np.empty(len(bucket.mwh), dtype=np.int64)
            for k, (month, base) in enumerate(zip(bucket.month.tolist(), bucket.base.tolist(), strict=True)):
                col = resolver.column(position.iso, bucket.location, month, base, tenors)
                if col is None:
                    problems.append(resolver.problem(position, bucket.location, month, base))
                    col = -1
                columns[k] = col
            rows.append(np.full(len(columns), i, dtype=np.int64))
            cols.append(columns)
            values.append(bucket.mwh)
    if problems:
        unique = list(dict.fromkeys(problems))
        more = f"; and {len(unique) - _MAX_REPORTED} more" if len(unique) > _MAX_REPORTED else ""
        raise UnknownFactor("; ".join(unique[:_MAX_REPORTED]) + more)
    shape = (len(portfolio.positions), len(factors))
    row_index = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    col_index = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    value = np.concatenate(values) if values else np.zeros(0)
    unit = sparse.csr_array((value, (row_index, col_index)), shape=shape)
    unit.sum_duplicates()
    amounts = np.array([p.amount for p in portfolio.positions], dtype=np.float64)
    mwh = sparse.csr_array(sparse.diags_array(amounts) @ unit)
    return ExposureMatrix(
        ids=portfolio.ids,
        books=tuple(p.book for p in portfolio.positions),
        amounts=amounts,
        amount_units=tuple(p.amount_unit for p in portfolio.positions),
        factors=factors,
        unit=unit,
        mwh=mwh,
    )


def portfolio_factors(
    portfolio: Portfolio, *, as_of: date | None = None, blocks: Sequence[Block] = BASE_BLOCKS
) -> tuple[RiskFactor, ...]:
    """The monthly factors the portfolio's delivery touches from `as_of` on, at the granularity of `blocks`.

    Each bucket's hours go to the finest of `blocks` containing them
    (default: the base blocks onpeak, 2x16, 7x8; `(Block.ATC,)` for one
    factor per location and month). What history to load for a book, and
    the universe a stress's shock rules apply to. Sorted by ISO, location,
    month, block. Raises RiskError when `blocks` leaves some hours out.
    """
    chosen = set(blocks)
    found: set[RiskFactor] = set()
    for position in portfolio.positions:
        for bucket in buckets(position, as_of):
            for month, base in set(zip(bucket.month.tolist(), bucket.base.tolist(), strict=True)):
                block = next((b for b in _CONTAINING[base] if b in chosen), None)
                if block is None:
                    held = BASE_BLOCKS[base].value
                    raise RiskError(f"blocks: none of {sorted(b.value for b in chosen)} holds {held} hours")
                found.add(RiskFactor(position.iso, bucket.location, block, month_of(month)))
    order = {b: i for i, b in enumerate(Block)}
    return tuple(sorted(found, key=lambda f: (f.iso, f.location, f.month or date.min, order[f.block])))
