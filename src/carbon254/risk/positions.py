"""The portfolio model: positions of four kinds, each in a book of a hierarchy, and the portfolio.

Every position has an `id` (unique in its portfolio) and a `book` path such
as `Power/East/Forwards`, whose prefixes (`Power`, `Power/East`) are the
nodes risk is aggregated over. Quantities are MW (signed: long positive)
or MWh; prices $/MWh; delivery months are first-of-month dates in the ISO's
market time, `end` inclusive. Each position has an `amount` (its size in
`amount_unit`), the quantity its exposure is linear in: marginal VaR is
per unit of it.

- `ForwardPosition`: a hub forward or future, `mw` of `block` hours in
  every month from `start` to `end` at `price`.
- `LoadObligation`: serving load of `volume_mwh` over the months, spread
  over hours by a 24-hour `shape` (hour-ending 1-24): short, negative MW.
- `BasisPosition`: `mw` of node minus hub (long the node, short the hub).
- `HourlyPosition`: expected MW per interval from a PPA or battery engine.
- `PpaPosition` and `BatteryPosition`: a PPA (contract, plant, term) or a
  battery (MW, MWh, term) as stored in a position file; their hourly
  positions come from the PPA and battery engines
  (`carbon254.risk.engines`), which the exposures are measured on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from carbon254.battery.schedule import Schedule
from carbon254.ppa.contracts import Contract
from carbon254.risk.errors import EmptyPortfolio, PositionError, RiskError
from carbon254.risk.factors import normalize_iso
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]
Stamps = npt.NDArray[np.int64]

FLAT_SHAPE = (1.0,) * 24


def book_path(book: str) -> str:
    """`book` with its parts stripped (`Power / East` -> `Power/East`); PositionError if any part is empty."""
    parts = [p.strip() for p in book.split("/")]
    if not all(parts):
        raise PositionError("book", f"{book!r} is not a path like Power/East/Forwards (an empty part)")
    return "/".join(parts)


def book_ancestors(book: str) -> tuple[str, ...]:
    """The nodes a book path rolls up into, root first: `""` (the portfolio), `A`, `A/B`, ... `book`."""
    parts = book.split("/")
    return ("", *("/".join(parts[: i + 1]) for i in range(len(parts))))


def book_nodes(books: Iterable[str]) -> tuple[str, ...]:
    """Every node the book paths roll up into, parents before children: `""` (the portfolio) first."""
    found: dict[str, None] = {}
    for book in books:
        found.update(dict.fromkeys(book_ancestors(book)))
    return tuple(sorted(found, key=lambda n: (0 if n == "" else n.count("/") + 1, n)))


def _set_identity(position: object) -> None:
    """Check a frozen position's `id`, `book` and `iso` and store them normalised (trimmed id, book
    path, ISO as the registry names it)."""
    position_id, book, iso = (getattr(position, name) for name in ("id", "book", "iso"))
    if not position_id.strip():
        raise PositionError("id", "must not be empty")
    try:
        stored = normalize_iso(iso)
    except RiskError as error:
        raise PositionError("iso", str(error)) from None
    object.__setattr__(position, "id", position_id.strip())
    object.__setattr__(position, "book", book_path(book))
    object.__setattr__(position, "iso", stored)


def _location(name: str, value: str) -> str:
    if not value.strip():
        raise PositionError(name, "must not be empty")
    return value.strip()


def _months(start: date, end: date) -> None:
    for name, month in (("start", start), ("end", end)):
        if month.day != 1:
            raise PositionError(name, f"{month} must be the first of a delivery month")
    if end < start:
        raise PositionError("end", f"{end:%Y-%m} is before start {start:%Y-%m}")


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise PositionError(name, f"must be a finite number, got {value!r}")


@dataclass(frozen=True, slots=True)
class ForwardPosition:
    """`mw` (long positive) of `hub`'s `block` power each month `start`..`end` (inclusive) at `price` $/MWh.

    The price is the trade's: it sets the position's mark-to-market, not
    its risk (the P&L of a price move is MW x hours x move whatever it is).
    """

    id: str
    book: str
    iso: str
    hub: str
    block: Block
    start: date
    end: date
    mw: float
    price: float = 0.0

    def __post_init__(self) -> None:
        _set_identity(self)
        object.__setattr__(self, "hub", _location("hub", self.hub))
        _months(self.start, self.end)
        _finite("mw", self.mw)
        _finite("price", self.price)

    @property
    def amount(self) -> float:
        """The position's size: MW."""
        return self.mw

    @property
    def amount_unit(self) -> str:
        return "MW"


