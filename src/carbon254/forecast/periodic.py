"""A model refitted on a fixed weekly (or any) schedule while its forecasts still use each day's lags.

Trees take seconds to train where LEAR takes a fraction of one, so the
best model refits LEAR every day and its trees every week. `Periodic` makes
that a property of the model, not of the backtest: `fit` for any target day
trains on the prices before the latest anchor day (a day whose number since
1970-01-01 is a multiple of `every_days`), so every day between two anchors
gets the same fit, whichever process asks. Fits are remembered per process
(keyed by the model, seed, anchor and a digest of the data it saw), so a
daily backtest trains once a week; the result is the same as refitting.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from carbon254.forecast.days import History
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.protocol import FittedForecaster, Forecaster

_REMEMBERED = 8
_fits: OrderedDict[tuple[object, ...], FittedForecaster] = OrderedDict()


def _digest(history: History) -> str:
    """A digest of everything a fit can see, so two datasets never share a remembered fit."""
    h = hashlib.blake2b(digest_size=16)
    h.update(history.days.astype("datetime64[D]").astype(np.int64).tobytes())
    h.update(np.ascontiguousarray(history.prices).tobytes())
    h.update(np.ascontiguousarray(history.exogenous).tobytes())
    h.update("\0".join(history.exogenous_names).encode())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Periodic:
    """`model` refitted every `every_days` days (on the anchor days; see the module docstring)."""

    model: Forecaster
    every_days: int = 7

    def __post_init__(self) -> None:
        if self.every_days < 1:
            raise ForecastError(f"every_days: {self.every_days}; need at least 1")

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self.model.name

    @property
    def min_history_days(self) -> int:
        """The wrapped model's needs, counted back from the anchor day (up to `every_days` - 1 earlier)."""
        return self.model.min_history_days + self.every_days - 1

    def fit(self, history: History, seed: int = 0) -> FittedForecaster:
        """The wrapped model fitted on the prices before the latest anchor day (remembered per process)."""
        behind = int(history.target_day.astype(np.int64)) % self.every_days
        anchor = history.n_days - behind
        if anchor < self.model.min_history_days:
            raise ForecastError(
                f"history: {self.name} refitted every {self.every_days} days needs "
                f"{self.min_history_days} days of prices, got {history.n_days}"
            )
        known = history.truncated(anchor)
        key = (self.model, seed, _digest(known))
        fitted = _fits.get(key)
        if fitted is None:
            fitted = self.model.fit(known, seed)
            _fits[key] = fitted
            while len(_fits) > _REMEMBERED:
                _fits.popitem(last=False)
        else:
            _fits.move_to_end(key)
        return fitted
