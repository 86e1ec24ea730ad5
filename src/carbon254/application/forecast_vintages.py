"""Backtests from the store that cannot look ahead: each test day's history read as it was known then.

`StoreVintages` is a `forecast.BacktestData` over a location's stored DAM
prices. Its scoring prices are those known at the backtest's `as_of`;
`known_at(d)` reads the `window_days` days before day d again with
`as_of` = the moment day d was forecast (`application.forecast.issued_at`),
so a price published or revised after that moment never reaches that
day's forecast, while the backtest still scores against the final prices.
A read is a few milliseconds, and the harness asks for a day's history
twice at most (fit and forecast), so the last few are remembered.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from carbon254.application.forecast import dayahead_data, history_for, issued_at
from carbon254.forecast import DayAheadData, History
from carbon254.forecast.days import Days, Floats, Mask
from carbon254.isos import ISOS, Iso
from carbon254.schema import Dataset
from carbon254.store.base import Store

REMEMBERED = 4


def local_midnight(iso: str, day: date) -> datetime:
    """The start (aware, market time) of `day` on the ISO's clock."""
    return datetime.combine(day, time(0), ISOS[Iso(iso)].zoneinfo)


def read_dayahead(
    store: Store, iso: str, location: str, first: date, stop: date, as_of: datetime | None
) -> DayAheadData:
    """The location's DAM prices of market days `first` to `stop` (exclusive) as known at `as_of`."""
    rows = store.read(
        Dataset.LMP,
        iso,
        "DAM",
        [location],
        local_midnight(iso, first),
        local_midnight(iso, stop),
        as_of=as_of,
    )
    return dayahead_data(rows, location, iso)


@dataclass
class StoreVintages:
    """A location's DAM history for backtests: final prices to score, and each day's vintage to forecast.

    `final` holds the prices known at the backtest's `as_of`; `window_days`
    is how many days before a test day its vintage reads (the model's
    training window).
    """

    store: Store
    iso: str
    location: str
    final: DayAheadData
    window_days: int
    _remembered: OrderedDict[int, History] = field(default_factory=OrderedDict, repr=False)

    @property
    def days(self) -> Days:
        """The delivery days of `final`."""
        return self.final.days

    @property
    def prices(self) -> Floats:
        """The final prices, $/MWh (days, 24)."""
        return self.final.prices

    @property
    def observed(self) -> Mask:
        """Which final prices were published rather than filled in."""
        return self.final.observed

    def known_at(self, d: int) -> History:
        """Day index `d`'s history: the `window_days` days before it, as known when it was forecast."""
        if d in self._remembered:
            return self._remembered[d]
        day = date.fromisoformat(str(np.datetime64(self.final.days[d], "D")))
        data = read_dayahead(
            self.store,
            self.iso,
            self.location,
            day - timedelta(days=self.window_days),
            day,
            issued_at(self.iso, day),
        )
        history = history_for(data, day)
        self._remembered[d] = history
        if len(self._remembered) > REMEMBERED:
            self._remembered.popitem(last=False)
        return history