@dataclass(frozen=True, slots=True)
class LoadObligation:
    """Serving `volume_mwh` of load at `location` over months `start`..`end`, hour by hour per `shape`.

    `shape` holds 24 non-negative weights for hour-ending 1..24 in market
    time (flat by default): the load in an hour is `volume_mwh` x its
    weight / the sum of the weights of every hour of the period (a DST day's
    repeated hour counts twice, its skipped hour not at all). An obligation
    to serve is short power: its MW are negative.
    """

    id: str
    book: str
    iso: str
    location: str
    start: date
    end: date
    volume_mwh: float
    shape: tuple[float, ...] = FLAT_SHAPE

    def __post_init__(self) -> None:
        _set_identity(self)
        object.__setattr__(self, "location", _location("location", self.location))
        _months(self.start, self.end)
        _finite("volume_mwh", self.volume_mwh)
        if self.volume_mwh < 0:
            raise PositionError(
                "volume_mwh", f"must not be negative (load is short by definition), got {self.volume_mwh}"
            )
        shape = tuple(float(w) for w in self.shape)
        if len(shape) != 24:
            raise PositionError("shape", f"needs 24 hourly weights (hour-ending 1-24), got {len(shape)}")
        if not all(math.isfinite(w) and w >= 0 for w in shape) or sum(shape) <= 0:
            raise PositionError("shape", "weights must be finite, non-negative and not all zero")
        object.__setattr__(self, "shape", shape)

    @property
    def amount(self) -> float:
        """The position's size: MWh of load served."""
        return self.volume_mwh

    @property
    def amount_unit(self) -> str:
        return "MWh"


@dataclass(frozen=True, slots=True)
class BasisPosition:
    """`mw` of `node` minus `hub` in `block` hours of months `start`..`end`: long the node, short the hub.

    `price` is the basis the trade was done at ($/MWh, node minus hub).
    """

    id: str
    book: str
    iso: str
    node: str
    hub: str
    block: Block
    start: date
    end: date
    mw: float
    price: float = 0.0

    def __post_init__(self) -> None:
        _set_identity(self)
        object.__setattr__(self, "node", _location("node", self.node))
        object.__setattr__(self, "hub", _location("hub", self.hub))
        if self.node == self.hub:
            raise PositionError("node", f"{self.node} is the hub itself: a basis needs two locations")
        _months(self.start, self.end)
        _finite("mw", self.mw)
        _finite("price", self.price)

    @property
    def amount(self) -> float:
        """The position's size: MW."""
        return self.mw

    @property
    def amount_unit(self) -> str:
        return "MW"


@dataclass(frozen=True, slots=True, eq=False)
class HourlyPosition:
    """Expected MW at `location` per interval (long positive): a PPA's generation, a battery's dispatch.

    `starts` are the intervals' UTC starts (int64 µs, increasing), each
    lasting `interval_hours`. Its amount is the profile's scale (1 as given).
    """

    id: str
    book: str
    iso: str
    location: str
    starts: Stamps
    mw: Floats
    interval_hours: float = 1.0

    def __post_init__(self) -> None:
        _set_identity(self)
        object.__setattr__(self, "location", _location("location", self.location))
        starts = np.asarray(self.starts, dtype=np.int64)
        mw = np.asarray(self.mw, dtype=np.float64)
        if starts.ndim != 1 or mw.shape != starts.shape:
            raise PositionError("mw", f"{mw.shape} values for {starts.shape} interval starts")
        if len(starts) == 0:
            raise PositionError("starts", "no intervals")
        if (np.diff(starts) <= 0).any():
            raise PositionError("starts", "interval starts must increase")
        if not np.isfinite(mw).all():
            raise PositionError("mw", "every value must be finite")
        if not (math.isfinite(self.interval_hours) and self.interval_hours > 0):
            raise PositionError("interval_hours", f"must be positive, got {self.interval_hours!r}")
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "mw", mw)

    @property
    def amount(self) -> float:
        """The position's size: the scale of its profile (1 as given)."""
        return 1.0

    @property
    def amount_unit(self) -> str:
        return "profile"


def position_from_schedule(id: str, book: str, iso: str, location: str, schedule: Schedule) -> HourlyPosition:
    """A battery schedule as an hourly position: net discharge (discharge - charge, MW) per interval.

    Discharging sells at the location's price, charging buys: the schedule
    is long its net discharge.
    """
    return HourlyPosition(
        id,
        book,
        iso,
        location,
        np.asarray(schedule.interval_start, dtype=np.int64),
        np.asarray(schedule.discharge_mw - schedule.charge_mw, dtype=np.float64),
        schedule.interval_hours,
    )


