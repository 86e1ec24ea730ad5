"""Rolling VaR forecasts from a P&L history: what each day's VaR was, knowing only the days before it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from carbon254.risk.errors import MissingHistory, RiskError
from carbon254.risk.tail import check_confidence, tails

Floats = npt.NDArray[np.float64]


def rolling_var(pnl: Floats, window: int, confidence: float) -> tuple[Floats, Floats]:
    """Historical-simulation VaR and ES ($) of each day from the `window` P&L days before it.

    Day t's forecast uses days t - window .. t - 1 only (no look-ahead), so
    forecasts start at day `window`: the result has len(pnl) - window
    values each, aligned with pnl[window:]. Estimators of
    `carbon254.risk.tail` (equal weights). Raises MissingHistory when the
    series is not longer than the window.
    """
    values = np.asarray(pnl, dtype=np.float64)
    c = check_confidence(confidence)
    if values.ndim != 1 or not np.isfinite(values).all():
        raise RiskError("pnl: need a series of finite P&L values")
    if window < 2:
        raise RiskError(f"window: need at least 2 days, got {window}")
    if len(values) <= window:
        raise MissingHistory(f"window: {window} days leave no day to forecast in a series of {len(values)}")
    windows = sliding_window_view(values[:-1], window)
    var, es = tails(windows.T, c)
    return var, es