@dataclass(frozen=True, slots=True)
class PpaPosition:
    """A PPA settling at `location` (hub or node) over months `start`..`end` on a `technology` plant.

    `contract` is the PPA engine's (`carbon254.ppa`: fixed, collar,
    index_plus, floating_discount; $/MWh); `capacity_mw` the plant's AC
    capacity, `technology` solar (pvlib at the ISO's representative site)
    or flat (the capacity every hour); `side` buyer (the offtaker: long the
    market price under a virtual fixed price) or seller.
    """

    id: str
    book: str
    iso: str
    location: str
    start: date
    end: date
    capacity_mw: float
    contract: Contract
    technology: str = "solar"
    side: str = "buyer"

    def __post_init__(self) -> None:
        _set_identity(self)
        object.__setattr__(self, "location", _location("location", self.location))
        _months(self.start, self.end)
        _finite("capacity_mw", self.capacity_mw)
        if self.capacity_mw <= 0:
            raise PositionError("capacity_mw", f"must be positive, got {self.capacity_mw}")
        if self.technology not in PPA_TECHNOLOGIES:
            raise PositionError(
                "technology", f"{self.technology!r} is not one of {', '.join(PPA_TECHNOLOGIES)}"
            )
        if self.side not in PPA_SIDES:
            raise PositionError("side", f"{self.side!r} is not one of {', '.join(PPA_SIDES)}")

    @property
    def amount(self) -> float:
        """The position's size: MW of plant capacity."""
        return self.capacity_mw

    @property
    def amount_unit(self) -> str:
        return "MW"


@dataclass(frozen=True, slots=True)
class BatteryPosition:
    """A battery of `power_mw` and `energy_mwh` at `location` (a node), operated months `start`..`end`.

    Its hourly position is the battery engine's arbitrage schedule against
    the location's typical day of prices (`carbon254.risk.engines`).
    """

    id: str
    book: str
    iso: str
    location: str
    start: date
    end: date
    power_mw: float
    energy_mwh: float

    def __post_init__(self) -> None:
        _set_identity(self)
        object.__setattr__(self, "location", _location("location", self.location))
        _months(self.start, self.end)
        for name in ("power_mw", "energy_mwh"):
            value = getattr(self, name)
            _finite(name, value)
            if value <= 0:
                raise PositionError(name, f"must be positive, got {value}")

    @property
    def amount(self) -> float:
        """The position's size: MW of power."""
        return self.power_mw

    @property
    def amount_unit(self) -> str:
        return "MW"


PPA_TECHNOLOGIES = ("solar", "flat")
PPA_SIDES = ("buyer", "seller")

Position = ForwardPosition | LoadObligation | BasisPosition | HourlyPosition | PpaPosition | BatteryPosition
EngineSpec = PpaPosition | BatteryPosition


@dataclass(frozen=True, slots=True)
class Portfolio:
    """A named set of positions; ids are unique. Raises EmptyPortfolio when there are none."""

    name: str
    positions: tuple[Position, ...]

    def __post_init__(self) -> None:
        positions = tuple(self.positions)
        if not positions:
            raise EmptyPortfolio(f"portfolio {self.name!r} has no positions")
        seen: set[str] = set()
        for p in positions:
            if p.id in seen:
                raise RiskError(f"portfolio {self.name!r}: position id {p.id!r} appears twice")
            seen.add(p.id)
        object.__setattr__(self, "positions", positions)

    @property
    def ids(self) -> tuple[str, ...]:
        """The positions' ids, in order."""
        return tuple(p.id for p in self.positions)

    @property
    def books(self) -> tuple[str, ...]:
        """Every node of the book hierarchy, parents before children: `""` (the whole portfolio) first."""
        return book_nodes(p.book for p in self.positions)

    def replaced(self, positions: Sequence[Position]) -> Portfolio:
        """The same portfolio with each position whose id is in `positions` replaced by it (same order)."""
        by_id = {p.id: p for p in positions}
        return Portfolio(self.name, tuple(by_id.get(p.id, p) for p in self.positions))

    def subset(self, ids: Sequence[str]) -> Portfolio:
        """The positions with `ids`, in this portfolio's order; RiskError for ids it does not have."""
        wanted = set(ids)
        unknown = wanted - set(self.ids)
        if unknown:
            raise RiskError(f"portfolio {self.name!r} has no position(s) {', '.join(sorted(unknown))}")
        return Portfolio(self.name, tuple(p for p in self.positions if p.id in wanted))
